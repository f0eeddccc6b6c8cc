"""A kiosk disk that is full or read-only during a sync or a rollback: one line naming the data
folder and its free space, nothing changed, nothing left behind, and the same command works
once there is room. Faults are injected where the kiosk writes (any machine), and made real
with a small tmpfs where this machine lets the tests mount one."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.content import bundle
from kiosk.content import sync as versions
from kiosk.content.unpack import Source
from kiosk.paths import DataDir
from kiosk.testing import HashingEncoder
from tests.packs import FAQ, make_pack
from tests.test_bad_bundles import snapshot

ENC = HashingEncoder()
KEY = (ENC.model_id, ENC.sha256)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("bundles")
    out = []
    for n in range(3):
        pack = make_pack(root / f"pack{n}", {"faq.yaml": FAQ.replace("ground", f"floor {n}")})
        out.append(bundle.build(pack, root / f"bundle{n}", ENC) and root / f"bundle{n}")
    return out


def two_versions(data: DataDir, bundles: list[Path]) -> None:
    for b in bundles[:2]:
        versions.sync(data, b, *KEY)


def leftovers(data: DataDir) -> list[str]:
    return sorted(p.name for p in data.versions.glob(".*") if p.name != ".lock")


def fail(exc_errno: int) -> object:
    def raiser(*args: object, **kwargs: object) -> None:
        raise OSError(exc_errno, os.strerror(exc_errno))
    return raiser


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_sync_onto_a_full_disk_names_the_data_folder_and_changes_nothing(
        tmp_path: Path, bundles: list[Path], monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    data = DataDir(tmp_path / "data")
    two_versions(data, bundles)
    before = snapshot(data)
    with monkeypatch.context() as patch:
        patch.setattr(Source, "copy_to", fail(code))
        with pytest.raises(versions.ContentError) as caught:
            versions.sync(data, bundles[2], *KEY)
    message = str(caught.value)
    assert message.startswith(f"cannot install {bundles[2]}: {data.versions} cannot be written "
                              f"({os.strerror(code)}, ")
    assert "MB free) — nothing was changed" in message and "\n" not in message
    assert snapshot(data) == before and leftovers(data) == []
    assert versions.sync(data, bundles[2], *KEY).startswith("now serving")  # room again


def test_a_disk_error_in_a_folder_of_bundles_stops_the_sync(
        tmp_path: Path, bundles: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Unlike a bad bundle, a full disk is not skipped for the next bundle: each would fail."""
    folder = tmp_path / "share"
    folder.mkdir()
    for b in bundles[1:]:
        shutil.copytree(b, folder / b.name)
    data = DataDir(tmp_path / "data")
    versions.sync(data, bundles[0], *KEY)
    said: list[str] = []
    with monkeypatch.context() as patch:
        patch.setattr(Source, "copy_to", fail(errno.ENOSPC))
        with pytest.raises(versions.ContentError, match="No space left on device"):
            versions.sync(data, folder, *KEY, report=said.append)
    assert said == [] and leftovers(data) == []


@pytest.mark.parametrize("where", ["the withdrawn list", "the link"])
def test_a_rollback_on_a_full_disk_changes_nothing(
        tmp_path: Path, bundles: list[Path], monkeypatch: pytest.MonkeyPatch, where: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    data = DataDir(tmp_path / "data")
    two_versions(data, bundles)
    before = snapshot(data)
    with monkeypatch.context() as patch:
        if where == "the link":
            patch.setattr(os, "symlink", fail(errno.ENOSPC))
        else:
            patch.setattr(versions, "write_text_atomic", fail(errno.ENOSPC))
        assert main(["--data-dir", str(data.root), "content", "rollback"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "No space left on device" in err, err
    assert str(data.versions) in err and "Traceback" not in err
    assert snapshot(data) == before and leftovers(data) == []
    assert main(["--data-dir", str(data.root), "content", "rollback"]) == 0


# --- real disks -------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 10 MB tmpfs, when this machine lets the tests mount one (root, no sandbox)."""
    mnt = tmp_path / f"mnt-{uuid.uuid4().hex[:8]}"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=10m", "tmpfs", str(mnt)],
                             capture_output=True) if shutil.which("mount") else None
    if mounted is None or mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(folder: Path) -> Path:
    path = folder / "filler"
    with path.open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
        except OSError:
            pass
    return path


def rollback(data: DataDir, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--data-dir", str(data.root), "content", "rollback"])
    out = capsys.readouterr()
    return code, (out.out + out.err).strip()


def synced(data: DataDir, source: Path) -> str:
    try:
        return versions.sync(data, source, *KEY)
    except versions.ContentError as exc:
        return f"kiosk: {exc}"


def test_a_real_full_disk_and_a_real_read_only_disk(
        small_disk: Path, bundles: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    data = DataDir(small_disk / "data")
    two_versions(data, bundles)
    filler = fill(small_disk)
    before = snapshot(data)
    code, said = rollback(data, capsys)
    assert code == 2 and "\n" not in said and "No space left on device, 0.0 MB free" in said
    said = synced(data, bundles[2])
    assert "\n" not in said and "No space left on device, 0.0 MB free" in said, said
    assert snapshot(data) == before and leftovers(data) == []
    filler.unlink()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    code, said = rollback(data, capsys)
    assert code == 2 and "\n" not in said and "Read-only file system" in said, said
    said = synced(data, bundles[2])
    assert "Read-only file system" in said and str(data.versions) in said, said
    assert main(["--data-dir", str(data.root), "content", "status"]) == 0  # reading works
    assert "current:" in capsys.readouterr().out
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert synced(data, bundles[2]).startswith("now serving")
