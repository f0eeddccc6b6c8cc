"""One conversation turn: (audio →) recognizer → answerer, told as events to a subscriber.

Pure core: the stages come in through the constructor as Protocols; nothing here imports an
engine or a widget. The microphone, end-pointing and speaker stages join in later.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kiosk.events import Answer, EventType, PipelineEvent, Transcript
from kiosk.ports import Answerer, Recognizer, Samples
from kiosk.session import Session

Listener = Callable[[PipelineEvent], None]


class Pipeline:
    """Runs turns for one kiosk; the session holds the visitor's conversation."""

    def __init__(self, answerer: Answerer, session: Session,
                 recognizer: Recognizer | None = None, hotwords: tuple[str, ...] = (),
                 listener: Listener | None = None, detect_language: bool = False) -> None:
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

    def _emit(self, event: PipelineEvent) -> None:
        try:
            self.listener(event)
        except Exception:  # a failing subscriber must not break the turn  # noqa: BLE001
            pass


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
