"""Browse: every work on view as a card (image, title, artist), and a work's page with its
description and the questions a visitor can tap — the whole visit without speaking."""

from __future__ import annotations

import datetime as dt

from kivy.properties import StringProperty
from kivy.utils import escape_markup

from kiosk.content.model import pick
from kiosk.i18n import translate
from kiosk.ui.controller import View
from kiosk.ui.screens import KioskScreen
from kiosk.ui.screens.answer import exhibit_meta
from kiosk.ui.widgets import ExhibitCard, KioskButton

QUESTIONS_PER_WORK = 6


class BrowseScreen(KioskScreen):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._built: tuple[int, str] | None = None

    def show(self, view: View) -> None:
        key = (view.generation, view.lang)
        if key == self._built:
            return
        self._built = key
        grid = self.ids.grid
        grid.clear_widgets()
        today = dt.date.today()
        for exhibit in self.controller.pack.exhibits:
            if not exhibit.on_view(today):
                continue
            card = ExhibitCard(exhibit_id=exhibit.id, title=pick(exhibit.title, view.lang, "en")[0],
                               artist=pick(exhibit.artist, view.lang, "en")[0],
                               source=self.kiosk.image_path(exhibit))
            card.bind(on_release=lambda c: self.controller.open_exhibit(c.exhibit_id))
            grid.add_widget(card)
        self.ids.scroll.scroll_y = 1


class ExhibitScreen(KioskScreen):
    title = StringProperty("")
    meta = StringProperty("")
    description = StringProperty("")
    image = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._built: tuple[int, str, str | None] | None = None

    def show(self, view: View) -> None:
        key = (view.generation, view.lang, view.exhibit_id)
        if key == self._built or view.exhibit_id is None:
            return
        self._built = key
        exhibit = self.controller.pack.exhibit(view.exhibit_id)
        if exhibit is None:
            return
        lang = view.lang
        self.title = pick(exhibit.title, lang, "en")[0]
        self.meta = exhibit_meta(exhibit, lang)
        description = pick(exhibit.description, lang, "en")[0]
        self.description = escape_markup(description.strip())
        self.image = self.kiosk.image_path(exhibit)
        box = self.ids.questions
        box.clear_widgets()
        for pair in exhibit.qa[:QUESTIONS_PER_WORK]:
            asked: list[str] = pair.questions.get(lang) or next(
                iter(pair.questions.values()), [])
            if not asked:
                continue
            button = KioskButton(text=asked[0])
            button.bind(on_release=lambda _b, q=asked[0], e=exhibit.id: self.controller.ask(q, e))
            box.add_widget(button)
        self.ids.scroll.scroll_y = 1

    def questions_heading(self, lang: str) -> str:
        return translate(lang, "Questions you can ask")
