"""Content versions: sync, no-op re-sync, rollback, refusals that change nothing, pruning,
the watcher the app polls, and `kiosk content sync|rollback|status`."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from kiosk.cli import main
from kiosk.content import bundle
from kiosk.content.sync import (
    current_version,
    list_versions,
    previous_version,
    rollback,
    sync,
)
from kiosk.content.watch import VersionWatcher, open_in_background
from kiosk.errors import ContentError
from kiosk.paths import DataDir
from kiosk.runtime import Content, default_content, open_content
from kiosk.testing import HashingEncoder
from tests.packs import FAQ, make_pack

ENC = HashingEncoder()
KEY = (ENC.model_id, ENC.sha256)


def build_version(root: Path, n: int, encoder: Any = ENC) -> tuple[Path, str]:
    """Bundle number ``n`` of the small pack (each ``n`` a different FAQ answer, so its own id)."""
    pack = make_pack(root / f"pack{n}", {"faq.yaml": FAQ.replace("ground floor", f"floor {n}")})
    manifest = bundle.build(pack, root / f"bundle{n}", encoder)
    return root / f"bundle{n}", str(manifest["id"])


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, str]]:
    root = tmp_path_factory.mktemp("bundles")
    return [build_version(root, n) for n in range(5)]


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data")


def copy_of(src: Path, tmp_path: Path) -> Path:
    out = tmp_path / f"copy-of-{src.name}"
    shutil.copytree(src, out)
    return out


def hidden(data: DataDir) -> list[str]:
    return sorted(p.name for p in data.versions.glob(".*") if p.name != ".lock")


def test_sync_installs_verifies_and_activates(data: DataDir,
                                              versions: list[tuple[Path, str]]) -> None:
    src, vid = versions[0]
    message = sync(data, src, *KEY)
    assert message.startswith(f"now serving bundle {vid[:12]} (Petit musée, 2 exhibits")
    assert current_version(data) == vid and previous_version(data) is None
    link = data.versions / "current"
    assert link.is_symlink() and os.readlink(link) == vid  # relative: the folder can move
    assert hidden(data) == []  # no staging folder or temporary link left behind
    content = open_content(default_content(data), ENC)  # what `kiosk run` opens
    assert content.manifest is not None and content.manifest["id"] == vid
    assert [v.id for v in list_versions(data)] == [vid]


def test_syncing_the_current_version_again_changes_nothing(
        data: DataDir, versions: list[tuple[Path, str]]) -> None:
    src, vid = versions[0]
    sync(data, src, *KEY)
    before = (data.versions / vid).stat().st_mtime_ns
    message = sync(data, src, *KEY)
    assert message.startswith(f"bundle {vid[:12]} is already the current content — nothing")
    assert current_version(data) == vid and previous_version(data) is None
    assert (data.versions / vid).stat().st_mtime_ns == before


def test_second_version_then_rollback_and_rollback_again(
        data: DataDir, versions: list[tuple[Path, str]]) -> None:
    (src1, id1), (src2, id2) = versions[:2]
    sync(data, src1, *KEY)
    assert sync(data, src2, *KEY).endswith(f"; previous: {id1[:12]}")
    assert (current_version(data), previous_version(data)) == (id2, id1)
    assert rollback(data).startswith(f"rolled back: now serving bundle {id1[:12]}")
    assert (current_version(data), previous_version(data)) == (id1, id2)
    rollback(data)  # a second rollback undoes the first
    assert (current_version(data), previous_version(data)) == (id2, id1)
    listed = list_versions(data)
    assert [(v.id, v.current, v.previous) for v in listed] == [(id2, True, False),
                                                               (id1, False, True)]


def test_syncing_an_older_installed_version_reuses_it(
        data: DataDir, versions: list[tuple[Path, str]]) -> None:
    (src1, id1), (src2, id2) = versions[:2]
    sync(data, src1, *KEY)
    sync(data, src2, *KEY)
    sync(data, src1, *KEY)
    assert (current_version(data), previous_version(data)) == (id1, id2)
    assert sorted(v.id for v in list_versions(data)) == sorted([id1, id2])


def test_rollback_with_nothing_to_go_back_to(data: DataDir,
                                             versions: list[tuple[Path, str]]) -> None:
    with pytest.raises(ContentError, match="no previous content version to roll back to — "
                                           "sync a bundle"):
        rollback(data)
    sync(data, versions[0][0], *KEY)
    with pytest.raises(ContentError, match="no previous content version"):
        rollback(data)
    assert current_version(data) == versions[0][1]


def test_rollback_refuses_a_damaged_previous_version(
        data: DataDir, versions: list[tuple[Path, str]]) -> None:
    (src1, id1), (src2, id2) = versions[:2]
    sync(data, src1, *KEY)
    sync(data, src2, *KEY)
    (data.versions / id1 / "content.json").write_text("{}")
    with pytest.raises(ContentError, match=f"previous version {id1[:12]} is damaged .*"
                                           "content.json does not match its sha256"):
        rollback(data)
    assert current_version(data) == id2


def _damage(bundle_dir: Path, how: str, tmp_path: Path) -> None:
    manifest_path = bundle_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    if how == "tamper":
        text = (bundle_dir / "content.json").read_text()
        (bundle_dir / "content.json").write_text(text.replace("floor", "roof"))
    elif how == "missing":
        (bundle_dir / "vectors.npy").unlink()
    elif how == "extra":
        (bundle_dir / "images" / "evil.png").write_bytes(b"x")
    elif how == "not a bundle":
        manifest_path.unlink()
    elif how == "symlink":
        secret = tmp_path / "secret.txt"
        secret.write_text("not for visitors")
        (bundle_dir / "images" / "the-milkmaid.png").unlink()
        (bundle_dir / "images" / "the-milkmaid.png").symlink_to(secret)
    elif how == "symlinked folder":
        shutil.rmtree(bundle_dir / "images")
        (bundle_dir / "images").symlink_to(tmp_path, target_is_directory=True)
    elif how == "escape":
        outside = tmp_path / "outside.txt"
        outside.write_text("x")
        manifest["files"]["../outside.txt"] = bundle.sha256_file(outside)
        manifest_path.write_text(json.dumps(manifest))
    elif how == "bad id":
        manifest["id"] = "../../etc"
        manifest_path.write_text(json.dumps(manifest))
    elif how == "format":
        manifest["format_version"] = 99
        manifest_path.write_text(json.dumps(manifest))
    else:
        raise AssertionError(how)


@pytest.mark.parametrize(("how", "expected"), [
    ("tamper", "content.json does not match its sha256 — the bundle is damaged"),
    ("missing", "vectors.npy is missing — the bundle is incomplete"),
    ("extra", "images/evil.png is not in the manifest"),
    ("not a bundle", "no manifest.json — not a content bundle"),
    ("symlink", "images/the-milkmaid.png is a symbolic link — a bundle holds only plain files"),
    ("symlinked folder", "images is a symbolic link"),
    ("escape", "the manifest lists '../outside.txt', a path outside the bundle — refused"),
    ("bad id", "has no valid id, build time or file list — not a content bundle"),
    ("format", "content format kiosk-bundle 99, this kiosk reads format kiosk-bundle 2"),
])
def test_a_bad_bundle_changes_nothing(data: DataDir, versions: list[tuple[Path, str]],
                                      tmp_path: Path, how: str, expected: str) -> None:
    (src0, id0), (src1, _) = versions[:2]
    sync(data, src0, *KEY)
    bad = copy_of(src1, tmp_path)
    _damage(bad, how, tmp_path)
    with pytest.raises(ContentError) as caught:
        sync(data, bad, *KEY)
    message = str(caught.value)
    assert expected in message and "\n" not in message
    assert message.startswith(str(bad))  # names the curator's folder, not our staging folder
    assert (current_version(data), previous_version(data)) == (id0, None)
    assert [v.id for v in list_versions(data)] == [id0]
    assert hidden(data) == []
    assert not (tmp_path / "etc").exists()


def test_a_bundle_for_another_encoder_is_refused(data: DataDir,
                                                 versions: list[tuple[Path, str]]) -> None:
    src0, id0 = versions[0]
    sync(data, src0, *KEY)
    with pytest.raises(ContentError, match="was built with encoder hashing-test-encoder, this "
                                           "kiosk uses use-multilingual-v3-int8 — rebuild it"):
        sync(data, versions[1][0], "use-multilingual-v3-int8", "f" * 64)
    assert current_version(data) == id0 and len(list_versions(data)) == 1


def test_a_damaged_copy_of_an_installed_version_is_refused(
        data: DataDir, versions: list[tuple[Path, str]], tmp_path: Path) -> None:
    (src1, id1), (src2, id2) = versions[:2]
    sync(data, src1, *KEY)
    sync(data, src2, *KEY)
    bad = copy_of(src1, tmp_path)
    _damage(bad, "tamper", tmp_path)
    with pytest.raises(ContentError, match="content.json does not match its sha256"):
        sync(data, bad, *KEY)
    assert (current_version(data), previous_version(data)) == (id2, id1)


def test_a_damaged_installed_copy_is_replaced_by_a_good_one(
        data: DataDir, versions: list[tuple[Path, str]]) -> None:
    (src1, id1), (src2, id2) = versions[:2]
    sync(data, src1, *KEY)
    sync(data, src2, *KEY)
    (data.versions / id1 / "content.json").write_text("{}")  # the disk went bad
    sync(data, src1, *KEY)
    assert (current_version(data), previous_version(data)) == (id1, id2)
    bundle.verify(data.versions / id1, *KEY)
    assert hidden(data) == []


@pytest.mark.parametrize("keep", [0, 1, 2])
def test_old_versions_are_pruned_never_current_or_previous(
        data: DataDir, versions: list[tuple[Path, str]], keep: int) -> None:
    for src, _ in versions:
        sync(data, src, *KEY, keep=keep)
    ids = [vid for _, vid in versions]
    kept = [v.id for v in list_versions(data)]
    assert kept == ids[::-1][:1 + max(keep, 1)]  # current, previous, then the newest others
    assert (current_version(data), previous_version(data)) == (ids[-1], ids[-2])
    assert hidden(data) == []


def test_leftovers_of_an_interrupted_sync_are_cleared(data: DataDir,
                                                      versions: list[tuple[Path, str]]) -> None:
    sync(data, versions[0][0], *KEY)
    (data.versions / ".staging-abc" / "images").mkdir(parents=True)
    (data.versions / ".current.123.tmp").symlink_to(versions[0][1])
    sync(data, versions[1][0], *KEY)
    assert hidden(data) == []
    assert current_version(data) == versions[1][1]


def test_a_folder_named_current_is_not_overwritten(data: DataDir,
                                                   versions: list[tuple[Path, str]]) -> None:
    (data.versions / "current").mkdir(parents=True)
    (data.versions / "current" / "notes.txt").write_text("keep me")
    with pytest.raises(ContentError, match="current is a folder, not a link — move it out"):
        sync(data, versions[0][0], *KEY)
    assert (data.versions / "current" / "notes.txt").read_text() == "keep me"


# -- the watcher the app polls ----------------------------------------------------------------

def test_watcher_notices_a_sync_and_a_rollback(data: DataDir,
                                               versions: list[tuple[Path, str]]) -> None:
    (src1, id1), (src2, id2) = versions[:2]
    seen: list[Path] = []
    watcher = VersionWatcher(data, seen.append)
    assert watcher.check() is False and watcher.serving is None  # nothing installed yet
    sync(data, src1, *KEY)
    assert watcher.check() is True and seen == [data.versions.resolve() / id1]
    assert watcher.check() is False  # announced once
    sync(data, src1, *KEY)  # no-op sync: nothing new
    assert watcher.check() is False
    sync(data, src2, *KEY)
    assert watcher.check() is True and seen[-1].name == id2
    rollback(data)
    assert watcher.check() is True and seen[-1].name == id1
    assert len(seen) == 3


def test_watcher_starts_from_what_the_app_serves(data: DataDir,
                                                 versions: list[tuple[Path, str]]) -> None:
    (src1, id1), (src2, id2) = versions[:2]
    sync(data, src1, *KEY)
    served = default_content(data).resolve()  # the app opened version 1 ...
    sync(data, src2, *KEY)  # ... and a sync landed before it started watching
    seen: list[Path] = []
    assert VersionWatcher(data, seen.append, serving=served).check() is True
    assert [p.name for p in seen] == [id2]
    assert VersionWatcher(data, seen.append).check() is False  # default: what is current now


def test_watcher_keeps_quiet_when_current_disappears(data: DataDir,
                                                     versions: list[tuple[Path, str]]) -> None:
    sync(data, versions[0][0], *KEY)
    seen: list[Path] = []
    watcher = VersionWatcher(data, seen.append)
    (data.versions / "current").unlink()
    assert watcher.check() is False and seen == []


class Inbox:
    """What the background open delivered (``done`` set when either callback ran)."""

    def __init__(self) -> None:
        self.results: list[Content] = []
        self.errors: list[Exception] = []
        self.done = threading.Event()

    def deliver(self, result: Content) -> None:
        self.results.append(result)
        self.done.set()

    def deliver_error(self, exc: Exception) -> None:
        self.errors.append(exc)
        self.done.set()


def test_background_open_delivers_the_new_content(data: DataDir,
                                                  versions: list[tuple[Path, str]]) -> None:
    inbox = Inbox()
    watcher = VersionWatcher(data, lambda path: open_in_background(
        path, lambda p: open_content(p, ENC), inbox.deliver, inbox.deliver_error).join(30))
    sync(data, versions[0][0], *KEY)
    assert watcher.check()
    assert inbox.done.is_set() and inbox.errors == []
    manifest = inbox.results[0].manifest
    assert manifest is not None and manifest["id"] == versions[0][1]


def test_background_open_delivers_errors_not_exceptions(
        data: DataDir, versions: list[tuple[Path, str]],
        caplog: pytest.LogCaptureFixture) -> None:
    (src1, id1), (src2, id2) = versions[:2]
    sync(data, src1, *KEY)
    sync(data, src2, *KEY)
    (data.versions / id1 / "vectors.npy").write_bytes(b"rotten")  # the disk went bad
    rollback_target = data.versions / id1
    inbox = Inbox()
    with caplog.at_level(logging.WARNING, logger="kiosk.content.watch"):
        open_in_background(rollback_target, lambda p: open_content(p, ENC), inbox.deliver,
                           inbox.deliver_error).join(30)
    assert inbox.results == [] and len(inbox.errors) == 1
    assert isinstance(inbox.errors[0], ContentError)
    assert "vectors.npy does not match its sha256" in str(inbox.errors[0])
    [record] = caplog.records
    assert "still serving the previous content" in record.getMessage()
    assert "\n" not in record.getMessage() and record.exc_info is None


def test_background_open_survives_a_bug(caplog: pytest.LogCaptureFixture,
                                        tmp_path: Path) -> None:
    def broken(path: Path) -> Content:
        raise ValueError("a bug")

    inbox = Inbox()
    with caplog.at_level(logging.WARNING, logger="kiosk.content.watch"):
        open_in_background(tmp_path, broken, inbox.deliver, inbox.deliver_error).join(30)
        open_in_background(tmp_path, broken, inbox.deliver).join(30)  # no error callback
    assert [type(e) for e in inbox.errors] == [ValueError]
    assert len(caplog.records) == 2 and caplog.records[0].exc_info is not None


# -- the CLI ------------------------------------------------------------------------------------

def kiosk(capsys: pytest.CaptureFixture[str], data: DataDir, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--data-dir", str(data.root)])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_without_content(data: DataDir, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kiosk(capsys, data, "content", "status")
    assert code == 0 and out.startswith("no content installed in ")
    code, _, err = kiosk(capsys, data, "content", "rollback")
    assert code == 2
    assert err == ("kiosk: there is no previous content version to roll back to — sync a "
                   "bundle with `kiosk content sync SRC`\n")


def test_cli_refuses_a_bundle_for_another_encoder(data: DataDir, capsys: pytest.CaptureFixture[
        str], versions: list[tuple[Path, str]]) -> None:
    code, out, err = kiosk(capsys, data, "content", "sync", str(versions[0][0]))
    assert code == 2 and out == ""
    assert err.startswith(f"kiosk: {versions[0][0]} was built with encoder hashing-test-encoder")
    assert err.count("\n") == 1 and current_version(data) is None


@pytest.mark.models
def test_cli_sync_status_rollback(data: DataDir, capsys: pytest.CaptureFixture[str],
                                  tmp_path: Path, encoder: Any) -> None:
    (src1, id1), (src2, id2) = (build_version(tmp_path, n, encoder) for n in (1, 2))
    code, out, _ = kiosk(capsys, data, "content", "sync", str(src1))
    assert code == 0 and out.startswith(f"now serving bundle {id1[:12]} (Petit musée")
    code, out, _ = kiosk(capsys, data, "content", "sync", str(src1))
    assert code == 0 and "already the current content — nothing to do" in out
    code, out, _ = kiosk(capsys, data, "content", "sync", str(src2))
    assert code == 0 and out.rstrip().endswith(f"; previous: {id1[:12]}")
    code, out, _ = kiosk(capsys, data, "content", "status")
    lines = out.splitlines()
    assert lines[0].startswith(f"current:  {id2[:12]}  Petit musée, 2 exhibits — built ")
    assert re.fullmatch(rf" {{10}}from {re.escape(str(src2.absolute()))} \(synced "
                        r"\d{4}-\d\d-\d\d \d\d:\d\d UTC, not signed\)", lines[1])
    assert lines[2].startswith(f"previous: {id1[:12]}  Petit musée")
    assert lines[3].startswith(f"          from {src1.absolute()} (synced ")
    assert lines[4] == f"folder: {data.versions}"
    code, out, _ = kiosk(capsys, data, "content", "rollback")
    assert code == 0 and out.startswith(f"rolled back: now serving bundle {id1[:12]}")
    code, out, _ = kiosk(capsys, data, "content", "status", "--json")
    status = json.loads(out)
    assert (status["current"], status["previous"]) == (id1, id2)
    assert [v["id"] for v in status["versions"]] == [id1, id2]
    served = open_content(default_content(data), encoder)  # what `kiosk run` would serve
    assert served.manifest is not None and served.manifest["id"] == id1


# -- archives, distribution folders, boot check, watch --------------------------------------------

def later(**delta: float) -> str:
    """A build time after now (within the day a kiosk's clock may lag behind)."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_sync_from_an_archive_and_a_folder_of_bundles(data: DataDir, tmp_path: Path,
                                                      versions: list[tuple[Path, str]]) -> None:
    from kiosk.content.unpack import write_archive

    (src1, id1), (src2, id2) = versions[:2]
    usb = tmp_path / "usb"
    usb.mkdir()
    write_archive(src1, usb / "old.zip")
    assert sync(data, usb / "old.zip", *KEY).startswith(f"now serving bundle {id1[:12]}")
    newer = copy_of(src2, tmp_path)  # built in the same second as src1: say it is later
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest["created"] = later(hours=1)
    (newer / "manifest.json").write_text(json.dumps(manifest))
    write_archive(newer, usb / "new.tar.gz")
    shutil.rmtree(newer)
    half = copy_of(src2, tmp_path)  # a newer bundle still arriving (no vectors yet)
    manifest = json.loads((half / "manifest.json").read_text())
    manifest["created"] = later(hours=2)
    (half / "manifest.json").write_text(json.dumps(manifest))
    (half / "vectors.npy").unlink()
    half.rename(usb / "arriving")
    (usb / ".syncthing.x.tmp").write_text("partial")
    lines: list[str] = []
    assert sync(data, usb, *KEY, report=lines.append).startswith(f"now serving bundle {id2[:12]}")
    assert lines == [f"skipped: {usb}/arriving: vectors.npy is missing — the bundle is "
                     "incomplete; wait until it has arrived, or copy or build it again"]
    [v] = [v for v in list_versions(data) if v.current]
    assert v.source == str((usb / "new.tar.gz").absolute()) and v.synced.endswith("Z")


