"""One visitor's conversation: language, the work it is about, recent answers (reset forgets it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.events import Answer, AnswerKind, Question
from kiosk.ports import Answerer
from kiosk.qa.text import guess_language


@dataclass
class Session:
    """Conversation state; nothing in it outlives the visit (``reset``)."""

    default_language: str
    """Language a new visit starts in."""
    languages: list[str]
    """Languages the visitor may use (for guessing a typed question's language)."""
    language: str = ""
    """The visit's current language."""
    current_exhibit: str | None = None
    """The work the conversation is about (follow-ups refer to it)."""
    history: list[Answer] = field(default_factory=list)
    """This visit's answers, newest last (a few kept)."""

    def __post_init__(self) -> None:
        self.language = self.language or self.default_language

    def reset(self) -> None:
        self.language = self.default_language
        self.current_exhibit = None
        self.history.clear()

    def ask(self, answerer: Answerer, text: str, lang: str | None = None,
            about: str | None = None) -> Answer:
        """Answer a question in this conversation; remembers its subject for follow-ups."""
        if lang is None:
            lang = guess_language(text, self.languages, self.language)
        self.language = lang
        if about is not None:
            self.current_exhibit = about
        last = self.history[-1] if self.history else None
        follows = last.source if last is not None and last.kind is AnswerKind.ANSWER else None
        answer = answerer.answer(Question(text, lang, follows), about=self.current_exhibit)
        if answer.kind is AnswerKind.ANSWER and answer.exhibit_id:
            self.current_exhibit = answer.exhibit_id
        self.history = [*self.history[-9:], answer]
        return answer
