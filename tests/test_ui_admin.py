"""The admin screen in the real app (offscreen window, simulated touches) and the real admin
actions of ``kiosk.ui.admin`` (engine versions, rollback, microphone and speaker tests)."""

from __future__ import annotations

import importlib.metadata
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import kiosk.ui.harness as harness
from kiosk.errors import AudioError, ContentError, ModelError, SpeechError
from kiosk.paths import DataDir, resolve_data_dir
from kiosk.settings import InsightsSettings, Settings
from kiosk.testing import WordSpeaker
from kiosk.ui.admin import (
    TEST_SENTENCE,
    AdminActions,
    engine_rows,
    error_lines,
    espeak_version,
    health_check,
    mic_test,
    rollback,
    speaker_test,
)
from kiosk.ui.controller import Screen
from kiosk.ui.launch import admin_actions, build_kiosk

ROOT = Path(__file__).resolve().parents[1]
HOLD_S = 0.2
PIN_TITLE = "Admin — enter the PIN"


# -- the real app ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built() -> Iterator[dict[str, Any]]:
    settings = Settings(insights=InsightsSettings(enabled=False))  # no turns logged
    data = DataDir(resolve_data_dir())
    try:
        running = build_kiosk(settings, data, ROOT / "content" / "demo", voice=False, speak=False)
    except ModelError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"real encoder not installed ({exc})")
    admin = admin_actions(settings, data, running)
    kiosk = harness.OffscreenKiosk(running.controller, images=running.kiosk.root, admin=admin,
                                   admin_hold_s=HOLD_S)
    yield {"kiosk": kiosk, "running": running, "admin": admin, "settings": settings}
    kiosk.close()


class Fakes:
    """What the admin screen's actions did."""

    def __init__(self) -> None:
        self.exits = 0
        self.mic_stops: list[threading.Event] = []


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def kiosk(built: dict[str, Any], fakes: Fakes,
          tmp_path: Path) -> Iterator[harness.OffscreenKiosk]:
    """The app on its attract screen, with the real admin dict whose microphone test and exit
    are fakes (recorded in ``fakes``) and whose rollback looks at an empty data directory."""
    k: harness.OffscreenKiosk = built["kiosk"]

    def fake_mic(on_level: Any, stop: threading.Event) -> None:
        fakes.mic_stops.append(stop)
        step = 0
        while not stop.is_set():
            on_level(0.5 + 0.45 * math.sin(step))
            step += 1
            time.sleep(0.03)

    def fake_exit() -> None:
        fakes.exits += 1

    k.app.admin_info = replace(built["admin"], mic_test=fake_mic, exit=fake_exit,
                               rollback=lambda: rollback(DataDir(tmp_path)))
    k.controller.errors.clear()
    k.resize(800, 480)
    k.controller.home()
    k.wait_screen(Screen.ATTRACT)
    yield k
    k.controller.home()
    k.wait_screen(Screen.ATTRACT)
    k.resize(800, 480)


def open_admin(k: harness.OffscreenKiosk) -> None:
    from kivy.core.window import Window

    k.press(4, Window.height - 4, HOLD_S + 0.3)
    k.wait(lambda: k.screen.name == "admin" and PIN_TITLE in k.texts())


def enter(k: harness.OffscreenKiosk, pin: str) -> None:
    for digit in pin:
        k.tap(digit)
    k.tap("OK")


def unlock(k: harness.OffscreenKiosk) -> None:
    open_admin(k)
    enter(k, k.app.admin_info.pin)
    k.wait(lambda: "Kiosk admin" in k.texts())


def test_the_admin_actions_from_the_launcher(built: dict[str, Any]) -> None:
    admin = built["admin"]
    assert isinstance(admin, AdminActions)
    assert None not in (admin.mic_test, admin.speaker_test, admin.doctor, admin.rollback,
                        admin.exit)
    assert admin.pin == built["settings"].ui.admin_pin
    roles = [role for role, _ in admin.engines]
    assert roles[0] == "Speech recognition"  # built without voice
    assert any(r.startswith("Question encoder") for r in roles) and "Speech synthesis" in roles


