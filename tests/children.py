"""Reading a child process's output with a deadline, so a test whose child hangs fails in one
line instead of hanging the suite."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest


def lines_of(child: subprocess.Popen[str], deadline_s: float) -> Iterator[str]:
    """Each line ``child`` prints, until it closes its output. Past ``deadline_s`` seconds the
    child is killed and the test fails, saying what it was waiting for."""
    assert child.stdout is not None
    stdout = child.stdout
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        try:
            for line in stdout:
                lines.put(line)
        except ValueError:  # closed by the test while reading
            pass
        finally:
            lines.put(None)

    threading.Thread(target=read, daemon=True, name="child-reader").start()
    end = time.monotonic() + deadline_s
    while True:
        try:
            line = lines.get(timeout=max(end - time.monotonic(), 0.0))
        except queue.Empty:
            child.kill()
            pytest.fail(f"{child.args!r} printed nothing more for {deadline_s:.0f} s "
                        "(killed)", pytrace=False)
        if line is None:
            return
        yield line
