"""A speech engine in a child process, with a watchdog: the kiosk never hangs on speech.

Both engines are C libraries that run in the caller's thread (py-nanotts holds the GIL for
the whole synthesis, so in-process it would freeze the touchscreen's thread too); a hang or a
crash in one must cost a restart, not the kiosk. The child serves one request at a time over a
pipe; a request that gets no answer within the deadline, or a child that dies, is retried once
in a fresh child, then reported as a SpeechError.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from kiosk.errors import SpeechError

Target = Callable[[Connection], None]
"""The child's main loop: reads requests from the pipe (None: stop) and sends replies."""


class Worker:
    """One child process running ``target``, restarted by the watchdog when it hangs or dies."""

    def __init__(self, target: Target, engine: str, fix: str) -> None:
        self.target = target
        self.engine = engine
        """Named in errors, e.g. "espeak-ng"."""
        self.fix = fix
        """What to check when it hangs twice, e.g. "that espeak-ng is installed (...)"."""
        self.restarts = 0
        """How many times the watchdog restarted a hung or dead child."""
        self._proc: Any = None
        self._conn: Connection | None = None

    def start(self) -> Connection:
        """Start the child unless it runs (without waiting for it to be ready)."""
        if self._proc is None or not self._proc.is_alive() or self._conn is None:
            ctx = mp.get_context("spawn")
            parent, child = ctx.Pipe()
            self._proc = ctx.Process(target=self.target, args=(child,), daemon=True)
            self._proc.start()
            child.close()  # (the parent's copy: a dead child is then seen as EOF at once)
            self._conn = parent
        return self._conn

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(timeout=2)
        if self._conn is not None:
            self._conn.close()
        self._proc, self._conn = None, None

    def call(self, request: tuple[Any, ...], timeout_s: float) -> tuple[Any, ...]:
        """The child's reply to ``request``; a second try in a new child if the first hung or
        died; SpeechError if that one did too."""
        for attempt in (1, 2):
            conn = self.start()
            try:
                conn.send(request)
                if conn.poll(timeout_s):
                    reply: tuple[Any, ...] = conn.recv()
                    return reply
            except (EOFError, OSError):
                pass  # the child died: restart below
            self._kill()
            self.restarts += 1
            if attempt == 2:
                break
        raise SpeechError(f"speech synthesis hung twice (over {timeout_s:.0f} s, or its worker "
                          f"died; {self.engine}) — check {self.fix}")

    def close(self) -> None:
        """Ask the child to stop, then make sure it has."""
        if self._conn is not None:
            try:
                self._conn.send(None)
            except OSError:
                pass
        self._kill()