def test_a_long_press_top_left_opens_the_pin_pad(kiosk: harness.OffscreenKiosk) -> None:
    kiosk.press(4, 476, 0.03)  # a tap in the corner is not enough
    kiosk.frames(5)
    assert kiosk.screen.name == "attract"
    kiosk.press(796, 476, HOLD_S + 0.3)  # nor a long press in another corner
    assert kiosk.screen.name == "attract"
    open_admin(kiosk)
    texts = kiosk.texts()
    assert "Kiosk admin" not in texts and "Exit the kiosk" not in texts
    kiosk.tap("Cancel")
    kiosk.wait_screen(Screen.ATTRACT)


def test_a_wrong_pin_is_refused_and_three_go_back_to_the_visitors(
        kiosk: harness.OffscreenKiosk) -> None:
    pin = kiosk.app.admin_info.pin
    wrong = "0" * len(pin) if pin != "0" * len(pin) else "1" * len(pin)
    open_admin(kiosk)
    kiosk.tap("1")
    kiosk.tap("2")
    assert "••" in kiosk.texts() and "12" not in kiosk.texts()  # the entry is masked
    kiosk.tap("Clear")
    enter(kiosk, wrong)
    texts = kiosk.texts()
    assert "Wrong PIN — 2 tries left." in texts
    assert "Kiosk admin" not in texts and "••" not in " ".join(texts)  # cleared
    enter(kiosk, wrong)
    assert "Wrong PIN — 1 try left." in kiosk.texts()
    enter(kiosk, wrong)
    kiosk.wait_screen(Screen.ATTRACT)
    open_admin(kiosk)  # a new start: three tries again, no old message
    assert not any(t.startswith("Wrong PIN") for t in kiosk.texts())


def test_the_right_pin_shows_the_panel(kiosk: harness.OffscreenKiosk) -> None:
    now = time.time()
    kiosk.controller.errors.append((now - 60, "asr: Whisper failed on a chunk"))
    kiosk.controller.errors.append((now, "audio: the microphone stopped sending sound"))
    unlock(kiosk)
    text = "\n".join(kiosk.texts())
    assert f"Version in use: {kiosk.controller.view.content}" in text
    assert "use-multilingual-v3-int8" in text
    assert f"kivy {importlib.metadata.version('kivy')}" in text
    assert f"onnxruntime {importlib.metadata.version('onnxruntime')}" in text
    newest = text.index("the microphone stopped sending sound")
    older = text.index("Whisper failed on a chunk")
    assert newest < older
    assert time.strftime("%H:%M:%S", time.localtime(now)) in text
    for button in ("Back", "Test the microphone", "Test the speakers",
                   "Roll back to the previous version", "Exit the kiosk"):
        assert kiosk.buttons(button), button
    # an error while the panel is open shows up
    kiosk.controller.errors.append((time.time(), "speech: espeak-ng timed out"))
    kiosk.controller.touch()
    kiosk.controller.admin()  # any new view redraws
    kiosk.wait(lambda: any("espeak-ng timed out" in t for t in kiosk.texts()))


def test_the_microphone_test_moves_the_meter_and_stops(kiosk: harness.OffscreenKiosk,
                                                       fakes: Fakes) -> None:
    unlock(kiosk)
    meter = kiosk.screen.ids.meter
    assert meter.level == 0
    kiosk.tap("Test the microphone")
    seen: set[float] = set()
    kiosk.wait(lambda: bool(seen.add(round(meter.level, 2))) or len(seen - {0.0}) >= 4)
    kiosk.tap("Stop the microphone test")
    stop = fakes.mic_stops[-1]
    assert stop.is_set()
    kiosk.frames(10)
    assert meter.level == 0
    assert kiosk.buttons("Test the microphone")


def test_no_microphone_is_said_calmly(kiosk: harness.OffscreenKiosk) -> None:
    kiosk.app.admin_info.mic_test = mic_test("no-such-microphone-here")  # the real one
    unlock(kiosk)
    kiosk.tap("Test the microphone")
    kiosk.wait(lambda: any(t.startswith("Microphone: no microphone no-such-microphone-here")
                           for t in kiosk.texts()))
    assert kiosk.buttons("Test the microphone")
    assert kiosk.screen.ids.meter.level == 0


def test_the_speaker_test_says_a_sentence(kiosk: harness.OffscreenKiosk) -> None:
    speaker = WordSpeaker()
    kiosk.app.admin_info.speaker_test = speaker_test(speaker, lambda: "fr")
    unlock(kiosk)
    kiosk.tap("Test the speakers")
    kiosk.wait(lambda: "Done — you should have heard a short sentence." in kiosk.texts())
    assert speaker.said == [("Ceci est le test du haut-parleur de la borne.", "fr")]
    kiosk.app.admin_info.speaker_test = speaker_test(None, lambda: "fr")
    kiosk.tap("Test the speakers")
    kiosk.wait(lambda: any(t.startswith("Speakers: speech is off") for t in kiosk.texts()))


