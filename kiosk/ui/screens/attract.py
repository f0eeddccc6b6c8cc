"""Attract: the idle screen — an invitation cycling through the pack's languages, tap to
talk, the language choice (by name) and browse."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty

from kiosk.i18n import N_, language_name, translate
from kiosk.ui.controller import Notice, View
from kiosk.ui.screens import KioskScreen
from kiosk.ui.widgets import KioskButton

INVITE_EVERY_S = 4.0


class AttractScreen(KioskScreen):
    museum = StringProperty("")
    invite = StringProperty("")
    notice = StringProperty("")
    talk_shown = BooleanProperty(True)
    """The talk button is in the row (there is a microphone)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._languages: list[str] = []
        self._shown = -1
        self._generation = -1
        self._lang = ""
        self._loop: Any = None
        self._talk: Any = None

    def show(self, view: View) -> None:
        pack = self.controller.pack
        self.museum = pack.museum.name.get(view.lang) or next(iter(pack.museum.name.values()), "")
        self.notice = translate(view.lang, Notice(view.notice).message) if view.notice else ""
        if view.generation != self._generation or view.lang != self._lang:
            self._generation, self._lang = view.generation, view.lang
            self._languages = list(pack.museum.languages)
            self._build_languages(view.lang)
            self._shown = -1
            self.invite = translate(view.lang, self._invitation())
        self._place_talk(self.kiosk.voice)
        self.ids.prefs.large_text = view.large_text
        self.ids.prefs.high_contrast = view.high_contrast
        self.ids.prefs.slow_speech = view.slow_speech

    def _place_talk(self, voice: bool) -> None:
        """Without a microphone the talk button leaves the row (no gap where it was)."""
        if self._talk is None:  # (kv's ids are weak: out of the tree, only this holds it)
            self._talk = self.ids.talk.__self__
        talk, row = self._talk, self.ids.browse.parent
        if voice and talk.parent is None:
            row.add_widget(talk, index=len(row.children))
        elif not voice and talk.parent is not None:
            row.remove_widget(talk)
        self.talk_shown = voice

    def _build_languages(self, current: str) -> None:
        row = self.ids.languages
        row.clear_widgets()
        for lang in self._languages:
            button = KioskButton(text=language_name(lang), selected=lang == current)
            button.bind(on_release=lambda _b, lang=lang: self.controller.choose_language(lang))
            row.add_widget(button)

    def on_enter(self, *args: Any) -> None:
        if self._loop is not None:  # (entered again without leaving: one loop, not two)
            self._loop.cancel()
        self._loop = Clock.schedule_interval(self._next_invite, INVITE_EVERY_S)

    def on_leave(self, *args: Any) -> None:
        if self._loop is not None:
            self._loop.cancel()

    def _next_invite(self, _dt: float) -> None:
        """The invitation in the next language (the chosen one comes back every other time)."""
        if not self._languages:
            return
        self._shown = (self._shown + 1) % len(self._languages)
        self.invite = translate(self._languages[self._shown], self._invitation())

    def _invitation(self) -> str:
        """Without a microphone the invitation does not ask for a question."""
        return N_("Ask me about the works in this room") if self.kiosk.voice \
            else N_("Discover the works in this room")
