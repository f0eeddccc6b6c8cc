"""A corpus of bad bundles: each is refused by `sync` with one clear line, and nothing changes
(current, previous and every version folder are byte-identical before and after)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.content import bundle, keys
from kiosk.content.sync import current_version, sync
from kiosk.content.unpack import Limits, write_archive
from kiosk.errors import ContentError
from kiosk.paths import DataDir
from kiosk.testing import HashingEncoder
from tests.packs import FAQ, make_pack

ENC = HashingEncoder()
KEY = (ENC.model_id, ENC.sha256)
LIMITS = Limits.mb(2, 5)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two signed bundles (v0 installed first, v1 to break) and the key that signed them."""
    root = tmp_path_factory.mktemp("corpus")
    keys.generate(root / "curators")
    keys.generate(root / "stranger")
    for n in range(2):
        pack = make_pack(root / f"pack{n}", {"faq.yaml": FAQ.replace("ground", f"floor {n}")})
        bundle.build(pack, root / f"bundle{n}", ENC, sign=root / "curators.key")
    return root


@pytest.fixture
def kiosk(corpus: Path, tmp_path: Path) -> DataDir:
    data = DataDir(tmp_path / "data")
    sync(data, corpus / "bundle0", *KEY, trusted=trusted(corpus))
    return data


def trusted(corpus: Path) -> keys.Trusted:
    return keys.trusted_keys(str(corpus / "curators.pub"))


def snapshot(data: DataDir) -> dict[str, str]:
    """Every entry under versions/: link targets and file hashes."""
    out = {}
    for top, dirs, names in os.walk(data.versions):
        for name in [*dirs, *names]:
            path = Path(top) / name
            rel = path.relative_to(data.versions).as_posix()
            if path.is_symlink():
                out[rel] = "-> " + os.readlink(path)
            elif path.is_file():
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                out[rel] = "dir"
    return out


def manifest_of(b: Path) -> dict[str, object]:
    return json.loads((b / "manifest.json").read_text())  # type: ignore[no-any-return]


def rewrite(b: Path, manifest: dict[str, object], key: Path | None) -> None:
    """Write ``manifest`` and sign it again (a curator's mistake, not an attacker's)."""
    (b / "manifest.json").write_text(json.dumps(manifest))
    if key is not None:
        (b / "signature.json").write_text(json.dumps(keys.sign(manifest,
                                                               keys.load_private(key))))


def tar_with(b: Path, out: Path, extra: Callable[[tarfile.TarFile], None],
             mode: str = "w") -> Path:
    with tarfile.open(out, mode) as tf:  # type: ignore[call-overload]
        for rel in sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()):
            tf.add(b / rel, rel)
        extra(tf)
    return out


