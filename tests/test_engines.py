"""The engine registry: every catalog model names an engine the kiosk has, each engine opens
its models through one loader, and what it says about them."""

from __future__ import annotations

import inspect
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.engines import ENGINES, describe, engine_for
from kiosk.errors import ModelError
from kiosk.models import get_spec, load_catalog
from kiosk.paths import DataDir


def test_every_catalog_model_has_an_engine_of_its_role() -> None:
    catalog = load_catalog()
    assert catalog
    for spec in catalog.values():
        assert engine_for(spec, spec.role).role == spec.role


def test_every_loader_takes_its_roles_arguments() -> None:
    wanted = {"speech-recognizer": ["data", "spec", "lang", "pack", "asr"],
              "question-encoder": ["data", "spec", "threads"]}
    for engine in ENGINES.values():
        opener = engine.open()
        assert callable(opener)
        if engine.role in wanted:
            assert list(inspect.signature(opener).parameters) == wanted[engine.role], engine


def test_an_unknown_engine_or_the_wrong_role_is_one_line_saying_what_to_fix() -> None:
    spec = get_spec("whisper-base")
    with pytest.raises(ModelError, match=r"engine_kind 'nope'.*— fix the catalog") as unknown:
        engine_for(replace(spec, engine_kind="nope"))
    assert "\n" not in str(unknown.value)
    with pytest.raises(ModelError, match=r"is a speech-recognizer, not a question encoder — "
                                         r"fix models.encoder"):
        engine_for(spec, "question-encoder")


def test_a_catalog_entry_without_an_engine_is_refused(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text('[[model]]\nid = "x"\nrole = "question-encoder"\nengine = "?"\n'
                       'licence = "MIT"\n[model.source]\nkind = "pypi"\n', encoding="utf-8")
    with pytest.raises(ModelError, match="model 'x' has no engine_kind — fix the catalog"):
        load_catalog(catalog)


def test_describe_says_what_runs_each_model_and_whether_it_is_installed(tmp_path: Path) -> None:
    described = {d.id: d for d in describe(DataDir(tmp_path))}
    assert set(described) == {*load_catalog(), "espeak-ng", "pico"}
    assert described["whisper-base"].installed == "not installed"
    assert described["whisper-base"].engine.startswith("whisper (faster-whisper ")
    assert described["vosk-small-fr"].streaming and not described["whisper-base"].streaming
    assert described["vosk-small-fr"].installed == \
        "not installed: bring vosk-model-small-fr-0.22.zip"
