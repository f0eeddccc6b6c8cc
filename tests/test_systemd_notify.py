"""``sd_notify`` from the kiosk (``kiosk.systemd``), received on a real AF_UNIX datagram
socket as systemd would: READY after the real app's first frame, WATCHDOG pings only while its
main loop runs, STOPPING on exit; abstract-namespace addresses; the real ``kiosk run``
process under a fake systemd (NOTIFY_SOCKET, WATCHDOG_USEC, JOURNAL_STREAM)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import kiosk.ui.harness as harness  # before Kivy: the offscreen window's settings
from kiosk.pipeline import Pipeline
from kiosk.qa.answerer import KioskAnswerer
from kiosk.runtime import open_content
from kiosk.session import Session
from kiosk.systemd import Notifier, OneLineFormatter
from kiosk.testing import HashingEncoder
from kiosk.ui.app import KioskApp
from kiosk.ui.controller import Controller
from tests.conftest import DEMO

EventLoop = harness.EventLoop

class Receiver:
    """What systemd's notify socket would receive: (arrival time, message) pairs."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.received: list[tuple[float, str]] = []
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                return
            self.received.append((time.monotonic(), data.decode()))

    def messages(self, prefix: str = "") -> list[str]:
        return [m for _, m in self.received if m.startswith(prefix)]

    def times(self, prefix: str) -> list[float]:
        return [t for t, m in self.received if m.startswith(prefix)]

    def wait(self, condition: Callable[[], bool], timeout_s: float = 60.0,
             pump: bool = False) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            assert time.monotonic() < deadline, f"received only {self.received}"
            if pump:
                EventLoop.idle()
            time.sleep(0.01)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    folder = tempfile.mkdtemp(prefix="kn-")  # short: AF_UNIX paths stop at 107 bytes
    path = os.path.join(folder, "notify")
    r = Receiver(path)
    yield r, path
    r.close()
    os.unlink(path)
    os.rmdir(folder)


@pytest.fixture(scope="module")
def controller_parts() -> Any:
    encoder = HashingEncoder()  # the app is under test here, not the answers
    return open_content(DEMO, encoder), encoder


def make_controller(parts: Any) -> Controller:
    demo, encoder = parts
    museum = demo.pack.museum
    pipeline = Pipeline(KioskAnswerer(demo.pack, demo.units, demo.vectors, encoder),
                        Session(museum.default_language, list(museum.languages)))
    return Controller(pipeline, demo.pack, content="demo")


# -- the notifier on its own ---------------------------------------------------------------------

def test_no_socket_means_no_op() -> None:
    notifier = Notifier({})
    assert not notifier.enabled and notifier.watchdog_s is None
    assert not notifier.ready("x") and not notifier.watchdog() and not notifier.stopping()


