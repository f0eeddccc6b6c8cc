"""Boot to kiosk: no way out but the admin screen (Escape, F1 and the function keys do nothing
in the real app), Kivy's settings for the console (touch, rotation, no modules), and sleeping
hours in the real offscreen app (black, display off, a touch wakes it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import kiosk.ui.harness as harness  # before Kivy: the offscreen window's settings
from kiosk.errors import SettingsError
from kiosk.paths import DataDir
from kiosk.pipeline import Pipeline
from kiosk.qa.answerer import KioskAnswerer
from kiosk.runtime import open_content
from kiosk.session import Session
from kiosk.testing import HashingEncoder
from kiosk.ui.blanking import Blanker, BlankSchedule, DisplayPower
from kiosk.ui.controller import Controller, Screen
from kiosk.ui.launch import on_console, prepare_kivy
from tests.conftest import DEMO

ESCAPE, F1, F12 = 27, 282, 293
Window, EventLoop = harness.Window, harness.EventLoop


@pytest.fixture(scope="module")
def demo() -> Any:
    encoder = HashingEncoder()
    return open_content(DEMO, encoder), encoder


@pytest.fixture
def kiosk(demo: Any) -> Iterator[harness.OffscreenKiosk]:
    content, encoder = demo
    museum = content.pack.museum
    pipeline = Pipeline(KioskAnswerer(content.pack, content.units, content.vectors, encoder),
                        Session(museum.default_language, list(museum.languages)))
    k = harness.OffscreenKiosk(Controller(pipeline, content.pack, content="demo"), images=DEMO)
    yield k
    k.close()


def press(key: int, modifiers: list[str] | None = None) -> None:
    """As SDL's window does for a key press."""
    Window.dispatch("on_key_down", key, 0, None, modifiers or [])
    Window.dispatch("on_keyboard", key, 0, None, modifiers or [])
    Window.dispatch("on_key_up", key, 0)
    EventLoop.idle()


def test_escape_f1_and_function_keys_do_nothing(kiosk: harness.OffscreenKiosk) -> None:
    kiosk.tap(kiosk.ids("browse"))
    kiosk.wait_screen(Screen.BROWSE)
    shown = kiosk.screen.name
    on_window = list(Window.children)
    for key in (ESCAPE, F1, *range(F1 + 1, F12 + 1)):
        for modifiers in ([], ["ctrl"], ["shift"], ["alt"]):
            press(key, modifiers)
    kiosk.frames(3)
    assert not EventLoop.quit
    assert kiosk.screen.name == shown
    assert list(Window.children) == on_window  # no settings panel, inspector or popup
    assert kiosk.app._app_settings is None and not kiosk.app.open_settings()


