"""Train the answer scorer: ``python -m kiosk.qa.train [--encoders ID[,ID]] [--cv]``.

Reads ``recipe.toml`` (the question sets and the fit's settings), builds every candidate of
every question with the installed encoders, fits the weights and the thresholds, and writes
``kiosk/qa/weights/<encoders>.json``. The same recipe and models always write the same file.
``--cv`` also prints leave-one-set-out figures (each set scored by weights fitted on the
others), the honest way to compare features without touching a held-out set.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.evaluation import load_questions
from kiosk.paths import DataDir, resolve_data_dir
from kiosk.qa.answerer import encoder_key
from kiosk.qa.encoder import encoder_ids, load_encoder
from kiosk.qa.policy import Thresholds
from kiosk.qa.sources import feature_names
from kiosk.qa.train.examples import CachedEncoder, Example, answerer_for, examples
from kiosk.qa.train.fit import choose_thresholds, fit, make_weights, outcome, probabilities

ROOT = Path(__file__).resolve().parents[3]
RECIPE = Path(__file__).with_name("recipe.toml")
OUT = Path(__file__).resolve().parents[1] / "weights"


def build_examples(recipe: dict[str, Any], encoders: list[Any], root: Path,
                   log: Any = print) -> list[Example]:
    out: list[Example] = []
    for item in recipe["set"]:
        start = time.perf_counter()
        answerer = answerer_for(root / item["pack"], encoders)
        made = examples(answerer, load_questions(root / item["questions"]), item["questions"])
        usable = sum(e.positive.any() or e.question.expect == "none" for e in made)
        log(f"train: {item['questions']}: {len(made)} questions ({usable} with a labelled "
            f"answer or none), {sum(len(e.features) for e in made)} candidates, "
            f"{time.perf_counter() - start:.1f} s")
        out += made
    return out


def train(recipe: dict[str, Any], built: list[Example], keys: tuple[str, ...],
          meta: dict[str, Any]) -> tuple[Any, dict[str, float]]:
    f, d = recipe["fit"], recipe["decide"]
    w, b, mean, scale, loss = fit(built, f["l2"], f["steps"], f["learning_rate"])
    features = tuple(feature_names(list(keys)))
    weights = make_weights(keys, features, w, b, mean, scale, {"answer": 0.5, "clarify": 0.4},
                           meta)
    chosen, shares = choose_thresholds(built, weights, d["answer"], d["clarify"],
                                       d["wrong_cost"], d["clarify_cost"])
    weights = make_weights(keys, features, w, b, mean, scale,
                           {"answer": chosen.answer, "clarify": chosen.clarify},
                           {**meta, "loss": round(loss, 6), "train_outcomes": shares})
    return weights, shares


def cross_validate(recipe: dict[str, Any], built: list[Example], keys: tuple[str, ...],
                   failures: Path | None = None) -> None:
    """Each set scored by weights and thresholds fitted on the other sets; ``failures`` gets
    one JSON line per question not answered right (training sets only: never a held-out one)."""
    missed: list[dict[str, Any]] = []
    print(f"{'left out':<48} {'n':>4} {'right':>7} {'wrong':>7} {'declined':>9} {'clarif':>7}")
    totals: dict[str, int] = {}
    for name in dict.fromkeys(e.source for e in built):
        rest = [e for e in built if e.source != name]
        held = [e for e in built if e.source == name]
        weights, _ = train(recipe, rest, keys, {})
        t = Thresholds(weights.thresholds["answer"], weights.thresholds["clarify"])
        probs = [probabilities(weights, e) for e in held]
        results = [outcome(e, p, t) for e, p in zip(held, probs, strict=True)]
        missed += [_missed(name, e, p, r)
                   for e, p, r in zip(held, probs, results, strict=True) if r != "right"]
        for r in results:
            totals[r] = totals.get(r, 0) + 1
        print(f"{name:<48} {len(held):>4} " + " ".join(
            f"{results.count(k) / len(held):>7.1%}" for k in ("right", "wrong", "declined"))
            + f" {results.count('clarified') / len(held):>7.1%}")
    n = sum(totals.values())
    print(f"{'all (each scored when left out)':<48} {n:>4} " + " ".join(
        f"{totals.get(k, 0) / n:>7.1%}" for k in ("right", "wrong", "declined"))
        + f" {totals.get('clarified', 0) / n:>7.1%}")
    if failures is not None:
        failures.write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in missed),
                            encoding="utf-8")


def _missed(name: str, e: Example, probs: np.ndarray, result: str) -> dict[str, Any]:
    """One question not answered right: its three likeliest candidates (work, label,
    probability, right?) and the rank of the first right one (None: no candidate was)."""
    order = np.argsort(-probs).tolist()
    q = e.question
    return {"set": name, "outcome": result, "q": q.q, "lang": q.lang, "expect": q.expect,
            "about": q.about,
            "top": [[e.works[i] or "faq", e.labels[i], round(float(probs[i]), 3),
                     bool(e.positive[i])] for i in order[:3]],
            "positive_rank": next((k for k, i in enumerate(order) if e.positive[i]), None)}


def _encoder(data: DataDir, model_id: str) -> Any:
    """An installed encoder, or "hashing": the model-free one the tests run the kiosk with."""
    if model_id == "hashing":
        from kiosk.testing import HashingEncoder

        return HashingEncoder()
    return load_encoder(data, model_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--encoders", default="use-multilingual-v3-int8",
                        help="catalog ids, comma-separated (the first is the primary)")
    parser.add_argument("--recipe", type=Path, default=RECIPE)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--cv", action="store_true", help="print leave-one-set-out figures")
    parser.add_argument("--cv-failures", type=Path,
                        help="with --cv: write the questions not answered right (JSON lines)")
    args = parser.parse_args(argv)
    recipe_bytes = args.recipe.read_bytes()
    recipe = tomllib.loads(recipe_bytes.decode("utf-8"))
    data = DataDir(resolve_data_dir())
    encoders = [CachedEncoder(_encoder(data, model_id)) for model_id in encoder_ids(args.encoders)]
    keys = tuple(encoder_key(e.model_id) for e in encoders)
    built = build_examples(recipe, encoders, ROOT)
    if args.cv:
        cross_validate(recipe, built, keys, args.cv_failures)
    meta = {"recipe_sha256": hashlib.sha256(recipe_bytes).hexdigest(),
            "encoders": [f"{e.model_id} {e.sha256[:12]}" for e in encoders],
            "questions": len(built), "candidates": sum(len(e.features) for e in built)}
    weights, shares = train(recipe, built, keys, meta)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / ("+".join(keys) + ".json")
    path.write_text(json.dumps(weights.to_json(), indent=1, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    print(f"train: wrote {path} — thresholds answer {weights.thresholds['answer']}, clarify "
          f"{weights.thresholds['clarify']}; on its own training questions: {shares}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
