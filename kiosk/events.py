"""The data that flows between the pipeline's stages, and the events the UI subscribes to.

All frozen dataclasses; no engine imports (this module is part of the pure core).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar


class AnswerKind(StrEnum):
    """What the answerer decided."""

    ANSWER = "answer"
    CLARIFY = "clarify"
    UNKNOWN = "unknown"


class SourceKind(StrEnum):
    """Where in the curated content an answer comes from."""

    QA = "qa"
    """A curated question and answer of an exhibit."""
    FACT = "fact"
    """A field of an exhibit (artist, date, medium, room, title)."""
    FAQ = "faq"
    """A practical question of the museum's FAQ."""
    DESCRIPTION = "description"
    """Sentences quoted from an exhibit's description."""
    REPLY = "reply"
    """One of the museum's replies (unknown, clarify, out of scope)."""


@dataclass(frozen=True)
class Source:
    """The curated content an answer was taken from."""

    kind: SourceKind
    """Which kind of content."""
    exhibit_id: str | None = None
    """The exhibit, when the answer is about one."""
    faq_id: str | None = None
    """The FAQ entry, when the answer is a practical one."""
    detail: str = ""
    """The field name, ``qa[N]``, ``description`` or the reply name."""

    @property
    def ref(self) -> str | None:
        """The exhibit or FAQ id (what ``kiosk eval`` compares)."""
        return self.exhibit_id or self.faq_id


@dataclass(frozen=True)
class Suggestion:
    """A question the visitor can tap instead of speaking."""

    label: str
    """The text on the button."""
    question: str
    """The question asked when it is tapped."""
    exhibit_id: str | None = None
    """The exhibit it is about (sets the conversation's subject when tapped)."""


@dataclass(frozen=True)
class Answer:
    """The answerer's decision for one question."""

    kind: AnswerKind
    """Answer, clarify ("did you mean...?") or unknown (declined honestly)."""
    text: str
    """What the kiosk shows and says."""
    lang: str
    """The language of ``text``."""
    source: Source
    """Where the text comes from."""
    confidence: float
    """Score of the chosen match, 0-1."""
    suggestions: tuple[Suggestion, ...] = ()
    """Follow-up questions (answer), choices (clarify) or what it can tell instead (unknown)."""
    notice: str = ""
    """A short note shown before the text, e.g. that a translation is missing."""
    out_of_scope: bool = False
    """True when declined because the question is not about the museum."""

    @property
    def exhibit_id(self) -> str | None:
        return self.source.exhibit_id


@dataclass(frozen=True)
class Transcript:
    """What a recognizer heard."""

    text: str
    """The words, as recognised."""
    lang: str
    """The language it was recognised in (fixed by the session, or detected)."""
    language_probability: float = 1.0
    """How sure the detection was (1.0 when the language was fixed)."""
    audio_s: float = 0.0
    """Length of the audio, in seconds."""
    alternatives: tuple[str, ...] = ()
    """The recognizer's n-best texts, best first (``text`` among them), without repeats;
    empty unless it was asked for more than one."""


@dataclass(frozen=True)
class Question:
    """A visitor's question as the answerer receives it."""

    text: str
    """The words, typed or recognised."""
    lang: str
    """The language it is in."""
    follows: Source | None = None
    """Where the conversation's last answer came from ("tell me more" goes on from there)."""


class EventType(StrEnum):
    """Everything the pipeline tells the UI."""

    LISTENING_STARTED = "listening-started"
    LEVEL = "level"
    PARTIAL_TRANSCRIPT = "partial-transcript"
    TRANSCRIPT = "transcript"
    ANSWER = "answer"
    SPEAKING_STARTED = "speaking-started"
    CAPTION = "caption"
    SPEAKING_DONE = "speaking-done"
    HEARD_NOTHING = "heard-nothing"
    ERROR = "error"


# -- what the pipeline tells its listeners: one class per kind of event -------------------------

@dataclass(frozen=True)
class ListeningStarted:
    """The microphone is open for a question."""

    type: ClassVar[EventType] = EventType.LISTENING_STARTED


@dataclass(frozen=True)
class Level:
    """The microphone's level while listening."""

    value: float
    """0-1."""
    type: ClassVar[EventType] = EventType.LEVEL


@dataclass(frozen=True)
class PartialTranscript:
    """What the recogniser has heard so far (a streaming recogniser only)."""

    text: str
    type: ClassVar[EventType] = EventType.PARTIAL_TRANSCRIPT


@dataclass(frozen=True)
class Heard:
    """The question as recognised, once the visitor stopped speaking."""

    text: str
    type: ClassVar[EventType] = EventType.TRANSCRIPT


@dataclass(frozen=True)
class Answered:
    """The answer to a question (spoken, typed or tapped)."""

    text: str
    """The question."""
    answer: Answer
    timings_ms: dict[str, float] = field(default_factory=dict)
    """Time each stage took."""
    type: ClassVar[EventType] = EventType.ANSWER


@dataclass(frozen=True)
class SpeakingStarted:
    """The kiosk starts saying ``text`` (the answer's notice and text)."""

    text: str
    answer: Answer | None = None
    type: ClassVar[EventType] = EventType.SPEAKING_STARTED


@dataclass(frozen=True)
class Caption:
    """The word being said now: ``span`` is its characters in SpeakingStarted's text."""

    text: str
    span: tuple[int, int]
    type: ClassVar[EventType] = EventType.CAPTION


@dataclass(frozen=True)
class SpeakingDone:
    """The voice stopped: at the end (``finished``) or cut short."""

    finished: bool
    type: ClassVar[EventType] = EventType.SPEAKING_DONE


@dataclass(frozen=True)
class HeardNothing:
    """The microphone closed without a question."""

    type: ClassVar[EventType] = EventType.HEARD_NOTHING


@dataclass(frozen=True)
class Failed:
    """A stage failed: ``text`` is the one-line message (what is wrong — what to do)."""

    text: str
    type: ClassVar[EventType] = EventType.ERROR


PipelineEvent = (ListeningStarted | Level | PartialTranscript | Heard | Answered
                 | SpeakingStarted | Caption | SpeakingDone | HeardNothing | Failed)
"""Every event; ``event.type`` names its kind (for logs and JSON)."""
