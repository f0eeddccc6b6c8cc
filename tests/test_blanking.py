"""Sleeping hours (``kiosk.ui.blanking``): the pure time logic, bad settings in one line, and
the display switched with a real (fake) ``vcgencmd`` executable."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from kiosk.errors import SettingsError
from kiosk.settings import load_settings
from kiosk.ui.blanking import Blanker, BlankSchedule, DisplayPower, parse_hhmm
from tests.conftest import ROOT


def at(hhmm: str, day: int = 1) -> datetime:
    hours, minutes = hhmm.split(":")
    return datetime(2026, 6, day, int(hours), int(minutes))


def test_parse_hhmm() -> None:
    assert parse_hhmm("19:00", "blank_from") == time(19, 0)
    assert parse_hhmm(" 7:05 ", "blank_from") == time(7, 5)
    assert parse_hhmm("", "blank_from") is None


@pytest.mark.parametrize("text", ["24:00", "7h", "19:60", "19:5", "nineteen", "-1:00", "19:00:00"])
def test_bad_times_say_what_to_write(text: str) -> None:
    with pytest.raises(SettingsError, match=r"\[ui\] blank_until = .* write it as \"HH:MM\""):
        parse_hhmm(text, "blank_until")


def test_overnight_schedule() -> None:
    night = BlankSchedule.parse("19:00", "09:30")
    assert night.enabled
    asleep = {hhmm: night.sleeping_at(at(hhmm)) for hhmm in
              ("18:59", "19:00", "23:59", "00:00", "03:00", "09:29", "09:30", "12:00")}
    assert asleep == {"18:59": False, "19:00": True, "23:59": True, "00:00": True,
                      "03:00": True, "09:29": True, "09:30": False, "12:00": False}


def test_same_day_schedule() -> None:
    lunch = BlankSchedule.parse("12:00", "13:30")
    assert [lunch.sleeping_at(at(t)) for t in ("11:59", "12:00", "13:29", "13:30", "23:00")] \
        == [False, True, True, False, False]


def test_no_schedule_never_sleeps() -> None:
    never = BlankSchedule.parse("", "")
    assert not never.enabled
    start = at("00:00")
    assert not any(never.sleeping_at(start + timedelta(minutes=m)) for m in range(0, 1440, 7))


@pytest.mark.parametrize(("start", "end", "expected"), [
    ("19:00", "", "go together"), ("", "09:00", "go together"),
    ("19:00", "19:00", "both '19:00'")])
def test_inconsistent_schedules(start: str, end: str, expected: str) -> None:
    with pytest.raises(SettingsError, match=expected):
        BlankSchedule.parse(start, end)


def test_a_touch_wakes_it_until_wake_s_after_the_last_touch() -> None:
    blanker = Blanker(BlankSchedule.parse("19:00", "09:00"), wake_s=90)
    night = at("22:00")
    assert blanker.asleep(night)
    blanker.touch(night)
    assert not blanker.asleep(night + timedelta(seconds=89))
    blanker.touch(night + timedelta(seconds=60))  # still using it
    assert not blanker.asleep(night + timedelta(seconds=149))
    assert blanker.asleep(night + timedelta(seconds=150))
    assert not blanker.asleep(at("09:00", day=2))  # the morning wakes it anyway


def test_sleep_settings_are_in_ui_and_checked_at_start(tmp_path: Path) -> None:
    ui = load_settings(None, ["ui.blank_from=19:00", "ui.blank_until=09:00",
                              "ui.rotation=90"]).ui
    assert (ui.blank_from, ui.blank_until, ui.rotation) == ("19:00", "09:00", 90)
    assert BlankSchedule.parse(ui.blank_from, ui.blank_until).sleeping_at(at("20:00"))
    # a bad time stops `kiosk run` before any window opens, in one line
    data = tmp_path / "data"
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "--data-dir", str(data), "--set",
         "ui.blank_from=7pm", "--set", "ui.blank_until=09:00", "run", "--content",
         str(ROOT / "content" / "demo")],
        capture_output=True, text=True, timeout=120,
        env={"SDL_VIDEODRIVER": "offscreen", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "kiosk: [ui] blank_from = '7pm' is not a time — write it as \"HH:MM\" (e.g. \"19:00\"), "
        "or \"\" for a screen that never sleeps"]


def fake_vcgencmd(tmp_path: Path, exit_code: int = 0) -> tuple[Path, Path]:
    calls = tmp_path / "calls.txt"
    script = tmp_path / "vcgencmd"
    script.write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\necho 'display_power=x'\n"
                      f"exit {exit_code}\n")
    script.chmod(0o755)
    return script, calls


def test_display_power_runs_vcgencmd(tmp_path: Path) -> None:
    script, calls = fake_vcgencmd(tmp_path)
    power = DisplayPower(str(script))
    for on in (False, True):
        thread = power.set(on)
        assert thread is not None
        thread.join(10)
    assert calls.read_text().splitlines() == ["display_power 0", "display_power 1"]


def test_display_power_failure_is_one_log_line(tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    script, _ = fake_vcgencmd(tmp_path, exit_code=255)
    thread = DisplayPower(str(script)).set(False)
    assert thread is not None
    thread.join(10)
    [record] = caplog.records
    assert "display off" in record.getMessage() and "exited 255" in record.getMessage()


def test_no_vcgencmd_does_nothing() -> None:
    assert DisplayPower("").set(False) is None
