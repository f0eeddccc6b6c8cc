"""What the admin screen shows and does (``AdminActions``), built by ``kiosk run`` (Kivy-free;
the screen is in ``ui.screens.admin``).
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.asr.engines import engine_map
from kiosk.content import sync
from kiosk.doctor import Check, Probe, run_checks
from kiosk.engines import ENGINES, package_version
from kiosk.errors import ModelError, SpeechError
from kiosk.i18n import N_, translate
from kiosk.models import ModelSpec, get_spec
from kiosk.paths import DataDir
from kiosk.ports import Microphone
from kiosk.qa.encoder import encoder_ids
from kiosk.settings import Settings

if TYPE_CHECKING:
    from kiosk.ui.launch import Running

OnLevel = Callable[[float], None]
MicTest = Callable[[OnLevel, threading.Event], None]
PACKAGES = ("kivy", "onnxruntime", "onnxruntime-extensions", "faster-whisper", "vosk",
            "pyttsx3")
"""Packages whose installed versions the admin screen lists."""
TEST_SENTENCE = N_("This is the kiosk's speaker test.")


@dataclass
class AdminActions:
    """What the admin screen shows and does; an action left None is shown as unavailable.
    The actions may block: the screen runs each on a thread."""

    pin: str = ""
    """The PIN that unlocks the screen (``ui.admin_pin``); none set: the screen stays locked."""
    engines: list[tuple[str, str]] = field(default_factory=list)
    """(role, description) rows: the recognizer of each language, the question encoder, speech
    synthesis and the packages, each with its model id and version."""
    mic_test: MicTest | None = None
    """``mic_test(on_level, stop)`` reports the microphone's level (0-1) per chunk until
    ``stop`` is set; raises AudioError when there is no microphone."""
    speaker_test: Callable[[], None] | None = None
    """Says a short sentence through the kiosk's speaker."""
    doctor: Callable[[], list[Check]] | None = None
    """The doctor's quick checks (``kiosk.doctor``; the microphone shared with the kiosk when
    it listens)."""
    rollback: Callable[[], str] | None = None
    """Goes back to the previous content version; a one-line message, or KioskError with what
    to do when it cannot."""
    exit: Callable[[], None] | None = None
    """Stops the app — the only way out of the kiosk."""


def actions(settings: Settings, data: DataDir, running: Running) -> AdminActions:
    """The admin screen's actions over a running kiosk (``ui.launch.build_kiosk``)."""
    pipeline = running.pipeline
    kiosk = running.kiosk
    return AdminActions(
        pin=str(settings.ui.admin_pin or ""),
        engines=engine_rows(settings, kiosk.languages, voice=kiosk.recognizer is not None),
        mic_test=mic_test(settings.audio.input_device, kiosk.microphone),
        speaker_test=speaker_test(kiosk.speaker, lambda: pipeline.session.language),
        doctor=health_check(settings, data, kiosk.microphone,
                            None if kiosk.installed else kiosk.root),
        rollback=lambda: rollback(data),
        exit=exit_app,
    )


