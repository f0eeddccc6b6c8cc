"""The kiosk, assembled in one place: from the settings and the data directory to the content,
the answerer, the recognisers, the voice, the microphone, the end-pointer, conversations and
the insights log.

``assemble`` builds a ``Kiosk`` with the parts a verb asks for — ``kiosk run`` (the app, through
``ui.launch``), ``kiosk listen``, ``kiosk ask``, ``kiosk eval`` and ``kiosk doctor`` all start
here — and nothing else constructs these parts. Each heavy part is imported only when asked for,
so ``kiosk ask`` loads no audio library. Anything missing (content, a model, espeak-ng) stops
here with one line that says what to do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.paths import DataDir
from kiosk.ports import Encoder, Recognizer, Speaker, VoiceActivity
from kiosk.runtime import Content, open_answerer
from kiosk.session import Session
from kiosk.settings import Settings

if TYPE_CHECKING:
    from kiosk.asr.engines import Recognizers
    from kiosk.audio.devices import Microphone
    from kiosk.audio.endpoint import EndPointer
    from kiosk.content.model import Pack
    from kiosk.insights.log import InsightsLog
    from kiosk.pipeline import Listener, Pipeline
    from kiosk.qa.answerer import KioskAnswerer
    from kiosk.tts.synth import Synth

__all__ = ["VISITOR_LANGUAGES", "Kiosk", "assemble", "endpointer_factory", "recognizers_for",
           "synthesizer"]

VISITOR_LANGUAGES = ("fr", "en", "es")
"""Languages a visitor may always speak, whatever the content is written in (the kiosk says
what it knows in the content's languages and says so)."""


def synthesizer(settings: Settings) -> Synth:
    """The voice of ``[speech] engine`` at the settings' rate and volume (close it when done):
    Pico, with espeak-ng for the languages and texts Pico cannot say; or espeak-ng alone.
    A Pico voice setting that names no Pico voice stops here."""
    from kiosk.tts.espeak import EspeakSynth

    sp = settings.speech
    espeak = EspeakSynth(rate=sp.rate, volume=sp.volume, timeout_s=sp.timeout_s)
    if sp.engine == "espeak":
        return espeak
    from kiosk.tts.pico import PicoSynth
    from kiosk.tts.synth import Fallback

    try:
        pico = PicoSynth(sp.voice_map(), rate=sp.rate, volume=sp.volume,
                         timeout_s=sp.timeout_s)
    except BaseException:
        espeak.close()
        raise
    return Fallback(pico, espeak)


def endpointer_factory(settings: Settings) -> Callable[[], EndPointer]:
    """A fresh end-pointer for each question, from the ``[audio]`` settings."""
    from kiosk.audio.endpoint import EndPointer

    au = settings.audio

    def make() -> EndPointer:
        return EndPointer(threshold=au.vad_threshold, trailing_silence_ms=au.trailing_silence_ms,
                          max_utterance_s=au.max_utterance_s, no_speech_s=au.no_speech_s)
    return make


def recognizers_for(settings: Settings, data: DataDir, pack: Pack,
                    languages: Iterable[str]) -> Recognizers:
    """The recogniser of each language (``[asr]``), loaded once per model."""
    from kiosk.asr.engines import load_recognizers

    return load_recognizers(settings.asr, data, pack, languages)


@dataclass
class Kiosk:
    """One kiosk's parts. Those not asked of ``assemble`` are None."""

    settings: Settings
    data: DataDir
    content: Content
    """The content version served."""
    answerer: KioskAnswerer
    root: Path
    """The content's folder (its images), resolved."""
    installed: bool
    """Serving the installed version (it follows `kiosk content sync` / `rollback`)."""
    recognizer: Recognizer | None = None
    speaker: Speaker | None = None
    synth: Synth | None = None
    """The speaker's synthesiser (its rate changes for slow speech)."""
    microphone: Callable[[], tuple[Microphone, VoiceActivity]] | None = None
    """The microphone and voice detector, opened once and shared (the app's turns and the
    admin screen's level meter)."""
    endpointer: Callable[[], EndPointer] | None = None
    insights: InsightsLog | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def languages(self) -> list[str]:
        """Languages visitors may use here: the content's and ``VISITOR_LANGUAGES``."""
        return sorted({*self.content.pack.museum.languages, *VISITOR_LANGUAGES})

    def new_session(self, lang: str | None = None) -> Session:
        """A new visitor's conversation, in ``lang`` or the settings' or content's language."""
        museum = self.content.pack.museum
        return Session(lang or self.settings.session.language or museum.default_language,
                       self.languages)

    def slow_speech(self, on: bool) -> None:
        """Speak slower (a visitor's choice) or at the normal rate again."""
        if self.synth is not None:
            sp = self.settings.speech
            self.synth.rate = round(sp.rate * (sp.slow_factor if on else 1.0))

    def pipeline(self, session: Session | None = None, listener: Listener | None = None,
                 detect_language: bool | None = None,
                 hotwords: tuple[str, ...] = ()) -> Pipeline:
        """The turn runner over these parts (a new session unless one is given)."""
        from kiosk.pipeline import Pipeline

        detect = self.settings.asr.detect_language if detect_language is None \
            else detect_language
        return Pipeline(self.answerer, session or self.new_session(), self.recognizer,
                        hotwords, listener=listener, detect_language=detect,
                        speaker=self.speaker, endpointer=self.endpointer or
                        endpointer_factory(self.settings),
                        repair_names=self.settings.asr.repair_names)

    def close(self) -> None:
        """Release the devices, the voice and the log (each once; a failure does not stop the
        rest)."""
        closers, self.closers = self.closers, []
        for close in closers:
            try:
                close()
            except Exception:  # noqa: BLE001, S110 — closing must reach every part
                pass


def assemble(settings: Settings, data: DataDir, content: Path | None = None, *,
             recognizer: bool = False, speaker: bool = False, microphone: bool = False,
             insights: bool = False, encoder: Encoder | None = None,
             today: dt.date | None = None) -> Kiosk:
    """The kiosk over ``content`` (default: the installed version) with the parts asked for.

    The encoder is loaded unless given (tests share one). ``insights`` opens the log only when
    ``[insights] enabled``. ``today`` fixes the date works are on view (the doctor's clock).
    """
    answerer, opened, path = open_answerer(settings, data, content, today=today,
                                           encoder=encoder)
    kiosk = Kiosk(settings, data, opened, answerer, path.resolve(), installed=content is None)
    try:
        if recognizer:
            kiosk.recognizer = recognizers_for(settings, data, opened.pack, kiosk.languages)
        if speaker:
            from kiosk.audio.devices import Speakers
            from kiosk.tts.speaker import Speaker as Voice

            synth = synthesizer(settings)
            kiosk.closers.append(synth.close)
            kiosk.synth = synth
            kiosk.speaker = Voice(synth, Speakers(settings.audio.output_device))
        if microphone:
            from kiosk.audio.devices import Microphone
            from kiosk.audio.vad import SileroVad

            mic = Microphone(settings.audio.input_device)
            kiosk.closers.append(mic.close)
            vad = SileroVad()
            kiosk.microphone = lambda: (mic, vad)
        kiosk.endpointer = endpointer_factory(settings)
        if insights and settings.insights.enabled:  # what visitors asked; never audio
            from kiosk.insights.log import InsightsLog

            kiosk.insights = InsightsLog(data, settings.insights)
            kiosk.closers.append(kiosk.insights.close)
    except BaseException:
        kiosk.close()
        raise
    return kiosk
