"""The worker's side of ``tts.pico``: py-nanotts behind a pipe. Standard library only, so the
child process loads in a blink and holds little memory (no numpy).

py-nanotts 0.1.1 gives Pico a 2.5 MB working memory from ``malloc`` without clearing it, and
Pico reads some of it before writing it. The first call of a process gets fresh (zeroed) pages
from the system; after it is freed, glibc serves the next calls from its heap, holding what
the last call left. Seen here: "Look closely, on the left, at the little girl…" said a second
time in the same process lost its pause at the first comma and 0.6 s of its length, and each
call after that sounded slightly different. So the worker asks glibc to take every large
block from the system (``mallopt(M_MMAP_THRESHOLD)``): every call is then the first call,
and the same text always gives the same audio.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from multiprocessing.connection import Connection

M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter: blocks from this size on are mapped fresh from the system."""

FRESH_FROM = 128 * 1024
"""glibc's default threshold, fixed (it no longer rises after a large block is freed)."""


def fresh_memory() -> bool:
    """Ask glibc to map large blocks fresh (zeroed) every time; False where that cannot be
    asked (another C library)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, FRESH_FROM))
    except (OSError, AttributeError):
        return False


def serve(conn: Connection) -> None:  # pragma: no cover - runs in the child process
    """Answer ``(text, voice, speed, volume)`` requests with ``("ok", pcm bytes)``, ``("error",
    why)``, or ``("unavailable", why)`` when py-nanotts does not load; None stops."""
    try:
        _serve(conn)
    except (EOFError, OSError):
        pass  # the kiosk went away: nobody to answer


def _serve(conn: Connection) -> None:  # pragma: no cover - runs in the child process
    fresh_memory()
    try:
        from py_nanotts import NanoTTS

        tts = NanoTTS()
    except Exception as exc:  # noqa: BLE001 - told to the parent, which falls back
        failure = f"py-nanotts cannot load ({type(exc).__name__}: {exc})"
        while conn.recv() is not None:
            conn.send(("unavailable", failure))
        return
    while (request := conn.recv()) is not None:
        text, voice, speed, volume = request
        try:
            pcm = tts.speak(text, voice=voice, speed=speed, volume=volume)
        except Exception as exc:  # noqa: BLE001 - told to the parent, which raises SpeechError
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            conn.send(("ok", pcm))