def test_rollback_shows_the_error_line_then_the_message(kiosk: harness.OffscreenKiosk,
                                                        tmp_path: Path) -> None:
    unlock(kiosk)
    kiosk.tap("Roll back to the previous version")
    kiosk.wait(lambda: any(t.startswith("Rollback failed: there is no previous content version")
                           for t in kiosk.texts()))
    # two versions synced into that data directory: the real rollback goes back to the first
    from kiosk.content import bundle
    from kiosk.content.sync import current_version, sync
    from kiosk.testing import HashingEncoder
    from tests.packs import FAQ, make_pack

    data, encoder = DataDir(tmp_path), HashingEncoder()
    ids = []
    for n in (1, 2):
        pack = make_pack(tmp_path / f"pack{n}",
                         {"faq.yaml": FAQ.replace("ground floor", f"floor {n}")})
        ids.append(str(bundle.build(pack, tmp_path / f"bundle{n}", encoder)["id"]))
        sync(data, tmp_path / f"bundle{n}", encoder.model_id, encoder.sha256)
    kiosk.tap("Roll back to the previous version")
    kiosk.wait(lambda: any(t.startswith(f"rolled back: now serving bundle {ids[0][:12]}")
                           for t in kiosk.texts()))
    assert current_version(data) == ids[0]


def test_the_health_check_shows_one_line_per_check(kiosk: harness.OffscreenKiosk,
                                                   tmp_path: Path) -> None:
    unlock(kiosk)
    kiosk.tap("Run the health check")  # the real quick checks of this kiosk
    kiosk.wait(lambda: kiosk.screen.health_message not in ("", "Checking…"))
    verdict = kiosk.screen.health_message
    assert re.fullmatch(r"(Healthy( \(\d+ warnings?\))?|\d+ problems?)\.", verdict), verdict
    lines = [w.text for w in kiosk.screen.ids.health.children][::-1]
    names = [re.sub(r"\[[^]]*\]", "", line).split(":")[0][1:].strip() for line in lines]
    assert names[:3] == ["microphone", "speakers", "content"]
    assert "content: pack " in re.sub(r"\[[^]]*\]", "", lines[2])  # the one it serves
    assert "model use-multilingual-v3-int8" in names and "clock" in names
    assert names[-1] == "end-to-end" and "skipped (--quick)" in lines[-1]
    assert all("\n" not in line for line in lines)
    kiosk.resize(1280, 800)
    kiosk.frames(5)
    kiosk.screen.ids.scroll.scroll_to(kiosk.screen.ids.health, padding=0, animate=False)
    kiosk.screen.ids.scroll.scroll_to(kiosk.screen.ids.health_button, padding=0, animate=False)
    shot = kiosk.screenshot(tmp_path / "admin-health.png")
    kiosk.resize(800, 480)
    if os.environ.get("KIOSK_SHOTS"):
        shutil.copy(shot, Path(os.environ["KIOSK_SHOTS"]) / shot.name)
    kiosk.app.admin_info.doctor = lambda: 1 / 0
    kiosk.tap("Run the health check")
    kiosk.wait(lambda: kiosk.screen.health_message.startswith("Health check failed: "
                                                              "ZeroDivisionError"))
    admin = kiosk.screen
    assert not admin.ids.health.children
    kiosk.tap("Back")  # leaving forgets the result
    kiosk.wait_screen(Screen.ATTRACT)
    assert admin.health_message == ""


def test_exit_calls_the_exit_action(kiosk: harness.OffscreenKiosk, fakes: Fakes) -> None:
    unlock(kiosk)
    kiosk.screen.ids.scroll.scroll_y = 0
    kiosk.frames(5)
    kiosk.tap("Exit the kiosk")
    assert fakes.exits == 1


