"""Clarify ("did you mean…?") and Unknown (the honest reply and what the kiosk can tell
instead): the choices are big buttons; tapping one asks it."""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.utils import escape_markup

from kiosk.events import Answer
from kiosk.ui import strings
from kiosk.ui.controller import View
from kiosk.ui.screens import KioskScreen
from kiosk.ui.screens.answer import suggestion_buttons


class ChoicesScreen(KioskScreen):
    heading_key = "did_you_mean"
    heading = StringProperty("")
    text = StringProperty("")
    asked = StringProperty("")
    lead = StringProperty("")
    notice = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._answer: Answer | None = None

    def show(self, view: View) -> None:
        answer = view.answer
        if answer is None:
            return
        self.notice = strings.text(view.lang, view.notice) if view.notice else ""
        if answer is self._answer:
            return
        self._answer = answer
        self.heading = strings.text(view.lang, self.heading_key)
        self.text = escape_markup(answer.text)
        self.asked = strings.text(view.lang, "you_asked", question=view.question) \
            if view.question else ""
        self.lead = strings.text(view.lang, "instead") \
            if self.heading_key == "unknown_title" and answer.suggestions else ""
        suggestion_buttons(self.ids.choices, answer.suggestions, self.controller)


class ClarifyScreen(ChoicesScreen):
    heading_key = "did_you_mean"


class UnknownScreen(ChoicesScreen):
    heading_key = "unknown_title"
