"""Can the installed e5 model read better than its one vector per text? A pilot, on the
training packs' detail questions only (never a held-out set), printed as one table.

    .venv/bin/python bench/reading.py            # every pack in tests/data/train
    .venv/bin/python bench/reading.py --no-cross # the quick rows only (~30 s)

For each detail question (its ``contains`` string lies in one or more sentences of the expected
work's description), how often does each way of scoring pick a sentence holding it among that
work's sentences?

- pooled: the cosine of e5's pooled question and sentence vectors (what the kiosk uses now);
- late interaction: e5's last-layer token vectors (one output added to the graph, in a temporary
  file next to the installed one), each question token's best cosine to a sentence token,
  averaged (plain, and weighted by how rare the token is among the work's sentences);
- cross head: e5 reading question and sentence as one text, its pooled vector (with the pooled
  cosine) scored by a linear head trained on the other packs (leave-one-pack-out, softmax over
  the work's sentences, Adam, deterministic). The body stays frozen.

Needs the e5 model installed (``kiosk models install e5-multilingual-small-q4``) and onnx.
The installed model carries the reading adapter (``scripts/train_reader.py``), which learnt
from five of these packs: its rows mix seen and unseen packs. The adapter's honest figure is
``scripts/train_reader.py --folds``; the rows of the model without it were 59.1 % (pooled),
59.4 % and 60.2 % (late interaction), 59.9 % (cross head).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "tests" / "data" / "train"
sys.path.insert(0, str(ROOT))

from bench.tables import Table, show  # noqa: E402
from kiosk.content.loader import read_pack  # noqa: E402
from kiosk.content.model import pick  # noqa: E402
from kiosk.evaluation import load_questions  # noqa: E402
from kiosk.qa.text import fold, sentences  # noqa: E402

Vec = np.ndarray


class Reader:
    """The installed e5 graph with its last layer's token states as a second output."""

    def __init__(self) -> None:
        import onnx
        import onnxruntime as ort

        from kiosk.models import get_spec, installed_path
        from kiosk.paths import DataDir, resolve_data_dir
        from kiosk.qa.e5 import GRAPH, TOKENIZER
        from kiosk.qa.e5_tokenizer import E5Tokenizer

        data = DataDir(resolve_data_dir())
        spec = get_spec("e5-multilingual-small-q4")
        graph = installed_path(data, spec, GRAPH)
        model = onnx.load(str(graph), load_external_data=False)
        self.states = next(n for n in model.graph.node if n.output[0] == "pool.x").input[0]
        model.graph.output.append(onnx.helper.make_tensor_value_info(
            self.states, onnx.TensorProto.FLOAT, None))
        tmp = graph.parent / "reading-pilot.onnx"  # beside the weights it refers to
        onnx.save(model, str(tmp))
        try:
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            self.session = ort.InferenceSession(str(tmp), options,
                                                providers=["CPUExecutionProvider"])
        finally:
            tmp.unlink()
        self.tok = E5Tokenizer.load(installed_path(data, spec, TOKENIZER))
        self.cache: dict[tuple[str, bool], tuple[Vec, Vec, list[int]]] = {}
        self.prefix = {passage: len(self.tok.content("", passage)) for passage in (False, True)}

    def ids(self, text: str, passage: bool) -> list[int]:
        """Token ids with the 'query: ' / 'passage: ' prefix."""
        return list(self.tok.content(text, passage))[:500]

    def run(self, ids: list[int]) -> tuple[Vec, Vec]:
        s = self.tok.specials
        row = np.array([[s.bos, *ids, s.eos]], np.int64)
        pooled, states = self.session.run(["pooled", self.states],
                                          {"input_ids": row, "attention_mask": np.ones_like(row)})
        return pooled[0] / np.linalg.norm(pooled[0]), states[0][1:-1]

    def read(self, text: str, passage: bool) -> tuple[Vec, Vec, list[int]]:
        """Pooled unit vector, unit token vectors and ids of the text (prefix left out)."""
        key = (text, passage)
        if key not in self.cache:
            ids = self.ids(text, passage)
            pooled, states = self.run(ids)
            tokens = states[self.prefix[passage]:]
            self.cache[key] = (pooled, tokens / np.linalg.norm(tokens, axis=1, keepdims=True),
                               ids[self.prefix[passage]:])
        return self.cache[key]