def test_leaving_locks_again_and_stops_the_microphone(kiosk: harness.OffscreenKiosk,
                                                      fakes: Fakes) -> None:
    unlock(kiosk)
    kiosk.tap("Test the microphone")
    kiosk.wait(lambda: kiosk.screen.ids.meter.level > 0)
    kiosk.tap("Back")
    kiosk.wait_screen(Screen.ATTRACT)
    assert fakes.mic_stops[-1].is_set()
    open_admin(kiosk)
    assert "Kiosk admin" not in kiosk.texts()
    # the idle reset leaves the admin screen too, and locks it
    enter(kiosk, kiosk.app.admin_info.pin)
    kiosk.wait(lambda: "Kiosk admin" in kiosk.texts())
    kiosk.controller.reset()
    kiosk.wait_screen(Screen.ATTRACT)
    open_admin(kiosk)
    assert "Kiosk admin" not in kiosk.texts()


@pytest.mark.parametrize("size", [(800, 480), (480, 800), (1920, 1080)])
def test_pin_pad_and_panel_fit_the_window(kiosk: harness.OffscreenKiosk, size: tuple[int, int],
                                          tmp_path: Path) -> None:
    from kivy.uix.scrollview import ScrollView

    width, height = size
    kiosk.controller.errors.append((time.time(), "audio: the microphone stopped sending sound "
                                    "(unplugged?) — plug it back in"))
    kiosk.resize(width, height)
    open_admin(kiosk)
    shots = [kiosk.screenshot(tmp_path / f"admin-pin-{width}x{height}.png")]
    assert_inside(kiosk, width, height, vertical=True)
    enter(kiosk, kiosk.app.admin_info.pin)
    kiosk.wait(lambda: "Kiosk admin" in kiosk.texts())
    shots.append(kiosk.screenshot(tmp_path / f"admin-panel-{width}x{height}.png"))
    assert_inside(kiosk, width, height, vertical=False)
    scroll = next(w for w in kiosk.screen.walk() if isinstance(w, ScrollView))
    assert scroll.y >= 0 and scroll.top <= height
    assert all(shot.stat().st_size > 1000 for shot in shots)


def assert_inside(kiosk: harness.OffscreenKiosk, width: int, height: int,
                  vertical: bool) -> None:
    """Every visible widget within the window's width (and height: no scrolling)."""
    from kivy.uix.label import Label

    kiosk.frames(5)
    for widget in kiosk.screen.walk():
        if not isinstance(widget, Label) or not shown(widget):
            continue
        left, bottom = widget.to_window(widget.x, widget.y)
        assert left >= -1 and left + widget.width <= width + 1, (widget.text, left, width)
        if vertical:
            assert bottom >= -1 and bottom + widget.height <= height + 1, (widget.text, bottom)
        assert widget.texture_size[0] <= widget.width + 1, widget.text  # no text cut off


def shown(widget: Any) -> bool:
    """Drawn: it and its parents are opaque, and it has a size."""
    node = widget
    while node is not None and node is not node.parent:
        if node.opacity == 0:
            return False
        node = node.parent
    return bool(widget.width > 1 and widget.height > 1)


# -- the real actions, no window -------------------------------------------------------------------
def test_engine_rows_name_the_models_in_use_with_real_versions() -> None:
    settings = Settings(insights=InsightsSettings(enabled=False))  # no turns logged
    settings = replace(settings, asr=replace(settings.asr, engine_by_language="ko=vosk-ko"))
    rows = dict(engine_rows(settings, ["fr", "en", "es", "ko"]))
    whisper = rows["Speech recognition (en, es, fr)"]
    assert whisper.startswith(f"whisper-base — faster-whisper "
                              f"{importlib.metadata.version('faster-whisper')}; MIT")
    assert rows["Speech recognition (ko)"].startswith(
        f"vosk-ko — vosk {importlib.metadata.version('vosk')};")
    assert rows["Question encoder"].startswith(
        f"use-multilingual-v3-int8 — onnxruntime {importlib.metadata.version('onnxruntime')}")
    assert "Apache-2.0" in rows["Question encoder"]
    both = replace(settings, models=replace(
        settings.models, encoder="use-multilingual-v3-int8,e5-multilingual-small-q4"))
    use, e5 = dict(engine_rows(both, ["en"]))["Question encoders"].split(" · ")
    assert use == rows["Question encoder"]
    assert e5.startswith("e5-multilingual-small-q4 — onnxruntime") and "MIT" in e5
    assert f"kivy {importlib.metadata.version('kivy')}" in rows["Packages"]
    if shutil.which("espeak-ng"):
        assert re.match(r"espeak-ng \d+\.\d+", rows["Speech synthesis"])
        out = subprocess.run(["espeak-ng", "--version"],
                             capture_output=True, text=True, timeout=300).stdout
        assert espeak_version() in out


