"""Shared fixtures: the real encoder (installed model), the demo pack, ../shared/eval."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from kiosk.errors import ModelError
from kiosk.paths import DataDir, resolve_data_dir
from kiosk.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "content" / "demo"
DATA = ROOT / "tests" / "data"
SHARED_EVAL = ROOT.parent / "shared" / "eval"


@pytest.fixture(scope="session")
def data_dir() -> DataDir:
    return DataDir(resolve_data_dir())


@pytest.fixture(scope="session")
def encoder(data_dir: DataDir):  # type: ignore[no-untyped-def]
    from kiosk.qa.encoder import load_encoders

    try:
        return load_encoders(data_dir, Settings().models.encoder)
    except ModelError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"real encoder not installed ({exc})")


def whisper_or_skip(data_dir: DataDir) -> Any:
    """A new Whisper base from the data directory; the test is skipped when it is not installed
    (and fails under CI, which installs it)."""
    from kiosk.asr.whisper import load_whisper

    try:
        return load_whisper(data_dir)
    except ModelError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Whisper not installed ({exc})")


@pytest.fixture(scope="session")
def demo(encoder: Any) -> Any:
    """The demo pack opened with the real encoder (its texts encoded once per session)."""
    from kiosk.runtime import open_content

    return open_content(DEMO, encoder)


@pytest.fixture(scope="session")
def shared_eval() -> Path:
    if not SHARED_EVAL.is_dir():
        pytest.skip(f"outside evaluation material not found at {SHARED_EVAL}")
    return SHARED_EVAL


SMALL_SETS = [
    {"pack": "content/demo", "questions": "tests/data/dev/demo-tune.yaml"},
    {"pack": "tests/data/train/modern-fr-es/pack",
     "questions": "tests/data/train/modern-fr-es/questions.yaml"},
]
"""Two of the recipe's training sets (a quick training, to check it is deterministic)."""


def train_hashing(sets: list[dict[str, str]] | None = None, steps: int = 400) -> Any:
    """Answer-scorer weights trained with the model-free HashingEncoder, by the real recipe's
    code and settings, on ``sets`` (default: the recipe's own); no model needed."""
    import tomllib

    from kiosk.qa.train.__main__ import RECIPE, build_examples, train
    from kiosk.testing import HashingEncoder

    recipe = tomllib.loads(RECIPE.read_text(encoding="utf-8"))
    recipe = {**recipe, "set": sets or recipe["set"], "fit": {**recipe["fit"], "steps": steps}}
    built = build_examples(recipe, [HashingEncoder()], ROOT, log=lambda *_: None)
    weights, _ = train(recipe, built, ("hashing",), {})
    return weights


@pytest.fixture(scope="session")
def hashing_weights() -> Any:
    """The shipped weights for the HashingEncoder (``kiosk/qa/weights/hashing.json``, written
    by ``python -m kiosk.qa.train --encoders hashing``; `make weights`)."""
    from kiosk.qa.scorer import load_weights

    return load_weights(("hashing",))
