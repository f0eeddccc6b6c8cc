"""The microphone and the speakers through sounddevice (PortAudio).

The only module that imports sounddevice. The audio callback only copies into a queue; all
work happens on the reader's thread. A missing or vanished device is an AudioError saying what
to do; ``start`` opens the device again once it is back.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from kiosk.audio.wav import RATE
from kiosk.errors import AudioError
from kiosk.ports import Samples


def _sd() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # PortAudio library missing
        raise AudioError(f"PortAudio is not installed ({exc}) — `apt install libportaudio2`") \
            from None
    return sounddevice


class Microphone:
    """16 kHz mono int16 capture, callback → queue (implements ``ports.Microphone``)."""

    def __init__(self, device: str | int | None = None, block_ms: int = 100,
                 reopen_s: float = 2.0) -> None:
        self.device = device if device not in ("", None) else None
        self.block = RATE * block_ms // 1000
        self.reopen_s = reopen_s
        self._queue: queue.Queue[bytes] = queue.Queue()
        self._stream: Any = None
        self._closed = threading.Event()

    def open(self) -> None:
        sd = _sd()
        try:
            self._stream = sd.RawInputStream(
                samplerate=RATE, blocksize=self.block, dtype="int16", channels=1,
                device=self.device, callback=self._callback)
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            self._stream = None
            raise AudioError(f"no microphone {self.device or '(default)'} ({exc}) — plug one "
                             "in, or set audio.input_device (`python -m sounddevice` lists "
                             "them)") from None

    def start(self) -> None:
        """Capture from now on (opens the device if it is not open)."""
        if self._stream is None:
            self.open()

    def _callback(self, data: Any, frames: int, when: Any, status: Any) -> None:
        self._queue.put(bytes(data))

    def chunks(self, timeout_s: float = 2.0) -> Iterator[Samples]:
        """Float samples as they arrive. A device that stops delivering (unplugged) is closed
        and reported as AudioError; the next ``start`` opens it again when it is back."""
        if self._stream is None:
            self.open()
        while not self._closed.is_set():
            try:
                raw = self._queue.get(timeout=timeout_s)
            except queue.Empty:
                self._stop_stream()
                raise AudioError(f"the microphone {self.device or '(default)'} stopped sending "
                                 "sound (unplugged?) — plug it back in; listening starts "
                                 "again when it is back") from None
            yield np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768.0

    def _stop_stream(self) -> None:
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except Exception:  # noqa: BLE001 - the device may already be gone
                pass
            self._stream = None

    def drain(self) -> None:
        """Forget what was captured so far (e.g. while the kiosk was speaking)."""
        while not self._queue.empty():
            self._queue.get_nowait()

    def close(self) -> None:
        self._closed.set()
        self._stop_stream()


class Speakers:
    """Plays samples; ``stop`` cuts the sound at once."""

    def __init__(self, device: str | int | None = None) -> None:
        self.device = device if device not in ("", None) else None
        self._stop = threading.Event()

    def play(self, samples: Samples, rate: int = RATE,
             on_position: Callable[[float], None] | None = None) -> bool:
        """Play to the end (True) or until ``stop`` (False); ``on_position`` is told the
        time (s) in ``samples`` about to be heard, every 100 ms."""
        sd = _sd()
        self._stop.clear()
        block = rate // 10
        try:
            with sd.OutputStream(samplerate=rate, channels=1, dtype="float32",
                                 device=self.device) as stream:
                for start in range(0, len(samples), block):
                    if self._stop.is_set():
                        return False
                    if on_position is not None:
                        on_position(start / rate)
                    stream.write(samples[start:start + block].reshape(-1, 1))
        except (sd.PortAudioError, ValueError) as exc:
            raise AudioError(f"no speakers {self.device or '(default)'} ({exc}) — check the "
                             "audio output, or set audio.output_device") from None
        return True

    def stop(self) -> None:
        self._stop.set()