def test_engine_rows_say_what_is_off_or_unknown() -> None:
    settings = Settings(insights=InsightsSettings(enabled=False))  # no turns logged
    rows = dict(engine_rows(settings, ["en"], voice=False))
    assert rows["Speech recognition"] == "off (touch only)"
    odd = replace(settings, asr=replace(settings.asr, engine="no-such-model"))
    rows = dict(engine_rows(odd, ["en"]))
    assert "no model 'no-such-model' in the catalog" in rows["Speech recognition (en)"]
    assert espeak_version("no-such-espeak-binary").startswith("not installed")


def test_rollback_without_a_previous_version_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ContentError) as caught:
        rollback(DataDir(tmp_path))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("there is no previous content version to roll back to — ")
    assert "kiosk content sync" in message


def test_the_real_microphone_test_reports_a_missing_device() -> None:
    with pytest.raises(AudioError) as caught:
        mic_test("no-such-microphone-here")(lambda level: None, threading.Event())
    assert "no microphone no-such-microphone-here" in str(caught.value)
    assert "audio.input_device" in str(caught.value)


def test_the_microphone_test_reads_the_kiosks_own_microphone() -> None:
    import numpy as np

    from kiosk.testing import EnergyVad, SamplesMicrophone

    tone = (0.3 * np.sin(np.arange(16000) / 5)).astype(np.float32)
    mic = SamplesMicrophone(tone, silence_s=10.0)
    levels: list[float] = []
    stop = threading.Event()

    def on_level(value: float) -> None:
        levels.append(value)
        if len(levels) == 15:
            stop.set()

    mic_test("unused", lambda: (mic, EnergyVad()))(on_level, stop)
    assert len(levels) == 15 and mic.started == 1 and not mic.closed  # shared: left open
    assert min(levels[:10]) > 0.5 and max(levels[10:]) == 0.0  # the tone, then silence


def test_the_speaker_test_without_speech_says_so() -> None:
    with pytest.raises(SpeechError):
        speaker_test(None, lambda: "en")()
    speaker = WordSpeaker()
    speaker_test(speaker, lambda: "ko")()  # a language with no catalog: English
    assert speaker.said == [(TEST_SENTENCE, "ko")]
    assert TEST_SENTENCE == "This is the kiosk's speaker test."


def test_the_health_check_action_runs_the_doctors_quick_checks(tmp_path: Path) -> None:
    import numpy as np

    from kiosk.doctor import FAIL, OK, SKIP
    from kiosk.testing import EnergyVad, SamplesMicrophone

    tone = (0.3 * np.sin(np.arange(16000) / 5)).astype(np.float32)
    mic = SamplesMicrophone(tone, silence_s=10.0)
    settings = Settings(insights=InsightsSettings(enabled=False))
    checks = {c.name: c for c in health_check(settings, DataDir(tmp_path),
                                              lambda: (mic, EnergyVad()))()}
    assert checks["microphone"].status == OK and not mic.closed  # the kiosk's own: left open
    assert checks["content"].status == FAIL and "kiosk content sync" in checks["content"].fix
    assert checks["end-to-end"].status == SKIP


def test_error_lines_are_newest_first_with_the_date_when_not_today() -> None:
    now = time.time()
    lines = error_lines([(now - 3 * 86400, "old"), (now, "new")], now)
    assert [message for _, message in lines] == ["new", "old"]
    assert re.fullmatch(r"\d\d:\d\d:\d\d", lines[0][0])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", lines[1][0])


def test_admin_actions_are_kivy_free_and_exit_stops_a_running_app(tmp_path: Path) -> None:
    code = ("import sys\nsys.modules['kivy'] = None\nimport kiosk.ui.admin\nprint('ok')\n")
    result = subprocess.run([sys.executable, "-c", code],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
    app = (
        "import kiosk.ui.harness\n"
        "from kivy.app import App\nfrom kivy.clock import Clock\nfrom kivy.uix.label import Label\n"
        "from kiosk.ui.admin import exit_app\n"
        "class A(App):\n"
        "    def build(self):\n"
        "        Clock.schedule_once(lambda dt: exit_app(), 0.2)\n"
        "        return Label(text='x')\n"
        "A().run()\nprint('stopped')\n"
    )
    script = tmp_path / "stop.py"
    script.write_text(app, encoding="utf-8")
    env = {**os.environ, "KIVY_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=60, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("stopped")