def test_boot_falls_back_to_previous_when_current_is_damaged(
        data: DataDir, versions: list[tuple[Path, str]],
        caplog: pytest.LogCaptureFixture) -> None:
    (src1, id1), (src2, id2) = versions[:2]
    sync(data, src1, *KEY)
    sync(data, src2, *KEY)
    (data.versions / id2 / "vectors.npy").write_bytes(b"half-written")
    with caplog.at_level(logging.WARNING, logger="kiosk.runtime"):
        assert default_content(data) == data.versions.resolve() / id1
    [record] = caplog.records
    assert record.getMessage().startswith("content: current is damaged: ")
    assert record.getMessage().endswith(f"serving the previous version {id1[:12]} instead; "
                                        "sync the bundle again")
    (data.versions / id1 / "content.json").unlink()
    with pytest.raises(ContentError, match="no complete content version in"):
        default_content(data)


def test_watch_syncs_when_a_new_bundle_arrives(data: DataDir, tmp_path: Path,
                                               versions: list[tuple[Path, str]]) -> None:
    from kiosk.content.watch import poll_source

    (src1, id1), (src2, id2) = versions[:2]
    usb = tmp_path / "usb"
    usb.mkdir()
    shutil.copytree(src1, usb / "one")
    stop = threading.Event()
    said: list[str] = []

    def step() -> None:
        said.append(sync(data, usb, *KEY, report=said.append))
        if len(said) == 1:
            shutil.copytree(src2, usb / "two")  # arrives while watching
        else:
            stop.set()

    worker = threading.Thread(target=poll_source, args=(usb, step, 0.05, stop))
    worker.start()
    worker.join(30)
    assert not worker.is_alive()
    assert said[0].startswith(f"now serving bundle {id1[:12]}")
    assert said[1].startswith(f"now serving bundle {id2[:12]}")
    assert current_version(data) == id2


