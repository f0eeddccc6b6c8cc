"""`kiosk calibrate`: re-fit the answer thresholds on a museum's own questions.

The questions are split in two by a hash of their text (the same split every time): the
thresholds are fitted on one half, and both the scorer's own thresholds and the fitted ones are
scored on the other half, which the fit never saw. Prints the `[qa]` lines to put in the
settings file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tomllib
from importlib import resources
from typing import Any

from kiosk.commands.common import data_dir, read_settings
from kiosk.errors import ContentError


def _half(text: str) -> int:
    return hashlib.sha256(text.encode("utf-8")).digest()[0] % 2


def main(args: argparse.Namespace) -> int:
    from kiosk.assembly import assemble
    from kiosk.evaluation import load_questions
    from kiosk.qa.policy import Thresholds
    from kiosk.qa.train.examples import examples
    from kiosk.qa.train.fit import choose_thresholds, outcome, probabilities

    settings = read_settings(args)
    kiosk = assemble(settings, data_dir(args), args.content)
    answerer, content = kiosk.answerer, kiosk.content
    questions = load_questions(args.questions)
    fit_part = [q for q in questions if _half(q.q + q.lang) == 0]
    check_part = [q for q in questions if _half(q.q + q.lang) == 1]
    if len(fit_part) < 10 or len(check_part) < 10:
        raise ContentError(f"{args.questions}: {len(questions)} questions are too few to "
                           "calibrate — write at least 40 (some the kiosk must decline)")
    recipe = tomllib.loads(resources.files("kiosk.qa.train").joinpath("recipe.toml")
                           .read_text(encoding="utf-8"))["decide"]
    wrong_cost = args.wrong_cost if args.wrong_cost is not None else recipe["wrong_cost"]
    fitted, _ = choose_thresholds(examples(answerer, fit_part, "fit"), answerer.weights,
                                  recipe["answer"], recipe["clarify"], wrong_cost,
                                  recipe["clarify_cost"])
    held = examples(answerer, check_part, "check")
    rows: dict[str, Any] = {}
    for label, t in (("now", answerer.thresholds), ("fitted", fitted)):
        results = [outcome(e, probabilities(answerer.weights, e), t) for e in held]
        rows[label] = {"answer_probability": t.answer, "clarify_probability": t.clarify,
                       **{k: round(results.count(k) / len(results), 4)
                          for k in ("right", "wrong", "declined", "clarified")}}
    report = {"content": content.label, "questions": len(questions), "fitted_on": len(fit_part),
              "checked_on": len(check_part), "wrong_cost": wrong_cost, **rows}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"kiosk calibrate — {args.questions.name} on {content.label}: thresholds fitted on "
          f"{len(fit_part)} questions, checked on the other {len(check_part)}")
    print(f"{'':8} {'answer':>7} {'clarify':>8} {'right':>7} {'wrong':>7} {'declined':>9} "
          f"{'which one?':>11}")
    for label, r in rows.items():
        print(f"{label:8} {r['answer_probability']:>7.2f} {r['clarify_probability']:>8.2f} "
              f"{r['right']:>7.1%} {r['wrong']:>7.1%} {r['declined']:>9.1%} "
              f"{r['clarified']:>11.1%}")
    print("\nTo use the fitted thresholds, put these lines in the settings file:\n[qa]\n"
          f"answer_probability = {fitted.answer}\nclarify_probability = {fitted.clarify}")
    if isinstance(fitted, Thresholds) and fitted == answerer.thresholds:
        print("(they are the ones in use already)")
    return 0
