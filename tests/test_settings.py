from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from kiosk.errors import SettingsError
from kiosk.settings import Settings, describe, load_settings


def _all_fields(obj: object):  # type: ignore[no-untyped-def]
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from _all_fields(value)
        else:
            yield f


def test_every_setting_has_a_default_and_a_doc() -> None:
    fields = list(_all_fields(Settings()))
    assert len(fields) >= 10
    for f in fields:
        assert f.metadata.get("doc"), f"setting {f.name} has no doc"
        assert len(f.metadata["doc"]) > 15


def test_describe_is_valid_toml_holding_every_default() -> None:
    data = tomllib.loads(describe())
    assert load_settings(None, None) == Settings()
    assert data["qa"]["answer_probability"] == Settings().qa.answer_probability
    assert data["kiosk"]["room"] == Settings().kiosk.room
    assert data["models"]["encoder"] == Settings().models.encoder


def test_file_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("[qa]\nanswer_probability = 0.7\nsuggestions = 2\n")
    s = load_settings(path, ["qa.suggestions=3", "session.language=es"])
    assert s.qa.answer_probability == 0.7
    assert s.qa.suggestions == 3
    assert s.session.language == "es"
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.qa.suggestions = 4  # type: ignore[misc]


def test_a_retired_setting_warns_and_is_ignored(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """Settings of the answerer before the scorer (answer_threshold...) do not stop a kiosk
    whose settings file still has them: one warning says to remove them."""
    path = tmp_path / "settings.toml"
    path.write_text("[qa]\nanswer_threshold = 0.7\nsuggestions = 2\n")
    s = load_settings(path)
    assert s.qa.suggestions == 2 and s.qa.answer_probability == Settings().qa.answer_probability
    assert "'answer_threshold' is no longer used" in caplog.text


@pytest.mark.parametrize(("text", "expected"), [
    ("[qa]\nanswer_probabilty = 0.7\n", "unknown setting 'answer_probabilty'"),
    ("[qa]\nsuggestions = 'many'\n", "'suggestions' must be a int"),
    ("[qa\n", "not valid TOML"),
])
def test_bad_settings_say_what_is_wrong(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=expected):
        load_settings(path)


def test_data_dir_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from kiosk.paths import SYSTEM_DATA_DIR, resolve_data_dir

    monkeypatch.delenv("KIOSK_DATA_DIR", raising=False)
    monkeypatch.delenv("KIOSK_SYSTEM", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert resolve_data_dir() == tmp_path / "kiosk"
    monkeypatch.setenv("KIOSK_SYSTEM", "1")
    assert resolve_data_dir() == SYSTEM_DATA_DIR
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir() == tmp_path / "env"
    assert resolve_data_dir(tmp_path / "flag") == tmp_path / "flag"
