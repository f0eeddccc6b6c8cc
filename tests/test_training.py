"""The answer scorer's training: honest data, deterministic output, weights that learned."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiosk.errors import ModelError
from kiosk.qa.scorer import Weights, load_weights
from kiosk.qa.train.__main__ import RECIPE
from tests.conftest import DATA, ROOT, SMALL_SETS, train_hashing


def test_the_recipe_reads_no_held_out_set() -> None:
    text = RECIPE.read_text(encoding="utf-8")
    recipe = tomllib.loads(text)
    held_out = [p.relative_to(ROOT).as_posix() for p in [
        *(DATA / "heldout").iterdir(), *(DATA / "dev").glob("*-heldout.yaml")]]
    assert held_out, "the held-out sets are missing"
    for item in recipe["set"]:
        for key in ("pack", "questions"):
            path = item[key]
            assert (ROOT / path).exists(), path
            assert "heldout" not in path and not any(path.startswith(h) for h in held_out)
    assert "heldout" not in "".join(line.split("#")[0] for line in text.splitlines())


@pytest.mark.slow
def test_training_is_deterministic() -> None:
    first, again = (train_hashing(SMALL_SETS, steps=200) for _ in range(2))
    assert json.dumps(again.to_json(), sort_keys=True) == \
        json.dumps(first.to_json(), sort_keys=True)


@pytest.mark.slow
def test_the_weights_learned_something() -> None:
    """On its own training questions the fitted scorer puts more probability on the right
    candidates than an untrained one (zero weights) does."""
    import tomllib as toml

    from kiosk.qa.train.__main__ import build_examples
    from kiosk.qa.train.examples import placeholder
    from kiosk.qa.train.fit import probabilities
    from kiosk.testing import HashingEncoder
    recipe = {**toml.loads(RECIPE.read_text(encoding="utf-8")), "set": SMALL_SETS[:1]}
    built = build_examples(recipe, [HashingEncoder()], ROOT, log=lambda *_: None)
    zero = placeholder([HashingEncoder()])
    trained = train_hashing(SMALL_SETS, steps=200)

    def mean_right(w: Weights) -> float:
        got = [float(probabilities(w, e)[e.positive].sum()) for e in built if e.positive.any()]
        return float(np.mean(got))

    assert mean_right(trained) > 2 * mean_right(zero)


def test_weights_round_trip_and_damage(hashing_weights: Any, tmp_path: Path) -> None:
    data = hashing_weights.to_json()
    back = Weights.from_json(json.loads(json.dumps(data)))
    assert back.to_json() == data
    broken = {**data, "scale": [0.0] * len(data["scale"])}
    with pytest.raises(ValueError):
        Weights.from_json(broken)
    with pytest.raises(ModelError, match="no answer scorer"):
        load_weights(("nope",))


@pytest.mark.parametrize("keys", [("hashing",), ("use",), ("e5",), ("use", "e5")])
def test_shipped_weights_load_and_were_trained_on_the_recipe(keys: tuple[str, ...]) -> None:
    import hashlib

    weights = load_weights(keys)
    assert weights.encoders == keys
    # `make weights` was run after the recipe last changed
    assert weights.meta["recipe_sha256"] == hashlib.sha256(RECIPE.read_bytes()).hexdigest()
    assert 0.0 < weights.thresholds["answer"] < 1.0


@pytest.mark.models
def test_kiosk_calibrate_fits_on_one_half_and_checks_on_the_other(
        encoder: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """The museum's own re-fit: a deterministic split, both halves used, shares that add up,
    and the [qa] lines to paste."""
    from kiosk.cli import main

    argv = ["calibrate", "--content", str(ROOT / "content" / "demo"),
            str(DATA / "dev" / "demo-tune.yaml")]
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["fitted_on"] + report["checked_on"] == report["questions"] == 160
    assert min(report["fitted_on"], report["checked_on"]) >= 50
    for row in (report["now"], report["fitted"]):
        assert sum(row[k] for k in ("right", "wrong", "declined", "clarified")) == \
            pytest.approx(1.0, abs=1e-3)
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "[qa]\nanswer_probability = " in out and "checked on the other" in out
    with pytest.raises(SystemExit):
        main(["calibrate", "--content", str(ROOT / "content" / "demo")])  # no questions


def test_the_training_scores_thresholds_by_the_kiosks_own_decision() -> None:
    """``fit.outcome`` and the kiosk decide the same way (one function, ``decide_works``)."""
    from kiosk.evaluation import EvalQuestion
    from kiosk.qa.policy import Thresholds
    from kiosk.qa.train.examples import Example
    from kiosk.qa.train.fit import outcome

    t = Thresholds(answer=0.5, clarify=0.3)

    def example(expect: str, positive: list[bool], works: tuple[str, ...]) -> Example:
        n = len(works)
        return Example("s", EvalQuestion(q="q", lang="en", expect=expect), np.zeros((n, 1)),
                       np.zeros(n, np.int64), np.zeros(n, np.int64), np.array(positive),
                       works, np.zeros(n), works)

    assert outcome(example("a", [True, False], ("a", "b")), np.array([0.6, 0.1]), t) == "right"
    assert outcome(example("a", [False, True], ("a", "b")), np.array([0.6, 0.1]), t) == "wrong"
    assert outcome(example("a", [True, False], ("a", "b")), np.array([0.4, 0.35]), t) == \
        "clarified"
    assert outcome(example("none", [False, False], ("", "")), np.array([0.45, 0.4]), t) == \
        "right"  # practical entries are never works to choose between: declined
    assert outcome(example("none", [False], ("a",)), np.array([0.7]), t) == "wrong"
    # "tell me about Monet" with two Monets: "which one?" between them is right, with another no
    assert outcome(example("a|b", [True, True, False], ("a", "b", "c")),
                   np.array([0.4, 0.35, 0.05]), t) == "right"
    assert outcome(example("a|b", [True, False, False], ("a", "c", "b")),
                   np.array([0.4, 0.35, 0.05]), t) == "clarified"
    assert outcome(example("a|b", [False, True], ("a", "b")), np.array([0.1, 0.7]), t) == "right"


def test_kiosk_eval_counts_which_one_between_the_expected_works_as_right() -> None:
    from kiosk.evaluation import EvalQuestion, outcome
    from kiosk.events import Answer, AnswerKind, Source, SourceKind, Suggestion

    def clarify(*works: str) -> Answer:
        return Answer(AnswerKind.CLARIFY, "Which one?", "en", Source(SourceKind.REPLY), 0.4,
                      tuple(Suggestion(w, w, w) for w in works))

    monets = EvalQuestion(q="tell me about Monet", lang="en", expect="sunrise|bridge")
    assert monets.expected == ("sunrise", "bridge")
    assert outcome(monets, clarify("bridge", "sunrise")) == "right"
    assert outcome(monets, clarify("bridge", "scream")) == "clarified"
    one = EvalQuestion(q="tell me about the Monet", lang="en", expect="sunrise")
    assert outcome(one, clarify("bridge", "sunrise")) == "clarified"


def test_cross_validation_lists_what_each_left_out_set_misses(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kiosk.qa.train.__main__ import build_examples, cross_validate
    from kiosk.testing import HashingEncoder

    recipe = tomllib.loads(RECIPE.read_text(encoding="utf-8"))
    recipe = {**recipe, "set": SMALL_SETS, "fit": {**recipe["fit"], "steps": 100}}
    built = build_examples(recipe, [HashingEncoder()], ROOT, log=lambda *_: None)
    failures = tmp_path / "missed.jsonl"
    cross_validate(recipe, built, ("hashing",), failures)
    missed = [json.loads(line) for line in failures.read_text(encoding="utf-8").splitlines()]
    right = float(capsys.readouterr().out.splitlines()[-1].split()[-4].rstrip("%")) / 100
    assert len(missed) == round(len(built) * (1 - right))  # every question not right, once
    asked = {(e.source, e.question.q) for e in built}
    for m in missed:
        assert m["outcome"] in {"wrong", "declined", "clarified"}
        assert (m["set"], m["q"]) in asked and len(m["top"]) <= 3
        if m["positive_rank"] == 0:
            assert m["top"][0][3] is True  # the likeliest was right: declined or clarified
