"""``kiosk run``: open the content, the models and the devices, then the touchscreen app
(or, with ``--headless``, voice only with captions in the terminal).

Everything that can be wrong at start-up — content, a model, no display — stops here with one
line saying what to do; once running, faults are calm screens (``ui.controller``).
"""

from __future__ import annotations

import faulthandler
import glob
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.assembly import Kiosk, assemble
from kiosk.errors import DisplayError, SettingsError
from kiosk.paths import DataDir
from kiosk.ports import Encoder
from kiosk.settings import Settings

if TYPE_CHECKING:
    from kiosk.pipeline import Pipeline
    from kiosk.ui.admin import AdminActions
    from kiosk.ui.controller import Controller

log = logging.getLogger(__name__)


def display_problem(environ: dict[str, str] | None = None,
                    dri: str = "/dev/dri/card*") -> str | None:
    """Why the app cannot open a window here, or None when it can.

    An explicit ``SDL_VIDEODRIVER`` is always honoured (``offscreen`` for tests and
    screenshots, ``kmsdrm`` on a Pi's console); otherwise an X11 or Wayland session, or a
    DRM device for full screen on the console, is needed.
    """
    env = os.environ if environ is None else environ
    if env.get("SDL_VIDEODRIVER") or env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    if glob.glob(dri):
        return None
    return ("no display here (no DISPLAY, WAYLAND_DISPLAY or /dev/dri) — run `kiosk run "
            "--headless` for voice with captions in the terminal, or start the kiosk on a "
            "machine with a screen")


ROTATIONS = (0, 90, 180, 270)
TOUCH = ("hidinput", "mtdev", "sdl")


def on_console(environ: dict[str, str] | None = None) -> bool:
    """Whether SDL will draw through KMS/DRM with no desktop (the kiosk on a Pi's console)."""
    env = os.environ if environ is None else environ
    driver = env.get("SDL_VIDEODRIVER", "")
    if driver:
        return driver == "kmsdrm"
    return not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def prepare_kivy(data: DataDir, fullscreen: bool, size: tuple[int, int] | None = None,
                 rotation: int = 0, touch: str = "hidinput") -> None:
    """Kivy's settings, before Kivy is first imported: no argv parsing, its files in the
    data directory, our window size, and no way out but the admin screen.

    Full screen on the console, Kivy reads the touchscreen itself (``probesysfs`` finds
    /dev/input/event* devices that report multitouch, read with ``touch`` = hidinput or mtdev)
    and SDL stops turning touches into mouse clicks (else every tap would arrive twice); a
    mouse still works. Elsewhere (a desktop, cage) touches come from SDL as a mouse.
    """
    if rotation not in ROTATIONS:
        raise SettingsError(f"[ui] rotation = {rotation} — use 0, 90, 180 or 270")
    if touch not in TOUCH:
        raise SettingsError(f"[ui] touch = {touch!r} — use hidinput, mtdev or sdl")
    home = data.root / "kivy"
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_HOME", str(home))
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "MIXED")  # Kivy must not take over stderr
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    # SDL2 only: when it cannot open the screen, Kivy must say why, not try X11 instead.
    os.environ.setdefault("KIVY_WINDOW", "sdl2")
    console = fullscreen and on_console() and touch != "sdl"
    if console:
        os.environ.setdefault("SDL_TOUCH_MOUSE_EVENTS", "0")
    from kivy.config import Config

    # No way out and nothing to open: Escape does not quit, no inspector, screenshot or
    # rotation keys from a [modules] line in KIVY_HOME's config.ini (F1's settings panel is
    # refused by KioskApp.open_settings).
    Config.set("kivy", "exit_on_escape", "0")
    for module in Config.options("modules"):
        Config.remove_option("modules", module)
    Config.set("graphics", "rotation", str(rotation))
    Config.set("input", "mouse", "mouse,disable_multitouch")
    for name in Config.options("input"):
        if name != "mouse":
            Config.remove_option("input", name)
    if console:
        Config.set("input", "touch_%(name)s", f"probesysfs,provider={touch}")
    if fullscreen:
        Config.set("kivy", "desktop", "0")  # touch, not keyboard focus and window actions
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "borderless", "1")
        Config.set("graphics", "show_cursor", "0")
    else:
        Config.set("graphics", "fullscreen", "0")
    if size is not None:
        Config.set("graphics", "width", str(size[0]))
        Config.set("graphics", "height", str(size[1]))


@dataclass
class Running:
    """The kiosk's parts with the app's own: the pipeline the controller drives, the
    controller, and the check that follows new content versions."""

    kiosk: Kiosk
    pipeline: Pipeline
    controller: Controller
    watch: Callable[[], Any] | None = None
    """Called every second when serving the installed version (``follow_versions``)."""