def test_watchdog_interval_is_half_of_systemds_and_only_for_this_pid() -> None:
    env = {"NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "30000000"}
    assert Notifier(env).watchdog_s == 15.0
    assert Notifier({**env, "WATCHDOG_PID": str(os.getpid())}).watchdog_s == 15.0
    assert Notifier({**env, "WATCHDOG_PID": "1"}).watchdog_s is None  # someone else's
    assert Notifier({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "0"}).watchdog_s is None


def test_path_socket(receiver: tuple[Receiver, str]) -> None:
    r, path = receiver
    notifier = Notifier({"NOTIFY_SOCKET": path})
    assert notifier.ready("showing demo") and notifier.stopping()
    notifier.close()
    r.wait(lambda: len(r.received) == 2)
    assert r.messages() == ["READY=1\nSTATUS=showing demo", "STOPPING=1"]


def test_abstract_socket() -> None:
    name = f"kiosk-test-{uuid.uuid4().hex}"
    r = Receiver("\0" + name)
    try:
        notifier = Notifier({"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "2000000"})
        assert notifier.address == "\0" + name and notifier.watchdog_s == 1.0
        assert notifier.ready() and notifier.watchdog()
        assert not notifier.watchdog()  # twice in a row is once: the loop may tick fast
        notifier.close()
        r.wait(lambda: len(r.received) == 2)
        assert r.messages() == ["READY=1", "WATCHDOG=1"]
    finally:
        r.close()


def test_unreachable_socket_warns_once_and_never_raises(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    assert not notifier.ready() and not notifier.status("x")
    notifier.close()
    assert len(caplog.records) == 1 and "not reachable" in caplog.records[0].getMessage()


def test_log_lines_for_the_journal() -> None:
    import logging

    formatter = OneLineFormatter(journal=True)
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        record = logging.LogRecord("kiosk.ui.controller", logging.ERROR, __file__, 1,
                                   "turn failed", None, sys.exc_info())
    line = formatter.format(record)
    assert "\n" not in line
    assert line.startswith("<3>kiosk.ui.controller: turn failed [ValueError: bad thing at "
                           "test_systemd_notify.py:")


# -- the real app, offscreen ---------------------------------------------------------------------

@pytest.mark.slow
def test_ready_after_first_frame_pings_while_the_loop_runs_stopping_on_exit(
        receiver: tuple[Receiver, str], controller_parts: Any) -> None:
    r, path = receiver
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})  # ping: 0.1 s
    app = KioskApp(make_controller(controller_parts), images=DEMO, notifier=notifier)
    app.ready_status = "showing demo"
    app._run_prepare()  # built and on the window: not drawn yet
    time.sleep(0.2)
    assert r.received == []
    EventLoop.idle()  # the first frame
    r.wait(lambda: bool(r.messages("READY=1")))
    assert r.messages("READY=1") == ["READY=1\nSTATUS=showing demo"]

    # frames drawn: pings about every 0.1 s
    start = time.monotonic()
    r.wait(lambda: time.monotonic() - start > 1.0, pump=True)
    assert len(r.messages("WATCHDOG=1")) >= 4

    # a callback that blocks the UI thread: no pings while it blocks
    from kivy.clock import Clock

    frozen: list[float] = []

    def block(_dt: float) -> None:
        frozen.append(time.monotonic())
        time.sleep(1.5)
        frozen.append(time.monotonic())
    Clock.schedule_once(block, 0)
    EventLoop.idle()
    assert len(frozen) == 2
    during = [t for t in r.times("WATCHDOG=1") if frozen[0] + 0.05 < t < frozen[1]]
    assert during == []

    # nobody pumping frames (the loop stuck elsewhere): no pings either
    before = len(r.messages("WATCHDOG=1"))
    time.sleep(0.8)
    assert len(r.messages("WATCHDOG=1")) == before

    # the loop runs again: pings again
    r.wait(lambda: len(r.messages("WATCHDOG=1")) >= before + 3, timeout_s=10, pump=True)

    app.dispatch("on_stop")
    app.dispatch("on_stop")  # Kivy does it twice after App.stop(): one STOPPING
    EventLoop.idle()
    r.wait(lambda: bool(r.messages("STOPPING=1")))
    pings = len(r.messages("WATCHDOG=1"))
    start = time.monotonic()
    r.wait(lambda: time.monotonic() - start > 0.5, pump=True)
    assert len(r.messages("WATCHDOG=1")) == pings  # a stopped app pings no more
    assert r.messages("STOPPING=1") == ["STOPPING=1\nSTATUS=stopping"]


# -- the real `kiosk run` under a fake systemd -------------------------------------------------

def run_kiosk(path: str, stderr: Path, *extra: str) -> subprocess.Popen[str]:
    """`kiosk run` with its stderr in a file that JOURNAL_STREAM names, as journald's is."""
    with stderr.open("w") as err:
        st = os.fstat(err.fileno())
        env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "NOTIFY_SOCKET": path,
               "WATCHDOG_USEC": "1000000", "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        env.pop("WATCHDOG_PID", None)
        command = [sys.executable, "-m", "kiosk.cli", "--set", "insights.enabled=false", "run",
                   "--content", str(DEMO), *extra]
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True,
                                env=env)


@pytest.mark.slow
@pytest.mark.models
def test_kiosk_run_tells_systemd_ready_alive_stopping(
        receiver: tuple[Receiver, str], tmp_path: Path, encoder: Any) -> None:
    r, path = receiver
    proc = run_kiosk(path, tmp_path / "stderr", "--exit-after", "3")
    out, _ = proc.communicate(timeout=300)
    log = (tmp_path / "stderr").read_text()
    assert proc.returncode == 0, log
    messages = r.messages()
    assert messages[0] == "STATUS=loading content and models"
    assert any(m.startswith("READY=1\nSTATUS=showing ") for m in messages)
    assert messages.count("WATCHDOG=1") >= 2  # every 0.5 s for 3 s
    assert messages[-1].startswith("STOPPING=1")
    assert messages.index(next(m for m in messages if m.startswith("READY=1"))) \
        < messages.index("STOPPING=1\nSTATUS=stopping")
    # the journal gets one line per event, with its priority
    lines = log.splitlines()
    assert any(line.startswith("<6>kiosk.ui.launch: starting: full screen, offscreen")
               for line in lines), log
    assert any(line.startswith("<6>kiosk.ui.app: ready: showing ") for line in lines), log
    assert "smoke check over" in out


@pytest.mark.slow
@pytest.mark.models
def test_systemctl_stop_is_a_clean_exit(receiver: tuple[Receiver, str], tmp_path: Path,
                                        encoder: Any) -> None:
    r, path = receiver
    proc = run_kiosk(path, tmp_path / "stderr", "--windowed", "--exit-after", "120")
    try:
        r.wait(lambda: bool(r.messages("READY=1")), timeout_s=240)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    log = (tmp_path / "stderr").read_text()
    assert proc.returncode == 0, log
    assert r.messages()[-1] == "STOPPING=1\nSTATUS=stopping"
    assert "<6>kiosk.ui.launch: stopping: SIGTERM" in log.splitlines()
