"""Content hot reload, without Kivy: notice a new ``versions/current`` and open it off the UI
thread.

The app calls ``VersionWatcher.check()`` from its clock every few seconds (cheap: one
``readlink``). When ``current`` names another version — after ``kiosk content sync`` or
``kiosk content rollback`` — ``on_change`` gets that version's folder; the app opens it with
``open_in_background`` and swaps it in between conversations. A version that cannot be opened
is logged in one line and the kiosk keeps serving what it has.

``poll_source`` is the other side, for ``kiosk content sync SRC --watch``: it notices when a
distribution folder (USB stick, Syncthing folder) changes and runs a sync again.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from kiosk.errors import KioskError
from kiosk.paths import DataDir

log = logging.getLogger(__name__)

T = TypeVar("T")


class VersionWatcher:
    """Calls ``on_change(folder)`` when ``versions/current`` starts naming another folder."""

    def __init__(self, data: DataDir, on_change: Callable[[Path], None],
                 serving: Path | None = None) -> None:
        """``serving``: the folder the app opened at start (default: what ``current`` names
        now), so a sync between opening and watching is not missed."""
        self._link = data.versions / "current"
        self._on_change = on_change
        self._seen = _resolved(serving) if serving is not None else _resolved(self._link)

    @property
    def serving(self) -> Path | None:
        """The folder last announced (or the one served at start)."""
        return self._seen

    def check(self) -> bool:
        """True (and ``on_change`` called once) when ``current`` names a new folder."""
        target = _resolved(self._link)
        if target is None or target == self._seen:  # gone or unchanged: keep what we serve
            return False
        self._seen = target
        self._on_change(target)
        return True


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, dangling, or a symlink loop
        return None


def open_in_background(path: Path, open_fn: Callable[[Path], T],
                       deliver: Callable[[T], None],
                       deliver_error: Callable[[Exception], None] | None = None,
                       ) -> threading.Thread:
    """Run ``open_fn(path)`` on a daemon thread; hand its result to ``deliver``.

    A failure never escapes the thread: a ``KioskError`` (a damaged bundle, another encoder) is
    logged as its one line, anything else with its traceback (a bug), then ``deliver_error``
    gets the exception so the app can keep its current content. ``deliver`` and
    ``deliver_error`` are called on the worker thread: wrap them (Kivy's ``mainthread``) to
    touch the UI.
    """
    def work() -> None:
        try:
            result = open_fn(path)
        except KioskError as exc:
            log.warning("content %s not loaded, still serving the previous content: %s",
                        path, exc)
            failed: Exception = exc
        except Exception as exc:  # a bug or an OS fault must not stop the kiosk
            log.exception("content %s not loaded, still serving the previous content", path)
            failed = exc
        else:
            deliver(result)
            return
        if deliver_error is not None:
            deliver_error(failed)

    thread = threading.Thread(target=work, name=f"open-content-{path.name[:12]}", daemon=True)
    thread.start()
    return thread


def fingerprint(source: Path, limit: int = 10_000) -> tuple[tuple[str, int, int], ...]:
    """What ``source`` holds (names, sizes, modification times): cheap to compare between
    polls; () when it is missing (a USB stick taken out)."""
    found: list[tuple[str, int, int]] = []
    try:
        info = source.lstat()
    except OSError:
        return ()
    found.append((".", info.st_size, info.st_mtime_ns))
    for top, dirs, names in os.walk(source, followlinks=False):
        dirs.sort()
        for name in sorted([*dirs, *names]):
            path = Path(top) / name
            try:
                info = path.lstat()
            except OSError:
                continue
            found.append((path.relative_to(source).as_posix(), info.st_size, info.st_mtime_ns))
            if len(found) >= limit:
                return tuple(found)
    return tuple(found)


def poll_source(source: Path, step: Callable[[], None], interval: float,
                stop: threading.Event) -> None:
    """Call ``step()`` now and whenever what ``source`` holds changes (checked every
    ``interval`` seconds), until ``stop`` is set. A change during a step triggers another."""
    last: tuple[tuple[str, int, int], ...] | None = None
    while not stop.is_set():
        now = fingerprint(source)
        if now != last:
            last = now
            step()
        stop.wait(interval)
