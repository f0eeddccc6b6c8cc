"""Calibrate the answerer's thresholds on a dev set: a grid of [qa] settings, scored by eval.

    .venv/bin/python bench/calibrate.py [--content PACK] [--questions QUESTIONS.yaml]

Prints the best settings by the worse of in-scope and refusal accuracy (both matter: a kiosk
that answers everything fails visitors as much as one that answers nothing).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.evaluation import load_questions, run_eval  # noqa: E402
from kiosk.paths import DataDir, resolve_data_dir  # noqa: E402
from kiosk.ports import Encoder, Vectors  # noqa: E402
from kiosk.qa.answerer import KioskAnswerer  # noqa: E402
from kiosk.qa.encoder import load_encoder  # noqa: E402
from kiosk.qa.intents import Intents  # noqa: E402
from kiosk.runtime import open_content  # noqa: E402
from kiosk.settings import QaSettings, Settings  # noqa: E402

GRID = {
    "answer_threshold": [0.35, 0.40, 0.45, 0.50],
    "fact_threshold": [0.40, 0.44, 0.48],
    "faq_threshold": [0.40, 0.45, 0.50],
    "passage_threshold": [0.45, 0.50],
    "other_exhibit_threshold": [0.65, 0.70],
    "decline_margin": [-0.05, 0.0, 0.03],
}


class CachedEncoder:
    """The real encoder, remembering what it already encoded (the grid asks the same texts)."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.model_id = encoder.model_id
        self.sha256 = encoder.sha256
        self.cache: dict[tuple[str, ...], Vectors] = {}

    def encode(self, texts: Sequence[str]) -> Vectors:
        key = tuple(texts)
        if key not in self.cache:
            self.cache[key] = self.encoder.encode(texts)
        return self.cache[key]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", type=Path, default=ROOT / "content" / "demo")
    parser.add_argument("--questions", type=Path, default=ROOT / "tests" / "data" / "devset.yaml")
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    encoder = CachedEncoder(load_encoder(DataDir(resolve_data_dir()), Settings().models.encoder))
    content = open_content(args.content, encoder)
    intents = Intents.build(encoder)
    questions = load_questions(args.questions)
    museum = content.pack.museum
    rows = []
    names = list(GRID)
    for values in itertools.product(*GRID.values()):
        qa = dataclasses.replace(QaSettings(), **dict(zip(names, values, strict=True)))
        answerer = KioskAnswerer(content.pack, content.units, content.vectors, encoder, qa,
                                 intents=intents)
        report = run_eval(answerer, museum.default_language, museum.languages, questions)
        rows.append((min(report["in_scope_accuracy"], report["refusal_accuracy"]),
                     report["accuracy"], report["in_scope_accuracy"],
                     report["refusal_accuracy"], values))
    rows.sort(reverse=True)
    print(f"{len(rows)} settings tried on {args.questions.name} ({len(questions)} questions)")
    print("min    acc    in-scope refusal  " + "  ".join(names))
    default = tuple(getattr(QaSettings(), n) for n in names)
    for row in rows[: args.top] + [r for r in rows if r[4] == default]:
        mark = "  ← defaults" if row[4] == default else ""
        print(f"{row[0]:.3f}  {row[1]:.3f}  {row[2]:.3f}    {row[3]:.3f}    "
              + "  ".join(f"{v:<{len(n)}}" for v, n in zip(row[4], names, strict=True)) + mark)


if __name__ == "__main__":
    main()
