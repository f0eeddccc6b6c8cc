"""``kiosk run``: open the content, the models and the devices, then the touchscreen app
(or, with ``--headless``, voice only with captions in the terminal).

Everything that can be wrong at start-up — content, a model, no display — stops here with one
line saying what to do; once running, faults are calm screens (``ui.controller``).
"""

from __future__ import annotations

import glob
import os
import time
from pathlib import Path
from typing import Any

from kiosk.errors import KioskError
from kiosk.paths import DataDir
from kiosk.settings import Settings


class DisplayError(KioskError):
    code = "display"


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


def prepare_kivy(data: DataDir, fullscreen: bool, size: tuple[int, int] | None = None) -> None:
    """Kivy's settings, before Kivy is first imported: no argv parsing, its files in the
    data directory, our window size."""
    home = data.root / "kivy"
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_HOME", str(home))
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "MIXED")  # Kivy must not take over stderr
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    if fullscreen:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "borderless", "1")
        Config.set("graphics", "show_cursor", "0")
    else:
        Config.set("graphics", "fullscreen", "0")
    if size is not None:
        Config.set("graphics", "width", str(size[0]))
        Config.set("graphics", "height", str(size[1]))


def build_kiosk(settings: Settings, data: DataDir, content: Path | None,
                voice: bool = True, speak: bool = True, encoder: Any = None) -> dict[str, Any]:
    """Everything the app runs on: answerer, recognizers, speaker, microphone, pipeline,
    controller. Raises a one-line KioskError for anything missing."""
    from kiosk.pipeline import Pipeline
    from kiosk.runtime import default_content, open_answerer
    from kiosk.session import Session
    from kiosk.ui.controller import Controller

    path = content or default_content(data)
    answerer, opened = open_answerer(settings, data, path, encoder=encoder)
    museum = opened.pack.museum
    session = Session(settings.session.language or museum.default_language,
                      sorted({*museum.languages, "fr", "en", "es"}))
    parts: dict[str, Any] = {"content": opened, "images": path.resolve(), "closers": []}
    recognizer = speaker = listen = None
    slow = None
    if voice:
        recognizer, listen, closers = _voice(settings, data, opened.pack, session.languages)
        parts["closers"] += closers
    if speak:
        speaker, slow, closers = _speaker(settings)
        parts["closers"] += closers
    pipeline = Pipeline(answerer, session, recognizer,
                        detect_language=settings.asr.detect_language, speaker=speaker,
                        endpointer=_endpointer(settings))
    parts["pipeline"] = pipeline
    observers: list[Any] = []
    if settings.insights.enabled:  # what visitors asked (never audio, no identifiers)
        from kiosk.insights.log import InsightsLog

        insights = InsightsLog(data, settings.insights)
        observers.append(insights.observe)
        parts["closers"].append(insights.close)
        parts["insights"] = insights
    parts["controller"] = Controller(pipeline, opened.pack,
                                     idle_reset_s=settings.session.idle_reset_s,
                                     listen=listen, slow_speech=slow, content=opened.label,
                                     root=path.resolve(), observers=observers)
    if content is None:  # serving the installed version: follow `kiosk content sync/rollback`
        parts["watch"] = follow_versions(settings, data, parts["controller"], answerer.encoder,
                                         path.resolve())
    return parts


def follow_versions(settings: Settings, data: DataDir, controller: Any, encoder: Any,
                    serving: Path) -> Any:
    """A check (called every second) that opens a newly activated content version in the
    background and hands it to the controller, which switches between conversations. A
    version that cannot be opened is logged; the kiosk keeps serving what it has."""
    from kiosk.content.watch import VersionWatcher, open_in_background
    from kiosk.qa.answerer import KioskAnswerer
    from kiosk.runtime import open_content

    def opened(path: Path) -> Any:
        content = open_content(path, encoder)
        answerer = KioskAnswerer(content.pack, content.units, content.vectors, encoder,
                                 settings.qa)
        return answerer, content, path

    def deliver(result: Any) -> None:
        answerer, content, path = result
        controller.offer_content(answerer, content.pack, content.label, path)

    def error(exc: Exception) -> None:
        controller.errors.append((time.time(), f"new content not loaded: {exc}"))

    def changed(path: Path) -> None:
        open_in_background(path, opened, deliver, error)

    return VersionWatcher(data, changed, serving=serving).check


def _endpointer(settings: Settings) -> Any:
    from kiosk.audio.endpoint import EndPointer

    au = settings.audio

    def make() -> EndPointer:
        return EndPointer(threshold=au.vad_threshold, trailing_silence_ms=au.trailing_silence_ms,
                          max_utterance_s=au.max_utterance_s, no_speech_s=au.no_speech_s)
    return make


def _voice(settings: Settings, data: DataDir, pack: Any, languages: list[str]) -> Any:
    from kiosk.asr.engines import load_recognizers
    from kiosk.audio.devices import Microphone
    from kiosk.audio.vad import SileroVad

    recognizer = load_recognizers(settings.asr, data, pack, languages)
    mic = Microphone(settings.audio.input_device)
    vad = SileroVad()
    return recognizer, (lambda: (mic, vad)), [mic.close]


def _speaker(settings: Settings) -> Any:
    from kiosk.audio.devices import Speakers
    from kiosk.tts.espeak import EspeakSynth
    from kiosk.tts.speaker import EspeakSpeaker

    sp = settings.speech
    synth = EspeakSynth(rate=sp.rate, volume=sp.volume, timeout_s=sp.timeout_s)

    def slow(on: bool) -> None:
        synth.rate = round(sp.rate * (sp.slow_factor if on else 1.0))

    speakers = Speakers(settings.audio.output_device)
    return EspeakSpeaker(synth, speakers), slow, [synth.close]


def run_app(settings: Settings, data: DataDir, content: Path | None, windowed: bool,
            size: tuple[int, int] | None = None, exit_after_s: float | None = None) -> int:
    """Open the kiosk's window (full screen unless ``windowed``) and run until exit (the admin
    screen's Exit, or after ``exit_after_s`` for smoke checks)."""
    problem = display_problem()
    if problem:
        raise DisplayError(problem)
    prepare_kivy(data, fullscreen=not windowed and settings.ui.fullscreen, size=size)
    parts = build_kiosk(settings, data, content)
    from kiosk.ui.app import KioskApp

    app = KioskApp(parts["controller"], images=parts["images"],
                   admin=admin_actions(settings, data, parts),
                   admin_hold_s=settings.ui.admin_hold_s)
    app.on_exit += parts["closers"]
    app.watch = parts.get("watch")
    if exit_after_s is not None:
        from kivy.clock import Clock

        def leave(_dt: float) -> None:
            print(f"kiosk: smoke check over after {exit_after_s:g} s: {app.frames} frames "
                  f"drawn, screen {app.screen.name!r}, content {parts['content'].label}")
            app.stop()
        Clock.schedule_once(leave, exit_after_s)
    app.run()
    return 0


def admin_actions(settings: Settings, data: DataDir, parts: dict[str, Any]) -> dict[str, Any]:
    """What the admin screen shows and does (see ``ui.admin``, ``ui.screens.admin``)."""
    from kiosk.ui.admin import actions

    return actions(settings, data, parts)