def test_a_rolled_back_version_is_not_brought_back_by_a_folder_sync(
        data: DataDir, tmp_path: Path, versions: list[tuple[Path, str]]) -> None:
    """A kiosk rolled back stays rolled back even though the newer bundle is still in the
    Syncthing folder (after a restart too: it is remembered on disk); the bundle's own path
    installs it again."""
    folder = tmp_path / "incoming"
    folder.mkdir()
    (old, old_id), (new, new_id) = versions[1], versions[2]
    for src in (old, new):
        shutil.copytree(src, folder / src.name)
    sync(data, folder / old.name, *KEY)
    sync(data, folder, *KEY)
    assert current_version(data) == new_id
    rollback(data)
    assert current_version(data) == old_id
    skipped: list[str] = []
    said = sync(data, folder, *KEY, report=skipped.append)  # what --watch does after a restart
    assert current_version(data) == old_id
    assert "already the current content" in said
    assert any("was rolled back on this kiosk" in line for line in skipped)
    sync(data, folder / new.name, *KEY)  # a person chooses it again
    assert current_version(data) == new_id
    rollback(data)
    sync(data, folder / new.name, *KEY)
    assert current_version(data) == new_id
    assert sync(data, folder, *KEY).startswith("bundle")  # and the folder keeps it
    assert current_version(data) == new_id
