"""Running under systemd: ``sd_notify`` messages and journal-friendly log lines.

``Notifier`` is a dependency-free ``sd_notify``: one AF_UNIX datagram per message to
``$NOTIFY_SOCKET`` (a path, or ``@name`` for the abstract namespace). ``kiosk run`` sends
``READY=1`` once its first frame is drawn, ``WATCHDOG=1`` from the UI's main loop every half
``$WATCHDOG_USEC`` (a frozen loop stops pinging, so systemd kills and restarts it) and
``STOPPING=1`` on exit. Outside systemd (no ``NOTIFY_SOCKET``) every call does nothing.

``log_to_stderr`` makes ``kiosk run`` write one line per record to stderr: under journald with
the ``<N>`` priority prefix journald understands (``journalctl -u kiosk -p warning`` works) and
no timestamp (the journal has one); a fault's exception is folded into the same line.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
import traceback
from collections.abc import Mapping
from typing import TextIO

log = logging.getLogger(__name__)


class Notifier:
    """Sends ``sd_notify`` messages; does nothing when not started by systemd."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        raw = env.get("NOTIFY_SOCKET", "")
        self.address: str | None = None
        """Where messages go (abstract names start with a NUL byte); None: nowhere."""
        if raw.startswith("@"):
            self.address = "\0" + raw[1:]
        elif raw.startswith("/"):
            self.address = raw
        self.watchdog_s: float | None = None
        """Seconds between two ``WATCHDOG=1`` pings (half of systemd's timeout), or None."""
        usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
        if self.address and usec.isdigit() and int(usec) > 0 and pid in ("", str(os.getpid())):
            self.watchdog_s = int(usec) / 2e6
        self._sock: socket.socket | None = None
        self._failed = False
        self._last_ping = 0.0

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *fields: str) -> bool:
        """Send ``KEY=VALUE`` fields as one message; False if not sent (never raises)."""
        if self.address is None:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto("\n".join(fields).encode(), self.address)
            return True
        except OSError as exc:
            if not self._failed:  # once: a missing socket must not flood the log
                self._failed = True
                log.warning("systemd notification socket %s not reachable: %s",
                            self.address.replace("\0", "@"), exc)
            return False

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={text}")

    def watchdog(self) -> bool:
        """Tell systemd the loop is alive (at most twice per ping interval)."""
        if self.watchdog_s is None:
            return False
        now = time.monotonic()
        if now - self._last_ping < self.watchdog_s / 2:
            return False
        self._last_ping = now
        return self.notify("WATCHDOG=1")

    def stopping(self, status: str = "") -> bool:
        return self.notify("STOPPING=1", *([f"STATUS={status}"] if status else []))

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


# -- logging ---------------------------------------------------------------------------------

PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6,
            logging.DEBUG: 7}
"""syslog priorities of Python's levels (journald reads a leading ``<N>``)."""


class OneLineFormatter(logging.Formatter):
    """``<4>kiosk.ui.controller: stage failed: ...`` — one line per record, exception folded
    in as ``[ValueError: boom at pipeline.py:120]``."""

    def __init__(self, journal: bool) -> None:
        super().__init__("%(name)s: %(message)s" if journal else
                         "%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:
        exc, record.exc_info, record.exc_text = record.exc_info, None, None
        try:
            line = super().format(record)
        finally:
            record.exc_info = exc
        if exc and exc[1] is not None:
            line += f" [{fold_exception(exc[1])}]"
        line = " ".join(line.split("\n"))
        if self.journal:
            line = f"<{PRIORITY.get(record.levelno, 6)}>{line}"
        return line


def fold_exception(exc: BaseException) -> str:
    """``ValueError: boom at pipeline.py:120`` (the innermost frame)."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        text += f" at {os.path.basename(last.filename)}:{last.lineno}"
    return text


def under_journal(stream: TextIO | None = None) -> bool:
    """Whether stderr is connected to journald (``$JOURNAL_STREAM`` names its device:inode)."""
    expected = os.environ.get("JOURNAL_STREAM", "")
    try:
        st = os.fstat((stream or sys.stderr).fileno())
    except (OSError, AttributeError, ValueError):
        return False
    return expected == f"{st.st_dev}:{st.st_ino}"


def log_to_stderr(level: int = logging.INFO) -> None:
    """Send log records to stderr, one line each (idempotent): the kiosk's from ``level``,
    every library's warnings, and Kivy's own (it does not propagate them) from WARNING, so
    that a window that cannot open on the console says why in the journal."""
    root = logging.getLogger()
    if any(getattr(h, "kiosk_stderr", False) for h in root.handlers):
        return
    formatter = OneLineFormatter(journal=under_journal())
    for logger, floor in ((root, logging.NOTSET), (logging.getLogger("kivy"), logging.WARNING)):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter)
        handler.setLevel(floor)
        handler.kiosk_stderr = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logging.getLogger("kiosk").setLevel(level)
