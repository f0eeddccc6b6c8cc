"""One conversation turn: microphone → end-pointing → recognizer → answerer → speaker, told
as events to a subscriber.

Pure core: the stages come in through the constructor as Protocols; nothing here imports an
engine or a widget.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kiosk.audio.endpoint import EndPointer, Outcome, level
from kiosk.events import Answer, EventType, PipelineEvent, Transcript
from kiosk.ports import Answerer, Microphone, Recognizer, Samples, Speaker, VoiceActivity
from kiosk.session import Session

Listener = Callable[[PipelineEvent], None]


class Pipeline:
    """Runs turns for one kiosk; the session holds the visitor's conversation."""

    def __init__(self, answerer: Answerer, session: Session,
                 recognizer: Recognizer | None = None, hotwords: tuple[str, ...] = (),
                 listener: Listener | None = None, detect_language: bool = False,
                 speaker: Speaker | None = None,
                 endpointer: Callable[[], EndPointer] = EndPointer) -> None:
        self.speaker = speaker
        self.endpointer = endpointer
        self._cancel = threading.Event()
        self.answerer = answerer
        self.session = session
        self.recognizer = recognizer
        self.hotwords = hotwords
        self.listener = listener or (lambda event: None)
        self.detect_language = detect_language

    def ask_text(self, text: str, lang: str | None = None) -> Answer:
        """A typed or tapped question."""
        start = time.perf_counter()
        answer = self.session.ask(self.answerer, text, lang)
        self._emit(PipelineEvent(EventType.ANSWER, text=text, answer=answer, timings_ms={
            "answer": _ms(start)}))
        return answer

    def ask_audio(self, audio: Samples, lang: str | None = None,
                  ) -> tuple[Transcript, Answer, dict[str, float]]:
        """A spoken question, already recorded: recognise it, then answer it.

        The language is ``lang``, else the session's, unless detection is on; a detected
        language becomes the session's.
        """
        if self.recognizer is None:
            raise RuntimeError("this pipeline has no recognizer")
        fixed = lang or (None if self.detect_language else self.session.language)
        start = time.perf_counter()
        transcript = self.recognizer.transcribe(audio, fixed, self.hotwords)
        timings = {"asr": _ms(start)}
        self._emit(PipelineEvent(EventType.TRANSCRIPT, text=transcript.text))
        start = time.perf_counter()
        answer = self.session.ask(self.answerer, transcript.text, transcript.lang)
        timings["answer"] = _ms(start)
        self._emit(PipelineEvent(EventType.ANSWER, text=transcript.text, answer=answer,
                                 timings_ms=timings))
        return transcript, answer, timings

    def ask_by_voice(self, mic: Microphone, vad: VoiceActivity, lang: str | None = None,
                     ) -> tuple[Transcript, Answer, dict[str, float]] | None:
        """Listen until a question is complete, answer it, and say the answer.

        None when nothing was heard or the turn was cancelled.
        """
        self._cancel.clear()
        vad.reset()
        mic.start()  # capturing before the visitor is told to speak
        mic.drain()
        ep = self.endpointer()
        self._emit(PipelineEvent(EventType.LISTENING_STARTED))
        outcome = None
        for chunk in mic.chunks():
            if self._cancel.is_set():
                return None
            self._emit(PipelineEvent(EventType.LEVEL, value=level(chunk)))
            outcome = ep.push(chunk, vad.feed(chunk))
            if outcome is not None:
                break
        if outcome is not Outcome.UTTERANCE:
            self._emit(PipelineEvent(EventType.HEARD_NOTHING))
            return None
        end_of_speech = time.perf_counter()
        transcript, answer, timings = self.ask_audio(ep.audio(), lang)
        if self.speaker is not None and not self._cancel.is_set():
            self._emit(PipelineEvent(EventType.SPEAKING_STARTED, text=answer.text,
                                     answer=answer))
            timings["end_of_speech_to_voice"] = _ms(end_of_speech)
            finished = self.speaker.say(f"{answer.notice} {answer.text}".strip(), answer.lang)
            self._emit(PipelineEvent(EventType.SPEAKING_DONE, value=1.0 if finished else 0.0))
        return transcript, answer, timings

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
