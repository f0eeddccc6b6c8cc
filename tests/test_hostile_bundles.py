"""Bundles whose hashes and signature hold but whose records do not, bundles that break the
reader, and dates from the future: a sync refuses each in one line and changes nothing, one bad
bundle never stops a good one beside it, and a kiosk whose current version cannot answer boots
on the previous one."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiosk.content import bundle, keys
from kiosk.content.sync import current_version, sync
from kiosk.doctor.check import WARN, Probe
from kiosk.doctor.selftest import check_content
from kiosk.errors import ContentError, SettingsError
from kiosk.paths import DataDir
from kiosk.runtime import default_content, open_answerer, probe_content
from kiosk.settings import Settings, load_settings
from kiosk.testing import HashingEncoder
from tests.children import lines_of
from tests.conftest import DEMO
from tests.packs import FAQ, make_pack
from tests.test_bad_bundles import snapshot

ENC = HashingEncoder()
KEY = (ENC.model_id, ENC.sha256)


def probe(path: Path) -> None:
    probe_content(path, ENC, Settings())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    keys.generate(root / "curators")
    for n in range(2):
        pack = make_pack(root / f"pack{n}", {"faq.yaml": FAQ.replace("ground", f"floor {n}")})
        bundle.build(pack, root / f"bundle{n}", ENC, sign=root / "curators.key")
    return root


def trusted(corpus: Path) -> keys.Trusted:
    return keys.trusted_keys(str(corpus / "curators.pub"))


@pytest.fixture
def kiosk(corpus: Path, tmp_path: Path) -> DataDir:
    data = DataDir(tmp_path / "data")
    sync(data, corpus / "bundle0", *KEY, trusted=trusted(corpus), probe=probe)
    return data


def resign(b: Path, key: Path) -> None:
    """Hash every file again and sign: the bundle is consistent to the byte, its records not."""
    m = json.loads((b / "manifest.json").read_text())
    m["files"] = {rel: bundle.sha256_file(b / rel) for rel in m["files"]}
    (b / "manifest.json").write_text(json.dumps(m))
    (b / "signature.json").write_text(json.dumps(keys.sign(m, keys.load_private(key))))


def break_records(b: Path, how: str, key: Path) -> Path:
    db = json.loads((b / "content.json").read_text())
    units = db["units"]
    if how == "a text pointing past its work's Q&A":
        doc = next(d for d in units.values() if d["kind"] == "qa")
        doc["item"] = 99
    elif how == "a practical text naming a work":
        doc = next(d for d in units.values() if d["kind"] == "faq")
        doc["ref"] = next(iter(db["exhibits"].values()))["id"]
    elif how == "vectors 3 columns wide":
        vectors = np.load(b / "vectors.npy")
        np.save(b / "vectors.npy", np.ascontiguousarray(vectors[:, :3]))
    elif how == "a vectors header claiming petabytes":
        vectors = np.load(b / "vectors.npy")
        with (b / "vectors.npy").open("wb") as fh:
            np.lib.format.write_array_header_1_0(fh, {"descr": "<f4", "fortran_order": False,
                                                      "shape": (10 ** 15, vectors.shape[1])})
            fh.write(vectors.tobytes())
    elif how == "a title of a megabyte":
        work = next(iter(db["exhibits"].values()))
        work["title"] = {lang: "t" * 1_000_000 for lang in work["title"]}
    else:
        raise AssertionError(how)
    (b / "content.json").write_text(json.dumps(db))
    resign(b, key)
    return b


RECORD_CASES = {
    "a text pointing past its work's Q&A": "is not the text the records give",
    "a practical text naming a work": "is not the text the records give",
    "vectors 3 columns wide": "does not open (ValueError",
    "a vectors header claiming petabytes": "vectors.npy is missing or damaged",
    "a title of a megabyte": "is 1,000,000 characters long, more than the 500 allowed "
                             "([limits] short_text_chars)",
}


@pytest.mark.parametrize("how", list(RECORD_CASES))
def test_records_that_do_not_hold_together_are_refused(kiosk: DataDir, corpus: Path,
                                                       tmp_path: Path, how: str) -> None:
    """Hashes and a trusted signature hold; the records do not. Before, the first three were
    installed ("now serving …") and then every `kiosk ask` crashed."""
    bad = break_records(shutil.copytree(corpus / "bundle1", tmp_path / "bad"), how,
                        corpus / "curators.key")
    bundle.verify(bad, *KEY, trusted(corpus))  # consistent to the byte, and signed
    before = snapshot(kiosk)
    with pytest.raises(ContentError) as caught:
        sync(kiosk, bad, *KEY, trusted=trusted(corpus), probe=probe)
    message = str(caught.value)
    assert RECORD_CASES[how] in message, message
    assert "\n" not in message and str(bad) in message
    assert snapshot(kiosk) == before


@pytest.mark.parametrize("how", ["a text pointing past its work's Q&A",
                                 "vectors 3 columns wide"])
def test_a_kiosk_whose_current_cannot_answer_boots_on_the_previous_one(
        kiosk: DataDir, corpus: Path, caplog: pytest.LogCaptureFixture, how: str) -> None:
    """A current version damaged in place, consistently (hashes redone): `kiosk run`, `ask`
    and `listen` (all through ``open_answerer``) serve the previous one, say so in one line,
    and the doctor warns."""
    sync(kiosk, corpus / "bundle1", *KEY, trusted=trusted(corpus), probe=probe)
    current = kiosk.versions / str(current_version(kiosk))
    current.chmod(0o755)
    break_records(current, how, corpus / "curators.key")
    (current / bundle.ORIGIN).unlink()  # (installed by an older kiosk: checked at each open)
    with caplog.at_level(logging.WARNING, logger="kiosk.runtime"):
        answerer, opened, folder = open_answerer(Settings(), kiosk, None, encoder=ENC)
    previous = bundle.read_manifest(corpus / "bundle0")["id"]
    assert folder.name == previous and opened.manifest is not None
    assert opened.manifest["id"] == previous
    [line] = [r.getMessage() for r in caplog.records]
    assert f"{current.name[:12]} does not open" in line
    assert f"serving the previous version {previous[:12]} instead" in line
    if how != "vectors 3 columns wide":  # (the doctor's quick check loads no encoder)
        check = check_content(Probe(Settings(), kiosk))
        assert check.status == WARN, check
        assert f"{current.name[:12]} does not open" in check.detail
        assert f"the kiosk serves the previous version {previous[:12]}" in check.detail


def test_one_bad_bundle_never_stops_a_good_one_beside_it(kiosk: DataDir, corpus: Path,
                                                        tmp_path: Path) -> None:
    """A manifest with a 5,000-digit number, a build time from the year 9999 or 'zzz', and a
    vectors header claiming petabytes sit beside a good bundle: each is skipped in one line and
    the good one is installed."""
    usb = tmp_path / "usb"
    usb.mkdir()
    key = corpus / "curators.key"
    for name, change in (("huge-number", lambda m: m.update(counts={"exhibits": 10 ** 5000})),
                         ("year-9999", lambda m: m.update(created="9999-12-31T23:59:59Z")),
                         ("zzz", lambda m: m.update(created="zzz"))):
        b = shutil.copytree(corpus / "bundle1", usb / name)
        m = json.loads((b / "manifest.json").read_text())
        change(m)
        sys.set_int_max_str_digits(0)  # (to write it; the kiosk reads with the default limit)
        try:
            (b / "manifest.json").write_text(json.dumps(m))
            (b / "signature.json").write_text(json.dumps(keys.sign(m, keys.load_private(key))))
        finally:
            sys.set_int_max_str_digits(4300)
    break_records(shutil.copytree(corpus / "bundle1", usb / "petabytes"),
                  "a vectors header claiming petabytes", key)
    shutil.copytree(corpus / "bundle1", usb / "good")
    lines: list[str] = []
    said = sync(kiosk, usb, *KEY, trusted=trusted(corpus), report=lines.append, probe=probe)
    good = bundle.read_manifest(corpus / "bundle1")["id"]
    assert said.startswith(f"now serving bundle {good[:12]}"), (said, lines)
    assert len(lines) == 4 and all(line.startswith(f"skipped: {usb}/") for line in lines)
    assert all("\n" not in line for line in lines), lines
    assert any("huge-number/manifest.json is not valid JSON" in line for line in lines)
    assert any("year-9999: built 9999-12-31T23:59:59Z, more than a day after this kiosk's "
               "clock" in line for line in lines)
    assert any("zzz/manifest.json has no valid id, build time or file list" in line
               for line in lines)


def test_a_name_cannot_forge_a_line(kiosk: DataDir, corpus: Path, tmp_path: Path) -> None:
    """A bundle folder named with a newline and an ANSI escape is named in one line, escaped."""
    usb = tmp_path / "usb"
    usb.mkdir()
    evil = usb / "x\nkiosk: now serving bundle 000000000000 (\x1b[32mall good\x1b[0m)"
    shutil.copytree(corpus / "bundle1", evil)
    (evil / "vectors.npy").unlink()
    lines: list[str] = []
    with pytest.raises(ContentError) as caught:
        sync(kiosk, usb, *KEY, trusted=trusted(corpus), report=lines.append, probe=probe)
    [line] = lines
    assert "\n" not in line and "\x1b" not in line
    assert "x\\nkiosk: now serving bundle 000000000000 (\\x1b[32mall good" in line
    assert "\n" not in str(caught.value)


def test_current_pointing_outside_the_versions_is_not_served(kiosk: DataDir, corpus: Path,
                                                            tmp_path: Path) -> None:
    """A `current` link to a valid bundle outside `versions/` (which `status` would not show)
    is not served; the previous version is."""
    sync(kiosk, corpus / "bundle1", *KEY, trusted=trusted(corpus), probe=probe)
    outside = shutil.copytree(corpus / "bundle1", tmp_path / "elsewhere")
    (kiosk.versions / "current").unlink()
    (kiosk.versions / "current").symlink_to(outside)
    assert default_content(kiosk).name == bundle.read_manifest(corpus / "bundle0")["id"]


def test_a_setting_that_is_not_a_number_is_refused() -> None:
    for value in ("nan", "inf", "-inf"):
        with pytest.raises(SettingsError, match="'max_total_mb' must be a float"):
            load_settings(None, [f"content.max_total_mb={value}"])


@pytest.mark.models
@pytest.mark.slow
def test_the_watch_outlives_a_bad_bundle_and_installs_the_next_good_one(
        tmp_path: Path, encoder: Any, data_dir: DataDir) -> None:
    """`kiosk content sync DIR --watch`, for real: a bundle that cannot answer (vectors of the
    wrong width, hashes redone) is skipped in one line, the watch goes on, and a good bundle
    copied in next is installed."""
    good = tmp_path / "good"
    bundle.build(DEMO, good, encoder)
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    bad = shutil.copytree(good, incoming / "narrow")
    np.save(bad / "vectors.npy", np.ascontiguousarray(np.load(bad / "vectors.npy")[:, :3]))
    m = json.loads((bad / "manifest.json").read_text())
    m["files"] = {rel: bundle.sha256_file(bad / rel) for rel in m["files"]}
    m["id"] = "f" * 64
    (bad / "manifest.json").write_text(json.dumps(m))
    data = tmp_path / "data"
    data.mkdir()
    (data / "models").symlink_to(data_dir.root / "models")
    child = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "content", "sync", str(incoming), "--watch",
         "--interval", "0.3"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "KIOSK_DATA_DIR": str(data)})
    seen: list[str] = []
    try:
        for line in lines_of(child, 120):
            seen.append(line.rstrip("\n"))
            if line.startswith("skipped:") and not (incoming / "good").exists():
                shutil.copytree(good, incoming / "good")
            if line.startswith("now serving bundle"):
                break
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=60)
        assert child.stdout is not None
        child.stdout.close()
    skipped = [s for s in seen if s.startswith("skipped:")]
    assert skipped and "narrow: does not open (ValueError: matmul" in skipped[0], seen
    assert seen[-1].startswith(
        f"now serving bundle {bundle.read_manifest(good)['id'][:12]} (Musée de démonstration")


def test_every_error_is_one_line_whatever_names_it_holds() -> None:
    error = ContentError("/usb/x\nkiosk: now serving bundle 0 (\x1b[32mok\x1b[0m): missing")
    assert str(error) == "/usb/x\\nkiosk: now serving bundle 0 (\\x1b[32mok\\x1b[0m): missing"
