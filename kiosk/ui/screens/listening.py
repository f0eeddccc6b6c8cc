"""Listening: the microphone's level, what is heard so far, and cancel."""

from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.i18n import N_, translate
from kiosk.ui.controller import View
from kiosk.ui.screens import KioskScreen


class ListeningScreen(KioskScreen):
    level = NumericProperty(0.0)
    partial = StringProperty("")
    status = StringProperty("")
    thinking = BooleanProperty(False)

    def show(self, view: View) -> None:
        self.level = view.level
        self.partial = f"“{view.partial}”" if view.partial else ""
        self.thinking = view.thinking
        self.status = translate(view.lang, N_("Let me look…") if view.thinking
                                else N_("Ask your question now"))
