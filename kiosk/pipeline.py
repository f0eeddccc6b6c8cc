"""One conversation turn: microphone → end-pointing → recognizer → answerer → speaker, told
as events to a subscriber.

Pure core: the stages come in through the constructor as Protocols; nothing here imports an
engine or a widget.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import cast

from kiosk.asr.repair import NameRepair
from kiosk.audio.endpoint import EndPointer, Outcome, level
from kiosk.content.model import Pack
from kiosk.errors import AudioError
from kiosk.events import (
    Answer,
    Answered,
    Caption,
    Failed,
    Heard,
    HeardNothing,
    Level,
    ListeningStarted,
    PartialTranscript,
    PipelineEvent,
    SpeakingDone,
    SpeakingStarted,
    Transcript,
)
from kiosk.ports import (
    Answerer,
    Microphone,
    Recognizer,
    RecognizerStream,
    Samples,
    Speaker,
    StreamingRecognizer,
    VoiceActivity,
)
from kiosk.session import Session

log = logging.getLogger(__name__)

Listener = Callable[[PipelineEvent], None]


class Pipeline:
    """Runs turns for one kiosk; the session holds the visitor's conversation."""

    def __init__(self, answerer: Answerer, session: Session,
                 recognizer: Recognizer | None = None, hotwords: tuple[str, ...] = (),
                 listener: Listener | None = None, detect_language: bool = False,
                 speaker: Speaker | None = None,
                 endpointer: Callable[[], EndPointer] = EndPointer,
                 repair_names: bool = True) -> None:
        """``repair_names``: a spoken question's names misheard by the recognizer are put right
        from the answerer's content before it is answered (``kiosk.asr.repair``)."""
        self.speaker = speaker
        self.endpointer = endpointer
        self._cancel = threading.Event()
        self.answerer = answerer
        self.session = session
        self.recognizer = recognizer
        self.hotwords = hotwords
        self.listener = listener or (lambda event: None)
        self.detect_language = detect_language
        self.repair_names = repair_names
        self._names: tuple[Pack, NameRepair | None] | None = None
        """The names of the content last answered from (built again when the answerer's pack
        changes: a content reload). Built at once in the background, not by the first
        visitor's question (about 0.5 s for 1,000 works)."""
        self._names_lock = threading.Lock()
        if repair_names and isinstance(getattr(answerer, "pack", None), Pack):
            threading.Thread(target=self._name_repair, name="name-index", daemon=True).start()

    def ask_text(self, text: str, lang: str | None = None, about: str | None = None) -> Answer:
        """A typed or tapped question (``about``: the work whose page it was tapped on)."""
        start = time.perf_counter()
        answer = self.session.ask(self.answerer, text, lang, about)
        self._emit(Answered(text, answer, {"answer": _ms(start)}))
        return answer

    def ask_audio(self, audio: Samples, lang: str | None = None,
                  ) -> tuple[Transcript, Answer, dict[str, float]]:
        """A spoken question, already recorded: recognise it, then answer it.

        The language is ``lang``, else the session's, unless detection is on; a detected
        language becomes the session's.
        """
        recognizer = self._recognizer()
        start = time.perf_counter()
        transcript = recognizer.transcribe(audio, self._language(lang), self.hotwords)
        return self._answer(transcript, {"asr": _ms(start)})

    def _recognizer(self) -> Recognizer:
        if self.recognizer is None:
            raise RuntimeError("this pipeline has no recognizer")
        return self.recognizer

    def _language(self, lang: str | None) -> str | None:
        return lang or (None if self.detect_language else self.session.language)

    def _answer(self, transcript: Transcript, timings: dict[str, float],
                ) -> tuple[Transcript, Answer, dict[str, float]]:
        self._emit(Heard(transcript.text))
        start = time.perf_counter()
        asked = self._repaired(transcript)
        if self.repair_names:
            timings["repair"] = _ms(start)
        start = time.perf_counter()
        answer = self.session.ask(self.answerer, asked, transcript.lang)
        timings["answer"] = _ms(start)
        self._emit(Answered(transcript.text, answer, timings))
        return transcript, answer, timings

    def _repaired(self, transcript: Transcript) -> str:
        """What the answerer reads: the transcript with the content's names put back where
        the recognizer misheard them (the captions and the events keep what was heard)."""
        names = self._name_repair() if self.repair_names else None
        if names is None:
            return transcript.text
        try:
            return names.repair(transcript.text, transcript.lang,
                                getattr(transcript, "alternatives", ())).text
        except Exception:  # a bug must not cost the visitor the answer  # noqa: BLE001
            log.exception("name repair failed; the question is answered as heard")
            return transcript.text

    def _name_repair(self) -> NameRepair | None:
        """The answerer's content's names (None: no pack, or it could not be indexed)."""
        pack = getattr(self.answerer, "pack", None)
        if not isinstance(pack, Pack):
            return None
        with self._names_lock:
            if self._names is None or self._names[0] is not pack:
                try:
                    self._names = (pack, NameRepair(pack))
                except Exception:  # content it cannot index: answer as heard  # noqa: BLE001
                    log.exception("names of the content not indexed; questions are answered "
                                  "as heard")
                    self._names = (pack, None)
            return self._names[1]

    def ask_by_voice(self, mic: Microphone, vad: VoiceActivity, lang: str | None = None,
                     ) -> tuple[Transcript, Answer, dict[str, float]] | None:
        """Listen until a question is complete, answer it, and say the answer.

        A streaming recognizer hears the question while it is spoken (partial captions);
        another one gets the whole utterance at the end. None when nothing was heard or the
        turn was cancelled.
        """
        recognizer = self._recognizer()
        self._cancel.clear()
        vad.reset()
        try:
            mic.start()  # capturing before the visitor is told to speak
            mic.drain()
            return self._listen_and_answer(mic, vad, lang, recognizer)
        except AudioError as exc:  # the microphone went away: say so; the next turn retries
            self._emit(Failed(str(exc)))
            raise

    def _listen_and_answer(self, mic: Microphone, vad: VoiceActivity, lang: str | None,
                           recognizer: Recognizer,
                           ) -> tuple[Transcript, Answer, dict[str, float]] | None:
        ep = self.endpointer()
        self._emit(ListeningStarted())
        stream: RecognizerStream | None = None
        streaming = isinstance(recognizer, StreamingRecognizer)
        outcome = None
        for chunk in mic.chunks():
            if self._cancel.is_set():
                return None
            self._emit(Level(level(chunk)))
            probabilities = vad.feed(chunk)
            outcome = ep.push(chunk, probabilities)
            if ep.started and streaming:
                if stream is None:  # speech began: the recognizer gets the pre-roll too
                    stream = cast(StreamingRecognizer, recognizer).stream(
                        self._language(lang), self.hotwords)
                    partial = stream.feed(ep.audio())
                else:
                    partial = stream.feed(chunk, any(p >= ep.threshold for p in probabilities))
                if partial:
                    self._emit(PartialTranscript(partial))
            if outcome is not None:
                break
        if outcome is not Outcome.UTTERANCE:
            self._emit(HeardNothing())
            return None
        end_of_speech = time.perf_counter()
        if stream is not None:
            transcript = stream.finish()
            turn = self._answer(transcript, {"asr": _ms(end_of_speech)})
        else:
            turn = self.ask_audio(ep.audio(), lang)
        if self.speaker is not None and not self._cancel.is_set():
            self.speak(turn[1], turn[2], end_of_speech)
        return turn

    def speak(self, answer: Answer, timings: dict[str, float] | None = None,
              since: float | None = None) -> bool:
        """Say the answer (its notice first), telling each word as a CAPTION event.

        False when there is no speaker or it was stopped before the end.
        """
        if self.speaker is None:
            return False
        spoken = f"{answer.notice} {answer.text}".strip()
        first = True

        def on_word(start: int, end: int) -> None:
            nonlocal first
            if first and timings is not None and since is not None:
                timings["end_of_speech_to_voice"] = _ms(since)
            first = False
            self._emit(Caption(spoken[start:end], (start, end)))

        self._emit(SpeakingStarted(spoken, answer))
        finished = self.speaker.say(spoken, answer.lang, on_word)
        self._emit(SpeakingDone(finished))
        return finished

    def cancel(self) -> None:
        """Stop listening or speaking now."""
        self._cancel.set()
        if self.speaker is not None:
            self.speaker.stop()

    def _emit(self, event: PipelineEvent) -> None:
        try:
            self.listener(event)
        except Exception:  # a failing subscriber must not break the turn  # noqa: BLE001
            pass


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