# -- engines and models ----------------------------------------------------------------------
def espeak_version(command: str = "espeak-ng") -> str:
    """espeak-ng's version (``espeak-ng --version``), or why it is unknown."""
    try:
        out = subprocess.run([command, "--version"], capture_output=True, text=True,
                             timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return "not installed — `apt install espeak-ng`"
    found = re.search(r"text-to-speech:\s*(\S+)", out)
    return found.group(1) if found else (out.strip().splitlines() or ["unknown"])[0]


def _model(model_id: str) -> tuple[ModelSpec | None, str]:
    try:
        return get_spec(model_id), ""
    except ModelError as exc:
        return None, str(exc)


def _licence(spec: ModelSpec) -> str:
    """The weights' licence (the catalog's first clause)."""
    return spec.licence.split(";")[0].strip()


def engine_rows(settings: Settings, languages: Iterable[str], voice: bool = True,
                espeak: Callable[[], str] = espeak_version) -> list[tuple[str, str]]:
    """(role, description) rows: the models in use with their engines' versions."""
    rows: list[tuple[str, str]] = []
    if voice:
        by_model: dict[str, list[str]] = {}
        for lang, model_id in sorted(engine_map(settings.asr, languages).items()):
            by_model.setdefault(model_id, []).append(lang)
        for model_id, langs in by_model.items():
            role = f"Speech recognition ({', '.join(langs)})"
            spec, problem = _model(model_id)
            if spec is None:
                rows.append((role, f"{model_id} — {problem}"))
                continue
            engine = ENGINES.get(spec.engine_kind)
            runs = engine.versions() if engine else f"no engine '{spec.engine_kind}'"
            rows.append((role, f"{model_id} — {runs}; {_licence(spec)}"))
    else:
        rows.append(("Speech recognition", "off (touch only)"))
    encoders = []
    for encoder_id in encoder_ids(settings.models.encoder):
        spec, problem = _model(encoder_id)
        kind = ENGINES.get(spec.engine_kind) if spec else None
        runs = kind.versions() if kind else "no engine"
        encoders.append(f"{encoder_id} — {runs}; " + (_licence(spec) if spec else problem))
    rows.append(("Question encoder" + "s" * (len(encoders) > 1), " · ".join(encoders)))
    rows.append(("Speech synthesis",
                 f"espeak-ng {espeak()} — pyttsx3 {package_version('pyttsx3')}"))
    rows.append(("Packages", " · ".join(f"{p} {package_version(p)}" for p in PACKAGES)))
    return rows


# -- tests of the devices ------------------------------------------------------------------------
def mic_test(device: str | int | None,
             shared: Callable[[], tuple[Microphone, Any]] | None = None) -> MicTest:
    """A microphone test: the kiosk's own microphone when it listens (``shared``, left open),
    else ``device`` opened for the test and closed after."""

    def run(on_level: OnLevel, stop: threading.Event) -> None:
        from kiosk.audio.endpoint import level

        mic: Microphone
        if shared is not None:
            mic, _vad = shared()
        else:
            from kiosk.audio.devices import Microphone as DeviceMicrophone

            mic = DeviceMicrophone(device)
        try:
            mic.start()
            mic.drain()
            for chunk in mic.chunks():
                if stop.is_set():
                    break
                on_level(level(chunk))
        finally:
            if shared is None:
                mic.close()
    return run


def speaker_test(speaker: Any, language: Callable[[], str]) -> Callable[[], None]:
    """A speaker test: says a short sentence in the visit's language (SpeechError when the
    kiosk has no speech)."""

    def run() -> None:
        if speaker is None:
            raise SpeechError("speech is off in this kiosk (started without a speaker) — "
                              "restart it with speech on to test the speakers")
        lang = language()
        speaker.say(translate(lang, TEST_SENTENCE), lang)
    return run


# -- health ------------------------------------------------------------------------------------
def health_check(settings: Settings, data: DataDir,
                 shared: Callable[[], tuple[Microphone, Any]] | None = None,
                 serving: Path | None = None) -> Callable[[], list[Check]]:
    """The doctor's quick checks from inside the kiosk (``kiosk doctor --quick``): its own
    microphone when it listens (``shared``, left open), its own memory counted as its own, the
    content it was given with ``--content`` (``serving``) rather than the installed version."""

    def run() -> list[Check]:
        probe = Probe(settings, data, quick=True, listen=shared, in_app=True, serving=serving)
        return run_checks(settings, data, quick=True, probe=probe)
    return run


# -- content and exit ------------------------------------------------------------------------------
def rollback(data: DataDir) -> str:
    """Back to the previous content version (``content.sync.rollback``); the running app takes
    it between conversations. A one-line message, or ContentError saying what to do."""
    return sync.rollback(data)


def exit_app() -> None:
    """Stop the running app (the kiosk's service decides whether it starts again)."""
    from kivy.app import App

    app = App.get_running_app()
    if app is not None:
        app.stop()


def error_lines(errors: Sequence[tuple[float, str]], now: float | None = None,
                ) -> list[tuple[str, str]]:
    """(when, message) of the recent errors, newest first: the time of day for today's, the
    date and time for older ones."""
    today = time.strftime("%Y-%m-%d", time.localtime(time.time() if now is None else now))
    out = []
    for when, message in reversed(list(errors)):
        local = time.localtime(when)
        stamp = time.strftime("%H:%M:%S" if time.strftime("%Y-%m-%d", local) == today
                              else "%Y-%m-%d %H:%M", local)
        out.append((stamp, message))
    return out
