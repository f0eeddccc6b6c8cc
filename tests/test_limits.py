"""The ``[limits]`` settings: each is in force in the command that reads them, a bad value is
refused in one line, and a limit raised lets through what the default refuses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import limits
from kiosk.cli import main
from kiosk.errors import SettingsError
from kiosk.events import Question
from kiosk.qa.answerer import admitted
from kiosk.settings import LimitSettings, describe, load_settings
from tests.packs import MILKMAID, make_pack


@pytest.fixture(autouse=True)
def defaults_after() -> Iterator[None]:
    """A command puts its settings' limits in force for the process: put the defaults back."""
    yield
    limits.use(LimitSettings())


def test_every_limit_is_listed_with_its_default() -> None:
    text = describe()
    section = text[text.index("[limits]"):]
    for name, value in vars(LimitSettings()).items():
        assert f"\n{name} = {value!r}\n" in section


@pytest.mark.parametrize("value", ["0", "-3", "nan", "many"])
def test_a_limit_that_is_not_above_zero_is_refused_in_one_line(value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(overrides=[f"limits.question_chars={value}"])
    assert "\n" not in str(caught.value) and "question_chars" in str(caught.value)


def test_a_command_puts_its_limits_in_force(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    long_title = MILKMAID.replace('en: "The Milkmaid"', 'en: "' + "The Milkmaid " * 4 + '"')
    pack = make_pack(tmp_path / "pack", {"exhibits/the-milkmaid.yaml": long_title})
    assert main(["content", "validate", str(pack)]) == 0  # 52 characters: within the default
    capsys.readouterr()
    assert main(["--set", "limits.short_text_chars=40", "content", "validate", str(pack)]) != 0
    out = capsys.readouterr()
    assert "more than the 40 allowed ([limits] short_text_chars)" in out.out + out.err
    assert limits.current().short_text_chars == 40


def test_the_question_limit_follows_the_setting() -> None:
    question = Question("where " * 100, "en")
    assert len(admitted(question).text) <= 500
    limits.use(LimitSettings(question_chars=2000))
    assert admitted(question) is question
    limits.use(LimitSettings(question_chars=50))
    assert len(admitted(question).text) <= 50