def build_kiosk(settings: Settings, data: DataDir, content: Path | None,
                voice: bool = True, speak: bool = True,
                encoder: Encoder | None = None) -> Running:
    """Everything the app runs on (``kiosk.assembly``), and the controller over it. Raises a
    one-line KioskError for anything missing."""
    from kiosk.ui.controller import Controller

    kiosk = assemble(settings, data, content, recognizer=voice, microphone=voice,
                     speaker=speak, insights=True, encoder=encoder)
    try:
        pipeline = kiosk.pipeline()
        observers = [kiosk.insights.observe] if kiosk.insights is not None else []
        controller = Controller(pipeline, kiosk.content.pack,
                                idle_reset_s=settings.session.idle_reset_s,
                                listen=kiosk.microphone,
                                slow_speech=kiosk.slow_speech if speak else None,
                                content=kiosk.content.label, root=kiosk.root,
                                observers=observers)
        watch = follow_versions(settings, data, controller, kiosk.answerer.encoder,
                                kiosk.root) if kiosk.installed else None
    except BaseException:
        kiosk.close()
        raise
    return Running(kiosk, pipeline, controller, watch)


def follow_versions(settings: Settings, data: DataDir, controller: Any, encoder: Any,
                    serving: Path) -> Any:
    """A check (called every second) that opens a newly activated content version in the
    background and hands it to the controller, which switches between conversations. A
    version that cannot be opened is logged; the kiosk keeps serving what it has."""
    from kiosk.content.watch import VersionWatcher, open_in_background
    from kiosk.qa.answerer import KioskAnswerer
    from kiosk.runtime import open_content, try_question

    def opened(path: Path) -> Any:
        content = open_content(path, encoder)
        answerer = KioskAnswerer(content.pack, content.units, content.vectors, encoder,
                                 settings.qa, room=settings.kiosk.room)
        try_question(answerer, content.pack)  # (one that cannot answer is never swapped in)
        return answerer, content, path

    def deliver(result: Any) -> None:
        answerer, content, path = result
        controller.offer_content(answerer, content.pack, content.label, path)

    def error(exc: Exception) -> None:
        controller.errors.append((time.time(), f"new content not loaded: {exc}"))

    def changed(path: Path) -> None:
        open_in_background(path, opened, deliver, error)

    return VersionWatcher(data, changed, serving=serving).check


def run_app(settings: Settings, data: DataDir, content: Path | None, windowed: bool,
            size: tuple[int, int] | None = None, exit_after_s: float | None = None) -> int:
    """Open the kiosk's window (full screen unless ``windowed``) and run until exit (the admin
    screen's Exit, SIGTERM from ``systemctl stop``, or after ``exit_after_s`` for smoke
    checks). Under systemd it reports READY, pings the watchdog and logs one line per event
    (``kiosk.systemd``)."""
    from kiosk.systemd import Notifier, log_to_stderr
    from kiosk.ui.blanking import Blanker, BlankSchedule, DisplayPower

    log_to_stderr()
    faulthandler.enable()  # the watchdog's SIGABRT on a frozen UI prints every thread's stack
    problem = display_problem()
    if problem:
        raise DisplayError(problem)
    schedule = BlankSchedule.parse(settings.ui.blank_from, settings.ui.blank_until)
    fullscreen = not windowed and settings.ui.fullscreen
    prepare_kivy(data, fullscreen=fullscreen, size=size, rotation=settings.ui.rotation,
                 touch=settings.ui.touch)
    driver = os.environ.get("SDL_VIDEODRIVER") or "SDL's default video driver"
    from kivy.core.window import Window  # the screen is taken now, before the models load

    if Window is None:
        raise DisplayError(f"the screen could not be opened with {driver} (Kivy's reason is "
                           "logged above) — on the console check /dev/dri and that the user "
                           "is in the video and render groups, or use kiosk-cage.service "
                           "(deploy/README.md)")
    notifier = Notifier()
    notifier.status("loading content and models")
    log.info("starting: %s, %s, content %s", "full screen" if fullscreen else "windowed",
             driver, content or "installed version")
    running = build_kiosk(settings, data, content)
    from kivy.clock import Clock

    from kiosk.ui.app import KioskApp

    app = KioskApp(running.controller, images=running.kiosk.root,
                   admin=admin_actions(settings, data, running),
                   admin_hold_s=settings.ui.admin_hold_s, notifier=notifier,
                   image_cache_mb=settings.ui.image_cache_mb)
    app.ready_status = f"showing {running.kiosk.content.label}"
    app.on_exit.append(running.kiosk.close)
    app.watch = running.watch
    if schedule.enabled:
        app.blanker = Blanker(schedule, wake_s=settings.session.idle_reset_s)
        app.display_power = DisplayPower()
    if exit_after_s is not None:

        def leave(_dt: float) -> None:
            print(f"kiosk: smoke check over after {exit_after_s:g} s: {app.frames} frames "
                  f"drawn, screen {app.screen.name!r}, content {running.kiosk.content.label}")
            app.stop()
        # from the first frame: Kivy's clock has not ticked while the models loaded
        Clock.schedule_once(lambda _dt: Clock.schedule_once(leave, exit_after_s), 0)

    def terminate(signum: int, _frame: Any) -> None:  # systemctl stop: leave cleanly
        log.info("stopping: %s", signal.Signals(signum).name)
        Clock.schedule_once(lambda _dt: app.stop(), 0)
    signal.signal(signal.SIGTERM, terminate)
    app.run()
    log.info("stopped")
    return 0


def admin_actions(settings: Settings, data: DataDir, running: Running) -> AdminActions:
    """What the admin screen shows and does (see ``ui.admin``, ``ui.screens.admin``)."""
    from kiosk.ui.admin import actions

    return actions(settings, data, running)
