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
    from kiosk.qa.encoder import load_encoder

    try:
        return load_encoder(data_dir, Settings().models.encoder)
    except ModelError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"real encoder not installed ({exc})")


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