def late(question: Vec, sentence: Vec, weights: Vec | None = None) -> float:
    best = (question @ sentence.T).max(axis=1)
    return float((best * weights).sum() / weights.sum()) if weights is not None else \
        float(best.mean())


def scorer_packs() -> list[str]:
    """The packs of ``tests/data/train`` the answer scorer learns from (its recipe)."""
    recipe = tomllib.loads((ROOT / "kiosk" / "qa" / "train" / "recipe.toml").read_text(
        encoding="utf-8"))
    return sorted({Path(s["pack"]).parent.name for s in recipe["set"]
                   if Path(s["pack"]).parent.parent == Path("tests/data/train")})


def groups_of(folder: Path) -> list[tuple[Any, list[str], np.ndarray]]:
    """(question, its work's sentences, which hold the answer) for each detail question."""
    pack = read_pack(folder / "pack")
    works = {e.id: e for e in pack.exhibits}
    out = []
    for item in load_questions(folder / "questions.yaml"):
        if item.tag != "detail" or item.expect not in works or not item.contains:
            continue
        text = pick(works[item.expect].description, item.lang, pack.museum.default_language)[0]
        said = sentences(text)
        holds = np.array([all(fold(c) in fold(s) for c in item.contains) for s in said])
        if holds.any() and len(said) >= 2:
            out.append((item, said, holds))
    return out


def fit_head(rows: list[tuple[Vec, Vec]], steps: int = 400, l2: float = 1e-3,
             rate: float = 0.05) -> Vec:
    """Weights of a linear head: softmax over each question's sentences, full-batch Adam."""
    w = np.zeros(rows[0][0].shape[1])
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        g = np.zeros_like(w)
        for x, holds in rows:
            z = x @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            g += x.T @ (p - holds / holds.sum())
        g = g / len(rows) + 2 * l2 * w
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w -= rate * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return w


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-cross", action="store_true", help="skip the cross head (slow)")
    args = parser.parse_args()
    reader = Reader()
    folders = sorted(p for p in TRAIN.iterdir()
                     if (p / "questions.yaml").is_file())
    hits: Counter[str] = Counter()
    chance = 0.0
    cross_rows: dict[str, list[tuple[Vec, Vec]]] = {}
    n = 0
    for folder in folders:
        cross_rows[folder.name] = []
        for item, said, holds in groups_of(folder):
            q, q_tokens, q_ids = reader.read(item.q, False)
            read = [reader.read(s, True) for s in said]
            df = Counter(i for _, _, ids in read for i in set(ids))
            rare = np.array([np.log(1 + len(said) / (1 + df[i])) for i in q_ids])
            scores = {
                "pooled cosine (now)": [float(q @ r[0]) for r in read],
                "late interaction": [late(q_tokens, r[1]) for r in read],
                "late interaction, rare tokens weigh more": [late(q_tokens, r[1], rare)
                                                             for r in read],
            }
            for name, values in scores.items():
                hits[name] += int(holds[int(np.argmax(values))])
            chance += holds.mean()
            n += 1
            if not args.no_cross:
                q_ids_full = reader.ids(item.q, False)
                joint = np.stack([reader.run(q_ids_full + reader.ids(s, True))[0] for s in said])
                cos = np.array([float(q @ r[0]) for r in read])
                cross_rows[folder.name].append((np.hstack([joint, 10 * cos[:, None]]), holds))
    if not args.no_cross:
        for held, rows in cross_rows.items():
            w = fit_head([r for name, rs in cross_rows.items() if name != held for r in rs])
            hits["cross head (frozen body, leave-one-pack-out)"] += sum(
                int(holds[int(np.argmax(x @ w))]) for x, holds in rows)
    table = Table(f"Reading pilot — detail questions of {len(folders)} training packs: the "
                  "sentence holding the answer ranked first among its work's sentences",
                  ".venv/bin/python bench/reading.py", ["scoring", "questions", "first"])
    for name, count in hits.items():
        table.rows.append([name, str(n), f"{100 * count / n:.1f} %"])
    table.rows.append(["chance (one sentence at random)", str(n), f"{100 * chance / n:.1f} %"])
    show(table)


if __name__ == "__main__":
    main()
