"""Silero VAD v6 (ONNX, shipped inside the pinned faster-whisper package), frame by frame.

Checked against the sha256 pinned here before use; runs in onnxruntime; nothing downloaded.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import numpy as np

from kiosk.errors import ModelError
from kiosk.ports import Samples

FRAME = 512
"""Samples per VAD frame at 16 kHz (32 ms)."""
CONTEXT = 64
SILERO_SHA256 = "4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2"


def silero_path() -> Path:
    """The model file inside faster-whisper, verified."""
    try:
        path = Path(str(resources.files("faster_whisper").joinpath("assets/silero_vad_v6.onnx")))
    except ModuleNotFoundError:
        raise ModelError("faster-whisper is not installed — run `make setup`") from None
    if not path.is_file():
        raise ModelError(f"{path} is missing — reinstall faster-whisper==1.2.1")
    if hashlib.sha256(path.read_bytes()).hexdigest() != SILERO_SHA256:
        raise ModelError(f"{path} is not the pinned Silero VAD v6 — reinstall faster-whisper")
    return path


class SileroVad:
    """Speech probability of each 32 ms frame of a stream; ``reset`` between utterances."""

    def __init__(self, path: Path | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 4
        self._session = ort.InferenceSession(str(path or silero_path()), options,
                                             providers=["CPUExecutionProvider"])
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def feed(self, samples: Samples) -> list[float]:
        """Probabilities for every complete frame the new samples finish."""
        self._pending = np.concatenate([self._pending, samples.astype(np.float32)])
        out = []
        while len(self._pending) >= FRAME:
            frame, self._pending = self._pending[:FRAME], self._pending[FRAME:]
            window = np.concatenate([self._context, frame])[None, :]
            prob, self._h, self._c = self._session.run(
                None, {"input": window, "h": self._h, "c": self._c})
            self._context = frame[-CONTEXT:]
            out.append(float(np.asarray(prob).reshape(-1)[0]))
        return out
