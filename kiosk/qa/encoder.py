"""The question encoders behind the ``Encoder`` port: Universal Sentence Encoder multilingual
(ONNX, 512-d) here, multilingual-e5-small in ``kiosk/qa/e5.py`` (384-d), and ``FusedEncoder``,
several read as one (``models.encoder = "a,b"``). Strings in, unit-length vectors out;
onnxruntime is imported only when a model is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kiosk.errors import ModelError
from kiosk.models import ModelSpec, combined_sha256, get_spec, installed_path
from kiosk.paths import DataDir
from kiosk.ports import Encoder, Vectors


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

    def encode(self, texts: Sequence[str], passage: bool = False, batch: int = 64) -> Vectors:
        """USE reads questions and passages alike (``passage`` is ignored)."""
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


def load_encoder(data: DataDir, model_id: str, threads: int = 1) -> Encoder:
    """The installed encoder; ModelError with the install command when it is missing."""
    from kiosk.engines import engine_for

    spec: ModelSpec = get_spec(model_id)
    encoder: Encoder = engine_for(spec, "question-encoder").open()(data, spec, threads)
    return encoder


class FusedEncoder:
    """Several encoders read as one: their unit vectors side by side (each part unit-length),
    so a bundle stores one table and the answer scorer weighs each part's similarity."""

    def __init__(self, parts: Sequence[Encoder]) -> None:
        self.parts = list(parts)
        self.widths = [p.encode(["?"]).shape[1] for p in self.parts]
        self.model_id = "+".join(p.model_id for p in self.parts)
        self.sha256 = fused_sha256([p.sha256 for p in self.parts])

    def encode(self, texts: Sequence[str], passage: bool = False) -> Vectors:
        return np.hstack([p.encode(texts, passage) for p in self.parts]).astype(np.float32)


def primary(encoder: Encoder) -> Encoder:
    """The first encoder of ``models.encoder``: what grouping visitors' questions uses (its
    cosines are what ``insights.cluster.THRESHOLD`` was set on; fused vectors are not
    unit-length)."""
    return encoder.parts[0] if isinstance(encoder, FusedEncoder) else encoder


def split(encoder: Encoder, vectors: Vectors) -> list[tuple[Encoder, Vectors]]:
    """Each part of a (possibly fused) encoder with its columns of ``vectors``."""
    if not isinstance(encoder, FusedEncoder):
        return [(encoder, vectors)]
    out, start = [], 0
    for part, width in zip(encoder.parts, encoder.widths, strict=True):
        out.append((part, vectors[:, start:start + width]))
        start += width
    if start != vectors.shape[1]:
        raise ModelError(f"the content's vectors have {vectors.shape[1]} columns, the encoders "
                         f"{encoder.model_id} make {start} — rebuild the bundle")
    return out


def encoder_ids(model_ids: str) -> list[str]:
    """The catalog ids in ``models.encoder`` (one, or several separated by commas)."""
    return [m.strip() for m in model_ids.split(",") if m.strip()]


def _required_ids(model_ids: str) -> list[str]:
    ids = encoder_ids(model_ids)
    if not ids:
        raise ModelError("models.encoder is empty — give a question encoder from "
                         "`kiosk models list`")
    return ids


def fused_sha256(shas: Sequence[str]) -> str:
    """The identity of several encoders read as one (what a fused bundle records)."""
    return combined_sha256(list(shas))


def identity(model_ids: str) -> tuple[str, str]:
    """(id, sha256) a bundle built with ``models.encoder`` records, from the catalog alone
    (nothing loaded): what `content sync` and `doctor` compare a bundle's manifest with."""
    specs = [get_spec(m) for m in _required_ids(model_ids)]
    if len(specs) == 1:
        return specs[0].id, specs[0].sha256
    return "+".join(s.id for s in specs), fused_sha256([s.sha256 for s in specs])


def load_encoders(data: DataDir, model_ids: str, threads: int = 1) -> Encoder:
    """``models.encoder``: one catalog id, or several separated by commas (fused)."""
    ids = _required_ids(model_ids)
    encoders = [load_encoder(data, m, threads) for m in ids]
    return encoders[0] if len(encoders) == 1 else FusedEncoder(encoders)


def open_engine(data: DataDir, spec: ModelSpec, threads: int = 1) -> OnnxEncoder:
    """The registry's loader (``kiosk.engines``) for the Universal Sentence Encoder graph."""
    path = installed_path(data, spec, spec.files[0].name)
    return OnnxEncoder(path, spec.id, spec.sha256, threads=threads)
