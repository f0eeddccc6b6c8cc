"""Fleet distribution end to end on loopback: two real Syncthing instances (Debian's
``syncthing``) configured by deploy/syncthing/configure.py — the curators' machine send-only,
a kiosk receive-only — carry bundles from the curator's ``published`` folder to the kiosk's
``incoming`` folder, and the kiosk's sync makes them current; a file tampered with on the kiosk
is refused and never travels back, and the technician's status.py sees and repairs it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest

from kiosk.content import bundle
from kiosk.content.sync import current_version, previous_version, sync
from kiosk.content.unpack import write_archive
from kiosk.content.watch import VersionWatcher
from kiosk.errors import ContentError
from kiosk.paths import DataDir
from kiosk.testing import HashingEncoder
from tests.packs import FAQ, make_pack

ROOT = Path(__file__).resolve().parents[1]
CONFIGURE = ROOT / "deploy" / "syncthing" / "configure.py"
STATUS = ROOT / "deploy" / "syncthing" / "status.py"
KIOSK = Path(sys.executable).with_name("kiosk")
FOLDER = "kiosk-content"
ENC = HashingEncoder()
WAIT = 60.0
"""Seconds any one step may take (Syncthing connects and scans in a few seconds here)."""
T = TypeVar("T")

# The CLI reads the encoder's id and sha256 from the model catalog: a one-entry catalog naming
# the model-free HashingEncoder lets `kiosk content sync` run here with no model installed.
CATALOG = f"""\
[[model]]
id = "{ENC.model_id}"
role = "question-encoder"
engine = "kiosk.testing.HashingEncoder (tests only)"
engine_kind = "use-onnx"  # never opened here
licence = "test"
[model.source]
kind = "pypi"
[[model.files]]
name = "none"
members = ["none"]
size = 0
sha256 = "{ENC.sha256}"
"""


def _need_syncthing() -> str:
    found = shutil.which("syncthing")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("syncthing is not installed — `make setup` installs it")
        pytest.skip("syncthing is not installed (`make setup` installs it)")
    return found


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = WAIT,
             logs: list[Path] | None = None) -> T:
    """Poll ``probe`` until it returns something truthy; fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            tails = "".join(f"\n--- {p.name} ---\n" + "\n".join(
                p.read_text(errors="replace").splitlines()[-25:]) for p in logs or [])
            pytest.fail(f"{what}: not within {timeout:.0f} s{tails}")
        time.sleep(0.3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Node:
    """One Syncthing instance started by the test."""

    name: str
    home: Path
    folder: Path
    listen: int = field(default_factory=free_port)
    gui: int = field(default_factory=free_port)
    api_key: str = ""
    id: str = ""
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.home / "syncthing.log"

    def rest(self, path: str, method: str = "GET") -> Any:
        req = urllib.request.Request(f"http://127.0.0.1:{self.gui}{path}", method=method,
                                     headers={"X-API-Key": self.api_key})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body.strip() else None

    def try_rest(self, path: str) -> Any:
        try:
            return self.rest(path)
        except OSError:  # not up yet, or busy
            return None

    def status(self) -> dict[str, Any]:
        return dict(self.rest(f"/rest/db/status?folder={FOLDER}"))

    def start(self) -> None:
        env = {**os.environ, "HOME": str(self.home), "STNOUPGRADE": "1", "STNORESTART": "1",
               "GOMAXPROCS": "1"}
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                ["syncthing", "serve", f"--home={self.home}", "--no-browser", "--no-restart",
                 "--no-default-folder", "--logflags=0"],
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def stop(self) -> None:
        if self.proc is None:
            return
        stop_process(self.proc)
        self.proc = None


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process the test started (and its children: it leads its own session)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def configure(node: Node, role: str, peer: Node) -> None:
    done = subprocess.run(
        [sys.executable, str(CONFIGURE), "--role", role, "--home", str(node.home),
         "--folder", str(node.folder), "--name", node.name,
         "--peer", f"{peer.name}:{peer.id}=127.0.0.1:{peer.listen}",
         "--listen", f"tcp://127.0.0.1:{node.listen}", "--gui", f"127.0.0.1:{node.gui}",
         "--api-key", node.api_key, "--no-local-discovery", "--rescan", "10",
         "--watch-delay", "1"],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == node.id


def show_id(home: Path) -> str:
    done = subprocess.run([sys.executable, str(CONFIGURE), "--show-id", "--home", str(home)],
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def connected(node: Node, peer: Node) -> bool:
    conns = (node.try_rest("/rest/system/connections") or {}).get("connections", {})
    return bool(conns.get(peer.id, {}).get("connected"))


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    """The curators' machine and one kiosk, configured, started and connected."""
    _need_syncthing()
    curator = Node("curator", tmp_path / "curator-st", tmp_path / "curator" / "published",
                   api_key="curator-test-key")
    kiosk = Node("kiosk-01", tmp_path / "kiosk-st", tmp_path / "kiosk" / "incoming",
                 api_key="kiosk-test-key")
    for node in (curator, kiosk):
        node.id = show_id(node.home)
    configure(curator, "curator", kiosk)
    configure(kiosk, "kiosk", curator)
    try:
        for node in (curator, kiosk):
            node.start()
        logs = [curator.log, kiosk.log]
        for node, peer in ((curator, kiosk), (kiosk, curator)):
            wait_for(f"{node.name} connected to {peer.name}",
                     partial(connected, node, peer), logs=logs)
        yield curator, kiosk
    finally:
        for node in (kiosk, curator):
            node.stop()


def build(root: Path, n: int, out: Path) -> str:
    """Bundle ``n`` of a small pack (a different FAQ answer each time, so its own id)."""
    pack = make_pack(root / f"pack{n}", {"faq.yaml": FAQ.replace("ground floor", f"floor {n}")})
    return str(bundle.build(pack, out, ENC)["id"])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def status(node: Node, *args: str) -> subprocess.CompletedProcess[str]:
    """deploy/syncthing/status.py, as a technician runs it on that machine."""
    return subprocess.run([sys.executable, str(STATUS), "--home", str(node.home), *args],
                          capture_output=True, text=True, timeout=60, check=False)


def has_watch() -> bool:
    done = subprocess.run([str(KIOSK), "content", "sync", "--help"], capture_output=True,
                          text=True, timeout=60, check=False)
    return "--watch" in done.stdout


def test_configure_writes_a_lan_only_config(tmp_path: Path) -> None:
    _need_syncthing()
    node = Node("kiosk-01", tmp_path / "st", tmp_path / "incoming", api_key="k")
    node.id = show_id(node.home)
    assert show_id(node.home) == node.id  # keys are made once, then kept
    peer = "BXX2TAZ-WZASVFQ-QZ57BD3-P4KE2WC-UTGCGYJ-E2DVXIH-4TI5QEP-A2O3XAT"
    done = subprocess.run([sys.executable, str(CONFIGURE), "--role", "kiosk", "--home",
                           str(node.home), "--folder", str(node.folder),
                           "--peer", f"{peer}=192.168.1.10"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    import xml.etree.ElementTree as ET

    root = ET.parse(node.home / "config.xml").getroot()
    opts = root.find("options")
    assert opts is not None
    assert {k: opts.findtext(k) for k in (
        "globalAnnounceEnabled", "relaysEnabled", "natEnabled", "urAccepted",
        "autoUpgradeIntervalH", "startBrowser", "crashReportingEnabled",
        "stunKeepaliveStartS", "localAnnounceEnabled")} == {
        "globalAnnounceEnabled": "false", "relaysEnabled": "false", "natEnabled": "false",
        "urAccepted": "-1", "autoUpgradeIntervalH": "0", "startBrowser": "false",
        "crashReportingEnabled": "false", "stunKeepaliveStartS": "0",
        "localAnnounceEnabled": "true"}
    assert [e.text for e in opts.findall("listenAddress")] == ["tcp://0.0.0.0:22000"]
    assert root.findtext("gui/address") == "127.0.0.1:8384"
    (folder,) = root.findall("folder")
    assert (folder.get("id"), folder.get("type"), folder.get("path")) == (
        FOLDER, "receiveonly", str(node.folder))
    assert folder.get("fsWatcherEnabled") == "true"
    assert sorted(d.get("id") or "" for d in folder.findall("device")) == sorted([node.id, peer])
    devices = {d.get("id"): d for d in root.findall("device")}
    assert devices[peer].findtext("address") == "tcp://192.168.1.10:22000"
    assert devices[peer].findtext("autoAcceptFolders") == "false"
    bad = subprocess.run([sys.executable, str(CONFIGURE), "--role", "kiosk", "--home",
                          str(node.home), "--folder", str(node.folder), "--peer", "NOT-AN-ID=x"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2 and "is not a Syncthing device ID" in bad.stderr


@pytest.mark.slow
def test_bundles_published_by_the_curator_reach_the_kiosk_and_go_live(
        pair: tuple[Node, Node], tmp_path: Path) -> None:
    curator, kiosk = pair
    logs = [curator.log, kiosk.log]
    data = DataDir(tmp_path / "kiosk")
    seen: list[Path] = []
    app = VersionWatcher(data, seen.append)  # what the running app polls
    watcher: subprocess.Popen[bytes] | None = None
    if has_watch():  # the kiosk's own follower: `kiosk content sync INCOMING --watch`
        catalog = tmp_path / "catalog.toml"
        catalog.write_text(CATALOG, encoding="utf-8")
        watch_log = tmp_path / "watch.log"
        logs.append(watch_log)
        with watch_log.open("wb") as out:
            watcher = subprocess.Popen(
                [str(KIOSK), "content", "sync", str(kiosk.folder), "--watch", "--interval", "1",
                 "--data-dir", str(data.root), "--set", f"models.encoder={ENC.model_id}"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "KIOSK_CATALOG": str(catalog)})

    def activated(name: str, vid: str) -> bool:
        if watcher is not None:
            assert watcher.poll() is None, "`kiosk content sync --watch` stopped"
        else:  # no --watch yet: sync the arriving folder until it is complete and verified
            try:
                sync(data, kiosk.folder / name, ENC.model_id, ENC.sha256)
            except ContentError:
                pass  # not there yet, or half-arrived: try again
        return current_version(data) == vid

    try:
        v1 = build(tmp_path, 1, curator.folder / "museum-1")
        wait_for("bundle 1 synced to the kiosk and made current",
                 lambda: activated("museum-1", v1), logs=logs)
        assert app.check() and seen == [(data.versions / v1).resolve()]

        v2 = build(tmp_path, 2, curator.folder / "museum-2")
        wait_for("bundle 2 synced to the kiosk and made current",
                 lambda: activated("museum-2", v2), logs=logs)
        assert previous_version(data) == v1
        assert app.check() and seen[1:] == [(data.versions / v2).resolve()]
        # an archive (`kiosk content build --archive`) travels as one file, delivered whole
        v3 = build(tmp_path, 3, tmp_path / "museum-3")
        write_archive(tmp_path / "museum-3", curator.folder / "museum-3.tar.gz")
        wait_for("bundle 3 (an archive) synced to the kiosk and made current",
                 lambda: activated("museum-3.tar.gz", v3), logs=logs)
        assert previous_version(data) == v2
        assert app.check() and seen[2:] == [(data.versions / v3).resolve()]
        # the kiosk holds exactly what was published (and nothing half-built: the build's
        # hidden staging folders are ignored on the curator's side)
        assert sorted(p.name for p in kiosk.folder.iterdir() if p.name != ".stfolder") == [
            "museum-1", "museum-2", "museum-3.tar.gz"]
        bundle.verify(kiosk.folder / "museum-2", ENC.model_id, ENC.sha256)
    finally:
        if watcher is not None:
            stop_process(watcher)

    # Someone alters a bundle on the kiosk: the sync refuses it and nothing changes ...
    victim = "museum-1/" + next(iter(bundle.read_manifest(kiosk.folder / "museum-1")["files"]))
    original = sha(curator.folder / victim)
    with (kiosk.folder / victim).open("ab") as fh:
        fh.write(b" tampered")
    with pytest.raises(ContentError, match="does not match its sha256"):
        sync(data, kiosk.folder / "museum-1", ENC.model_id, ENC.sha256)
    assert current_version(data) == v3 and previous_version(data) == v2
    # ... and receive-only means the kiosk never sends its change back to the curator.
    kiosk.rest(f"/rest/db/scan?folder={FOLDER}", method="POST")
    wait_for("the kiosk's Syncthing noticing the local change",
             lambda: kiosk.status().get("receiveOnlyChangedFiles") == 1, logs=logs)
    curator.rest(f"/rest/db/scan?folder={FOLDER}", method="POST")
    wait_for("the curator's folder idle", lambda: curator.status().get("state") == "idle",
             logs=logs)
    assert sha(curator.folder / victim) == original
    info = curator.rest(f"/rest/db/file?folder={FOLDER}&file={victim}")
    assert info["global"]["modifiedBy"] == curator.id[:7]
    assert curator.status()["needFiles"] == 0

    told = status(kiosk)
    assert told.returncode == 1 and "1 changed here" in told.stdout, told.stdout + told.stderr
    assert "NOT in sync" in told.stdout and "--revert" in told.stdout

    # The technician's repair (deploy/syncthing/README.md): fetch the curator's files again.
    assert status(kiosk, "--revert").returncode == 0
    wait_for("the kiosk's copy restored from the curator",
             lambda: (kiosk.folder / victim).exists() and sha(kiosk.folder / victim) == original,
             logs=logs)
    bundle.verify(kiosk.folder / "museum-1", ENC.model_id, ENC.sha256)
    wait_for("the kiosk's Syncthing in sync again", lambda: status(kiosk).returncode == 0,
             logs=logs)
    told = status(curator)
    assert told.returncode == 0 and "kiosk-01" in told.stdout and "in sync" in told.stdout
    told = status(curator, "--json")
    assert told.returncode == 0 and json.loads(told.stdout)["peers"][0]["name"] == "kiosk-01"
