"""The question encoder: Universal Sentence Encoder multilingual (ONNX) via onnxruntime.

The only module that imports onnxruntime. Strings in, unit-length 512-d vectors out.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kiosk.errors import ModelError
from kiosk.models import ModelSpec, get_spec, installed_path
from kiosk.paths import DataDir
from kiosk.ports import Vectors


class OnnxEncoder:
    """Runs the encoder model file with onnxruntime and its extensions' custom ops."""

    def __init__(self, path: Path, model_id: str, sha256: str, threads: int = 1) -> None:
        try:
            import onnxruntime as ort
            import onnxruntime_extensions as ortx
        except ImportError as exc:
            raise ModelError(f"onnxruntime is not installed ({exc}) — run `make setup`") from exc
        options = ort.SessionOptions()
        options.register_custom_ops_library(ortx.get_library_path())
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own unexported exception types
            raise ModelError(f"cannot load encoder {path}: {exc} — reinstall it with "
                             f"`kiosk models install {model_id}`") from exc
        self._input = self._session.get_inputs()[0].name
        self.model_id = model_id
        self.sha256 = sha256

    def encode(self, texts: Sequence[str], batch: int = 64) -> Vectors:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        parts = []
        for start in range(0, len(texts), batch):
            chunk = np.array(list(texts[start:start + batch]), dtype=object)
            out = self._session.run(None, {self._input: chunk})[0]
            parts.append(np.asarray(out, dtype=np.float32))
        vectors = np.concatenate(parts)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.asarray(vectors / np.maximum(norms, 1e-9), dtype=np.float32)


def load_encoder(data: DataDir, model_id: str, threads: int = 1) -> OnnxEncoder:
    """The installed encoder; ModelError with the install command when it is missing."""
    spec: ModelSpec = get_spec(model_id)
    if spec.role != "question-encoder":
        raise ModelError(f"model '{model_id}' is a {spec.role}, not a question encoder — "
                         "fix models.encoder in the settings")
    path = installed_path(data, spec, spec.files[0].name)
    return OnnxEncoder(path, spec.id, spec.files[0].sha256, threads=threads)
