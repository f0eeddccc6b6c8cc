"""`kiosk doctor` on this machine: the real models, content synced into a temp data directory,
no sound card (and a private PulseAudio for a microphone that hears), fake `vcgencmd` and
`/sys` trees, an injected clock, the JSON and the exit codes through ``kiosk.cli.main``."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiosk import doctor
from kiosk.cli import main
from kiosk.doctor import FAIL, OK, SKIP, WARN, Check, Probe
from kiosk.paths import DataDir, resolve_data_dir
from kiosk.settings import AsrSettings, AudioSettings, InsightsSettings, Settings
from tests.packs import make_pack

SETTINGS = Settings(insights=InsightsSettings(enabled=False))  # no turns logged


def one_line(check: Check) -> str:
    line = check.line()
    assert "\n" not in line
    return line


def synced(tmp_path: Path, encoder: Any, pack: Path | None = None) -> DataDir:
    """A data directory with a bundle of ``pack`` (tests/packs.py) synced, and the real
    installed models (a link to the default data directory's)."""
    from kiosk.content import bundle
    from kiosk.content.sync import sync

    data = DataDir(tmp_path / "data")
    data.root.mkdir()
    data.models.symlink_to(DataDir(resolve_data_dir()).models)
    pack = pack or make_pack(tmp_path / "pack")
    bundle.build(pack, tmp_path / "bundle", encoder)
    sync(data, tmp_path / "bundle", encoder.model_id, encoder.sha256)
    return data


# -- models ---------------------------------------------------------------------------------------
@pytest.mark.models
def test_the_installed_models_are_ok(encoder: Any) -> None:
    probe = Probe(SETTINGS, DataDir(resolve_data_dir()))
    check = doctor.check_model(probe, SETTINGS.models.encoder)
    assert (check.status, check.detail) == (OK, "1 file, sha256 verified")
    # the packed weights and the three files made from them at install
    check = doctor.check_model(probe, "e5-multilingual-small-q4")
    assert (check.status, check.detail) == (OK, "4 files, sha256 verified")
    assert doctor.check_vad(probe).status == OK


FAKE_CATALOG = """
[[model]]
id = "tiny-asr"
role = "speech-recognizer"
engine = "faster-whisper"
engine_kind = "whisper"
languages = ["en"]
licence = "MIT"
[model.source]
kind = "pypi"
wheels = []
[[model.files]]
name = "model.bin"
members = ["x/model.bin"]
size = 5
sha256 = "{sha}"
"""


def test_a_damaged_model_fails_with_the_reinstall_command(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(FAKE_CATALOG.format(sha=hashlib.sha256(b"hello").hexdigest()))
    monkeypatch.setenv("KIOSK_CATALOG", str(catalog))
    data = DataDir(tmp_path / "data")
    settings = Settings(asr=AsrSettings(engine="tiny-asr"))
    probe = Probe(settings, data)
    assert "tiny-asr" in doctor.configured_models(probe)
    missing = doctor.check_model(probe, "tiny-asr")
    assert missing.status == FAIL and missing.fix == "run `kiosk models install tiny-asr`"
    (data.model_dir("tiny-asr")).mkdir(parents=True)
    (data.model_dir("tiny-asr") / "model.bin").write_bytes(b"hellO")  # right size, wrong bytes
    damaged = doctor.check_model(probe, "tiny-asr")
    assert damaged.status == FAIL
    assert one_line(damaged) == ("✗ model tiny-asr         model.bin does not match its sha256 "
                                 "(damaged) — run `kiosk models install tiny-asr` again")
    quick = doctor.check_model(Probe(settings, data, quick=True), "tiny-asr")
    assert quick.status == OK and "sizes checked" in quick.detail  # quick does not hash
    (data.model_dir("tiny-asr") / "model.bin").write_bytes(b"hello")
    assert doctor.check_model(probe, "tiny-asr").status == OK


# -- content and the end-to-end question --------------------------------------------------------
def test_no_content_fails_with_the_sync_command(tmp_path: Path) -> None:
    probe = Probe(SETTINGS, DataDir(tmp_path))
    check = doctor.check_content(probe)
    assert check.status == FAIL and check.detail.startswith("no content installed in")
    assert "`kiosk content sync SRC`" in check.fix
    assert doctor.check_answer(probe).status == SKIP


@pytest.mark.models
def test_synced_content_is_ok_and_answers_end_to_end(tmp_path: Path, encoder: Any) -> None:
    probe = Probe(SETTINGS, synced(tmp_path, encoder))
    content = doctor.check_content(probe)
    assert content.status == OK and "Petit musée, 2 works" in content.detail
    answer = doctor.check_answer(probe)  # the first work by file name, in French
    assert answer.status == OK, one_line(answer)
    assert answer.detail.startswith("'Qui a peint La Grande Vague de Kanagawa ?' → ")
    assert "Katsushika Hokusai" in answer.detail
    if shutil.which("espeak-ng"):
        speech = doctor.check_speech(probe)
        assert speech.status == OK and "s of audio" in speech.detail
    clock = doctor.check_clock(probe)
    assert clock.status == OK and "after the content's build" in clock.detail
    given = Probe(SETTINGS, DataDir(tmp_path / "empty"), serving=tmp_path / "bundle")
    assert doctor.check_content(given).status == OK  # `kiosk run --content BUNDLE`
    (tmp_path / "bundle" / "vectors.npy").write_bytes(b"damaged")
    damaged = doctor.check_content(given)
    assert damaged.status == FAIL and "vectors.npy" in damaged.detail


@pytest.mark.models
def test_a_work_not_on_view_is_not_asked_about(tmp_path: Path, encoder: Any) -> None:
    from tests.packs import WAVE

    ended = WAVE + "on_view: {from: 2020-01-01, until: 2020-06-30}\n"
    pack = make_pack(tmp_path / "pack", {"exhibits/the-great-wave.yaml": ended})
    probe = Probe(SETTINGS, synced(tmp_path, encoder, pack))
    doctor.check_content(probe)
    answer = doctor.check_answer(probe)
    assert answer.status == OK and "La Laitière" in answer.detail


def test_a_clock_in_the_past_or_far_future_fails(tmp_path: Path) -> None:
    probe = Probe(SETTINGS, DataDir(tmp_path), now=lambda: dt.datetime(2001, 1, 1, tzinfo=dt.UTC))
    past = doctor.check_clock(probe)
    assert past.status == FAIL and "is before this software" in past.detail
    assert "exhibition dates depend on it" in past.fix
    probe.found["manifest"] = {"created": "2026-05-01T10:00:00Z"}
    probe.now = lambda: dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    before = doctor.check_clock(probe)
    assert before.status == FAIL and "is before the content's build (2026-05-01)" in before.detail
    probe.now = lambda: dt.datetime(2046, 4, 1, tzinfo=dt.UTC)
    assert doctor.check_clock(probe).status == FAIL
    probe.now = lambda: dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    assert doctor.check_clock(probe).status == OK


def test_time_source_rtc_or_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # no timedatectl
    probe = Probe(SETTINGS, DataDir(tmp_path), root=tmp_path)
    check = doctor.check_time_source(probe)
    assert check.status == WARN and "no real-time clock" in check.detail
    assert "exhibition dates" in check.detail and "RTC" in check.fix
    (tmp_path / "sys/class/rtc/rtc0").mkdir(parents=True)
    assert doctor.check_time_source(probe).status == OK


# -- devices ------------------------------------------------------------------------------------
def test_a_missing_microphone_is_one_line_with_what_to_do(tmp_path: Path) -> None:
    named = Settings(audio=AudioSettings(input_device="no-such-microphone-here"))
    check = doctor.check_microphone(Probe(named, DataDir(tmp_path), quick=True))
    assert check.status == FAIL
    assert check.detail.startswith("no microphone no-such-microphone-here")
    assert "audio.input_device" in one_line(check)
    if not Path("/proc/asound/cards").exists() and "PULSE_SERVER" not in os.environ:
        here = doctor.check_microphone(Probe(SETTINGS, DataDir(tmp_path), quick=True))
        assert one_line(here) == ("✗ microphone             no input device — plug in the USB "
                                  "microphone; `python -m sounddevice` lists devices (set "
                                  "audio.input_device)")
        assert doctor.check_speakers(Probe(SETTINGS, DataDir(tmp_path))).detail == \
            "no output device"


@pytest.mark.models
@pytest.mark.slow
def test_a_microphone_that_hears_through_a_private_pulseaudio(tmp_path: Path,
                                                              encoder: Any) -> None:
    from kiosk.audio.wav import write_wav
    from tests.test_listen import Feeder, start_pulse

    if shutil.which("pulseaudio") is None or shutil.which("pactl") is None:
        pytest.skip("PulseAudio is not installed (make setup installs it)")
    data = synced(tmp_path, encoder)
    runtime = tmp_path / "pulse"
    runtime.mkdir()
    fifo = tmp_path / "mic.fifo"
    env = {**os.environ, "PULSE_RUNTIME_PATH": str(runtime), "XDG_RUNTIME_DIR": str(runtime),
           "PULSE_SERVER": f"unix:{runtime}/native"}
    daemon = start_pulse(env, fifo)
    feeder = Feeder(fifo)
    try:
        feeder.start()

        def run() -> tuple[int, dict[str, dict[str, str]]]:
            result = subprocess.run(
                [sys.executable, "-m", "kiosk.cli", "--data-dir", str(data.root), "--set",
                 "insights.enabled=false", "doctor", "--json", "--quick"],
                env=env, capture_output=True, text=True, timeout=120)
            report = json.loads(result.stdout)
            return result.returncode, {c["name"]: c for c in report["checks"]}

        code, checks = run()  # the pipe sends silence
        assert checks["microphone"]["status"] == WARN, checks["microphone"]
        assert "perfectly silent" in checks["microphone"]["detail"]
        assert checks["speakers"]["status"] == OK
        tone = (0.3 * np.sin(np.arange(16000 * 10) / 5)).astype(np.float32)
        write_wav(tmp_path / "tone.wav", tone)
        for _ in range(6):  # a minute of it: the check may start late on a busy machine
            feeder.say(tmp_path / "tone.wav", pad_s=0)
        code, checks = run()
        assert checks["microphone"]["status"] == OK, checks["microphone"]
        assert float(checks["microphone"]["detail"].split("level ")[1].split()[0]) > 0.5
        fails = [c for c in checks.values() if c["status"] == FAIL]
        assert code == 0 and not fails, fails  # healthy: the whole quick run through the CLI
    finally:
        feeder.stopped.set()
        daemon.terminate()
        daemon.wait(timeout=10)
        feeder.join(timeout=5)


# -- the machine ------------------------------------------------------------------------------
def fake_vcgencmd(tmp_path: Path, output: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "vcgencmd"
    script.write_text(f"#!/bin/sh\necho '{output}'\n")
    script.chmod(0o755)


def test_power_from_vcgencmd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    probe = Probe(SETTINGS, DataDir(tmp_path))
    if shutil.which("vcgencmd") is None:
        absent = doctor.check_power(probe)
        assert absent.status == SKIP and "vcgencmd not found" in absent.detail
    fake_vcgencmd(tmp_path, "throttled=0x50005")
    now = doctor.check_power(probe)
    assert now.status == FAIL
    assert now.detail == ("throttled=0x50005: under-voltage now, throttled now, under-voltage "
                          "since boot, throttled since boot")
    assert "power supply" in now.fix
    fake_vcgencmd(tmp_path, "throttled=0x50000")
    assert doctor.check_power(probe).status == WARN  # only since boot
    fake_vcgencmd(tmp_path, "throttled=0x0")
    assert doctor.check_power(probe).status == OK


def test_temperature_and_memory_from_sys_and_proc(tmp_path: Path) -> None:
    probe = Probe(SETTINGS, DataDir(tmp_path), root=tmp_path)
    assert doctor.check_temperature(probe).status == SKIP
    for zone, milli in (("thermal_zone0", "45000"), ("thermal_zone1", "83500")):
        (tmp_path / "sys/class/thermal" / zone).mkdir(parents=True)
        (tmp_path / "sys/class/thermal" / zone / "temp").write_text(milli + "\n")
    hot = doctor.check_temperature(probe)
    assert hot.status == FAIL and hot.detail.startswith("83.5 °C")
    (tmp_path / "proc").mkdir()
    for available, status in ((2_000_000, OK), (500_000, WARN), (100_000, FAIL)):
        (tmp_path / "proc/meminfo").write_text(
            f"MemTotal:        3906252 kB\nMemFree:  1 kB\nMemAvailable:    {available} kB\n")
        check = doctor.check_memory(probe)
        assert check.status == status, check
    assert "700 MB" in check.detail
    assert doctor.check_disk(probe).status in (OK, WARN, FAIL)


def test_a_check_that_breaks_is_a_failed_line_not_an_exception(tmp_path: Path) -> None:
    probe = Probe(SETTINGS, DataDir(tmp_path), quick=True, root=tmp_path)  # no proc/meminfo
    checks = {c.name: c for c in doctor.run_checks(SETTINGS, DataDir(tmp_path), True, probe)}
    memory = checks["memory"]
    assert memory.status == FAIL
    assert memory.detail.startswith("the check itself failed: FileNotFoundError")
    assert checks["end-to-end"].status == SKIP


# -- the command ------------------------------------------------------------------------------
def test_json_and_exit_code_through_the_cli(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--data-dir", str(tmp_path), "--set", "insights.enabled=false", "doctor"]
    assert main([*argv, "--json", "--quick"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert set(report) >= {"status", "healthy", "summary", "failures", "warnings", "checks",
                           "data_dir", "quick"}
    assert report["status"] == "unhealthy" and report["healthy"] is False
    for check in report["checks"]:
        assert set(check) == {"name", "status", "detail", "fix"}
        assert check["status"] in (OK, WARN, FAIL, SKIP)
        assert check["status"] not in (WARN, FAIL) or check["fix"], check
    by_name = {c["name"]: c for c in report["checks"]}
    assert by_name["content"]["status"] == FAIL
    assert {"microphone", "speakers", "disk", "memory", "CPU temperature", "power", "clock",
            "time source", "end-to-end",
            *(f"model {m}" for m in SETTINGS.models.encoder.split(","))} <= set(by_name)
    assert report["failures"] == sum(c["status"] == FAIL for c in report["checks"])
    assert main([*argv, "--quick"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f"{report['failures']} problems"
    assert any(line.startswith("✗ content ") and "kiosk content sync" in line for line in lines)
    assert doctor.summary([Check("a", OK, ""), Check("b", WARN, "", "x")]) == \
        "healthy (1 warning)"