def test_console_settings_for_kivy(tmp_path: Path) -> None:
    """In a fresh process (Kivy's Config is global): full screen on KMS/DRM, a config.ini in
    KIVY_HOME asking for the inspector, the monitor and the screenshot/rotation keys is
    overruled."""
    home = tmp_path / "kivy"
    home.mkdir()
    (home / "config.ini").write_text("[kivy]\nexit_on_escape = 1\n\n[modules]\ninspector =\n"
                                     "monitor =\nkeybinding =\n\n[input]\nmouse = mouse\n"
                                     "%(name)s = probesysfs\n")
    code = (
        "import json, os, sys\n"
        "from pathlib import Path\n"
        "from kiosk.paths import DataDir\n"
        "from kiosk.ui.launch import prepare_kivy\n"
        "fullscreen = sys.argv[2] == 'full'\n"
        "prepare_kivy(DataDir(Path(sys.argv[1])), fullscreen=fullscreen, rotation=90,"
        " touch='mtdev')\n"
        "from kivy.config import Config\n"
        "print(json.dumps({'escape': Config.get('kivy', 'exit_on_escape'),\n"
        "  'desktop': Config.get('kivy', 'desktop'),\n"
        "  'rotation': Config.get('graphics', 'rotation'),\n"
        "  'fullscreen': Config.get('graphics', 'fullscreen'),\n"
        "  'cursor': Config.get('graphics', 'show_cursor'),\n"
        "  'modules': Config.options('modules'),\n"
        "  'input': {k: Config.get('input', k) for k in Config.options('input')},\n"
        "  'touch_mouse': os.environ.get('SDL_TOUCH_MOUSE_EVENTS')}))\n")

    def run(mode: str, **env: str) -> dict[str, Any]:
        base = {k: v for k, v in os.environ.items()
                if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER", "KIVY_HOME")}
        done = subprocess.run([sys.executable, "-c", code, str(tmp_path), mode],
                              capture_output=True, text=True, timeout=120,
                              env={**base, "KIVY_NO_ARGS": "1", **env})
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    console = run("full", SDL_VIDEODRIVER="kmsdrm")
    assert console == {
        "escape": "0", "desktop": "0", "rotation": "90", "fullscreen": "auto", "cursor": "0",
        "modules": [], "touch_mouse": "0",
        "input": {"mouse": "mouse,disable_multitouch",
                  "touch_%(name)s": "probesysfs,provider=mtdev"}}
    # a desktop or cage: touches from SDL only (else each would arrive twice), no probing
    desktop = run("windowed", WAYLAND_DISPLAY="wayland-0")
    assert desktop["input"] == {"mouse": "mouse,disable_multitouch"}
    assert desktop["touch_mouse"] is None and desktop["escape"] == "0"
    assert desktop["modules"] == [] and desktop["fullscreen"] == "0"


def test_console_detection_and_bad_values(tmp_path: Path) -> None:
    assert on_console({"SDL_VIDEODRIVER": "kmsdrm"})
    assert on_console({})
    assert not on_console({"WAYLAND_DISPLAY": "wayland-0"})
    assert not on_console({"DISPLAY": ":0"})
    assert not on_console({"SDL_VIDEODRIVER": "offscreen"})
    with pytest.raises(SettingsError, match="rotation = 45 — use 0, 90, 180 or 270"):
        prepare_kivy(DataDir(tmp_path), True, rotation=45)
    with pytest.raises(SettingsError, match="touch = 'evdev' — use hidinput, mtdev or sdl"):
        prepare_kivy(DataDir(tmp_path), True, touch="evdev")


def test_sleeping_hours_black_display_off_touch_wakes(kiosk: harness.OffscreenKiosk,
                                                      tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    vcgencmd = tmp_path / "vcgencmd"
    vcgencmd.write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\n")
    vcgencmd.chmod(0o755)
    now = datetime.now()
    hours = BlankSchedule.parse((now - timedelta(minutes=1)).strftime("%H:%M"),
                                (now + timedelta(hours=2)).strftime("%H:%M"))
    app = kiosk.app
    app.display_power = DisplayPower(str(vcgencmd))
    app.blanker = Blanker(hours, wake_s=1.0)
    kiosk.wait(lambda: app.asleep, timeout_s=5)
    overlay = app._overlay
    assert overlay is not None and Window.children[0] is overlay  # drawn over everything
    assert tuple(overlay.pos) == (0, 0) and tuple(overlay.size) == tuple(Window.size)
    kiosk.wait(lambda: calls.exists() and calls.read_text() == "display_power 0\n", 5)
    pixels = overlay.export_as_image().texture.pixels  # what it draws, rendered for real
    assert len(pixels) == 4 * Window.width * Window.height
    assert set(pixels[0::4]) == set(pixels[1::4]) == set(pixels[2::4]) == {0}  # black

    # a touch anywhere wakes it and presses nothing
    view = kiosk.controller.view
    kiosk.tap(kiosk.ids("browse"))  # awake, this would open the list of works
    assert not app.asleep and app._overlay is None
    assert kiosk.controller.view == view and kiosk.screen.name == Screen.ATTRACT.value
    kiosk.wait(lambda: calls.read_text().endswith("display_power 1\n"), 5)
    # and it sleeps again wake_s after the last touch
    kiosk.wait(lambda: app.asleep, timeout_s=5)
    app.blanker = None
    app._sleep(False)


def test_kms_without_a_screen_says_why_and_what_to_do(tmp_path: Path) -> None:
    """What a Pi whose KMS/DRM cannot open shows in the journal: Kivy's reason, then one line
    from the kiosk (and it does not fall back to X11)."""
    if Path("/dev/dri").exists():
        pytest.skip("this machine has /dev/dri: KMS/DRM might open a real screen")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIVY_", "DISPLAY"))}
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "--data-dir", str(tmp_path), "run", "--content",
         str(DEMO)], capture_output=True, text=True, timeout=120,
        env={**env, "SDL_VIDEODRIVER": "kmsdrm"})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert "kivy: Window: Unable to find any valuable Window provider" in lines[-2]
    assert "kmsdrm not available" in lines[-2]
    assert lines[-1].startswith("kiosk: the screen could not be opened with kmsdrm")
    assert "kiosk-cage.service" in lines[-1]
