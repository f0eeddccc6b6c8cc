"""Clarify ("did you mean…?") and Unknown (the honest reply and what the kiosk can tell
instead): the choices are big buttons; tapping one asks it."""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.utils import escape_markup

from kiosk.events import Answer
from kiosk.i18n import N_, translate
from kiosk.ui.controller import Notice, View
from kiosk.ui.screens import KioskScreen
from kiosk.ui.screens.answer import suggestion_buttons


class ChoicesScreen(KioskScreen):
    heading_message = N_("Did you mean…?")
    offers_instead = False
    """An honest "I don't know" leads its suggestions with "I can tell you about:"."""
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
        self.notice = translate(view.lang, Notice(view.notice).message) if view.notice else ""
        if answer is self._answer:
            return
        self._answer = answer
        self.heading = translate(view.lang, self.heading_message)
        self.text = escape_markup(answer.text)
        self.asked = translate(view.lang, "You asked: “{question}”", question=view.question) \
            if view.question else ""
        self.lead = translate(view.lang, "I can tell you about:") \
            if self.offers_instead and answer.suggestions else ""
        suggestion_buttons(self.ids.choices, answer.suggestions, self.controller)


class ClarifyScreen(ChoicesScreen):
    heading_message = N_("Did you mean…?")


class UnknownScreen(ChoicesScreen):
    heading_message = N_("I don't know that one")
    offers_instead = True