def member(name: str, data: bytes = b"x", kind: bytes = tarfile.REGTYPE,
           link: str = "") -> Callable[[tarfile.TarFile], None]:
    def add(tf: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, link
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        tf.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return add


class Zeros(io.RawIOBase):
    """``size`` zero bytes, without holding them in memory."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray) -> int:  # type: ignore[override]
        n = min(len(buf), self.left)
        buf[:n] = b"\0" * n
        self.left -= n
        return n


def make_bad(how: str, corpus: Path, work: Path) -> Path:
    """A broken copy of bundle1 (a folder or an archive) in ``work``."""
    b = work / "bundle"
    shutil.copytree(corpus / "bundle1", b)
    key = corpus / "curators.key"
    m = manifest_of(b)
    files = m["files"]
    assert isinstance(files, dict)
    if how == "tampered file":
        (b / "content.json").write_text((b / "content.json").read_text().replace("floor", "roof"))
    elif how == "missing file":
        (b / "vectors.npy").unlink()
    elif how == "extra file":
        (b / "images" / "evil.png").write_bytes(b"x")
    elif how == "wrong hash":
        files["vectors.npy"] = "0" * 64
        rewrite(b, m, key)
    elif how == "bad signature":
        m["museum"] = "Another museum"  # changed after signing
        (b / "manifest.json").write_text(json.dumps(m))
    elif how == "absent signature":
        (b / "signature.json").unlink()
    elif how == "unknown key":
        rewrite(b, m, corpus / "stranger.key")
    elif how == "wrong format version":
        m["format_version"] = 3
        rewrite(b, m, key)
    elif how == "wrong encoder id":
        m["encoder"] = {"id": "use-multilingual-v3-int8", "sha256": "f" * 64}
        rewrite(b, m, key)
    elif how == "schema error in the records":
        db = json.loads((b / "content.json").read_text())
        db["exhibits"]["1"]["title"] = ["not", "a", "mapping"]
        (b / "content.json").write_text(json.dumps(db))
        files["content.json"] = bundle.sha256_file(b / "content.json")
        rewrite(b, m, key)
    elif how == "../ path":
        return tar_with(b, work / "b.tar", member("../escaped.txt"))
    elif how == "absolute path":
        return tar_with(b, work / "b.tar", member("/tmp/kiosk-absolute.txt"))
    elif how == "symlink in a folder":
        (b / "images" / "the-milkmaid.png").unlink()
        (b / "images" / "the-milkmaid.png").symlink_to("/etc/passwd")
    elif how == "symlink in an archive":
        return tar_with(b, work / "b.tar", member("images/x.png", kind=tarfile.SYMTYPE,
                                                  link="/etc/passwd"))
    elif how == "hard link in an archive":
        return tar_with(b, work / "b.tar", member("images/x.png", kind=tarfile.LNKTYPE,
                                                  link="content.json"))
    elif how == "fifo in a folder":
        os.mkfifo(b / "images" / "pipe")
    elif how == "device in an archive":
        return tar_with(b, work / "b.tar", member("images/dev", kind=tarfile.CHRTYPE))
    elif how == "oversize file":
        (b / "images" / "the-milkmaid.png").write_bytes(b"\0" * (3 << 20))
        files["images/the-milkmaid.png"] = bundle.sha256_file(b / "images/the-milkmaid.png")
        rewrite(b, m, key)
    elif how == "archive bomb (zip)":
        out = work / "b.zip"
        write_archive(b, out)
        with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as zf, \
                zf.open("images/bomb.png", "w", force_zip64=True) as fh:
            for _ in range(64):
                fh.write(b"\0" * (1 << 20))
        return out
    elif how == "archive bomb (tar.gz)":
        def bomb(tf: tarfile.TarFile) -> None:
            info = tarfile.TarInfo("images/bomb.png")
            info.size = 64 << 20
            tf.addfile(info, io.BufferedReader(Zeros(info.size)))
        return tar_with(b, work / "b.tar.gz", bomb, "w:gz")
    elif how == "total too large":
        for n in range(4):
            rel = f"images/big{n}.png"
            (b / rel).write_bytes(os.urandom(3 << 19))  # 1.5 MB each, 6 MB in all
            files[rel] = bundle.sha256_file(b / rel)
        rewrite(b, m, key)
    else:
        raise AssertionError(how)
    return b


CASES = {
    "tampered file": "content.json does not match its sha256 — the bundle is damaged",
    "missing file": "vectors.npy is missing — the bundle is incomplete",
    "extra file": "images/evil.png is not in the manifest",
    "wrong hash": "vectors.npy does not match its sha256",
    "bad signature": "the signature does not match the manifest — the bundle was changed after",
    "absent signature": "not signed, and this kiosk only accepts signed bundles — build it with "
                        "`kiosk content build --sign KEY.key`",
    "unknown key": "which this kiosk does not trust — sign it with a trusted key or add its .pub",
    "wrong format version": "content format kiosk-bundle 3, this kiosk reads format "
                            "kiosk-bundle 2",
    "wrong encoder id": "was built with encoder use-multilingual-v3-int8, this kiosk uses "
                        "hashing-test-encoder — rebuild it",
    "schema error in the records": "content.json: exhibits[0] title: ['not', 'a', 'mapping'] is "
                                   "not of type 'object' — the records do not match the content "
                                   "schema",
    "../ path": "member '../escaped.txt' points outside the bundle (absolute or ../ path)",
    "absolute path": "member '/tmp/kiosk-absolute.txt' points outside the bundle",
    "symlink in a folder": "images/the-milkmaid.png is a symbolic link — a bundle holds only "
                           "plain files",
    "symlink in an archive": "member images/x.png is a link — a bundle holds only plain files",
    "hard link in an archive": "member images/x.png is a link",
    "fifo in a folder": "images/pipe is not a plain file (a device, fifo or socket) — refused",
    "device in an archive": "member images/dev is not a plain file (a device, fifo or sparse "
                            "file) — refused",
    "oversize file": "images/the-milkmaid.png is 3.0 MB, over the 2 MB a bundle file may be "
                     "([content] max_file_mb)",
    "archive bomb (zip)": "member images/bomb.png expands",
    "archive bomb (tar.gz)": "images/bomb.png is 64.0 MB, over the 2 MB",
    "total too large": "more than 5 MB in all ([content] max_total_mb) — make the bundle smaller",
}


@pytest.mark.parametrize("how", list(CASES))
def test_a_bad_bundle_is_refused_and_changes_nothing(kiosk: DataDir, corpus: Path,
                                                     tmp_path: Path, how: str) -> None:
    bad = make_bad(how, corpus, tmp_path / "work")
    before = snapshot(kiosk)
    with pytest.raises(ContentError) as caught:
        sync(kiosk, bad, *KEY, trusted=trusted(corpus), limits=LIMITS)
    message = str(caught.value)
    assert CASES[how] in message
    assert "\n" not in message and message.startswith(str(bad))  # one line, names the source
    assert snapshot(kiosk) == before
    assert not Path("/tmp/kiosk-absolute.txt").exists()
    assert not (tmp_path / "work" / "escaped.txt").exists()
    assert not (kiosk.versions / "escaped.txt").exists()


def test_a_lying_zip_header_is_caught_while_counting(kiosk: DataDir, corpus: Path,
                                                     tmp_path: Path) -> None:
    """A zip whose directory declares a tiny file that holds megabytes is cut off."""
    out = write_archive(corpus / "bundle1", tmp_path / "b.zip")
    raw = bytearray(out.read_bytes())
    with zipfile.ZipFile(out) as zf:
        info = zf.getinfo("content.json")
    size = info.file_size.to_bytes(4, "little")
    assert raw.count(size) >= 2
    raw = raw.replace(size, (10).to_bytes(4, "little"))  # local header and central directory
    out.write_bytes(bytes(raw))
    before = snapshot(kiosk)
    with pytest.raises(ContentError) as caught:
        sync(kiosk, out, *KEY, trusted=trusted(corpus), limits=LIMITS)
    assert str(caught.value).startswith(str(out)) and "\n" not in str(caught.value)
    assert snapshot(kiosk) == before


def test_a_folder_of_bad_bundles_is_refused_as_a_whole(kiosk: DataDir, corpus: Path,
                                                       tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    lines: list[str] = []
    for how in ("tampered file", "unknown key", "../ path"):
        bad = make_bad(how, corpus, tmp_path / how.replace("/", "_"))
        bad.rename(usb / f"{how.replace('/', '_').replace(' ', '-')}{''.join(bad.suffixes)}")
    before = snapshot(kiosk)
    with pytest.raises(ContentError, match=r"usb: no valid bundle \(3 looked at, see above\)"):
        sync(kiosk, usb, *KEY, trusted=trusted(corpus), limits=LIMITS, report=lines.append)
    assert len(lines) == 3 and all(line.startswith(f"skipped: {usb}/") for line in lines)
    assert snapshot(kiosk) == before
    assert current_version(kiosk) == bundle.read_manifest(corpus / "bundle0")["id"]
