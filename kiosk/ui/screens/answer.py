"""Answer: the answer large, its words lit as they are spoken; the work's image, title,
artist and room; where the answer comes from; stop/replay; follow-ups; ask another."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.utils import escape_markup, get_hex_from_color

from kiosk.content.model import Exhibit, pick
from kiosk.events import Answer, SourceKind, Suggestion
from kiosk.i18n import translate
from kiosk.ui.controller import Notice, View
from kiosk.ui.screens import KioskScreen
from kiosk.ui.widgets import KioskButton


def captioned(view: View, said_colour: str) -> str:
    """The answer's text as markup: the words already spoken in ``said_colour``."""
    answer = view.answer
    if answer is None:
        return ""
    text = answer.text
    offset = len(view.spoken) - len(text) if view.spoken.endswith(text) else 0
    said = max(0, min(len(text), view.said - offset)) if view.spoken else 0
    if said == 0 or not view.spoken:
        return str(escape_markup(text))
    return (f"[color={said_colour}]{escape_markup(text[:said])}[/color]"
            f"{escape_markup(text[said:])}")


def source_line(answer: Answer, exhibit: Exhibit | None, lang: str) -> str:
    """Where the answer comes from, in the visitor's words."""
    if answer.source.kind is SourceKind.FAQ:
        return translate(lang, "From the museum's practical information")
    if exhibit is not None:
        title, _ = pick(exhibit.title, lang, "en")
        return translate(lang, "From the museum's notes on {title}", title=title)
    return translate(lang, "From the museum")


def exhibit_meta(exhibit: Exhibit, lang: str) -> str:
    """"Artist · date · Room 3"."""
    parts = [pick(exhibit.artist, lang, "en")[0], pick(exhibit.date, lang, "en")[0]]
    room = pick(exhibit.room, lang, "en")[0]
    if room:  # "7" → "Room 7"; a name the curators wrote in full ("Salle 7") stays as is
        parts.append(room if " " in room.strip() else translate(lang, "Room {room}", room=room))
    return " · ".join(p for p in parts if p)


def suggestion_buttons(box: object, suggestions: tuple[Suggestion, ...], controller: object,
                       font_size: float | None = None) -> None:
    """Fill ``box`` with one button per suggestion (tapping asks it)."""
    box.clear_widgets()  # type: ignore[attr-defined]
    for suggestion in suggestions:
        button = KioskButton(text=suggestion.label)
        if font_size:
            button.font_size = font_size
        button.bind(on_release=lambda _b, s=suggestion: controller.ask(  # type: ignore[attr-defined]
            s.question, s.exhibit_id))
        box.add_widget(button)  # type: ignore[attr-defined]


class AnswerScreen(KioskScreen):
    text = StringProperty("")
    title = StringProperty("")
    meta = StringProperty("")
    asked = StringProperty("")
    source = StringProperty("")
    image = StringProperty("")
    notice = StringProperty("")
    speaking = BooleanProperty(False)
    has_suggestions = BooleanProperty(False)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._answer: Answer | None = None

    def show(self, view: View) -> None:
        answer = view.answer
        if answer is None:
            return
        lang = view.lang
        exhibit = self.controller.pack.exhibit(answer.exhibit_id) if answer.exhibit_id else None
        self.text = captioned(view, get_hex_from_color(self.kiosk.theme.accent))
        self.speaking = view.speaking
        self.notice = translate(lang, Notice(view.notice).message) if view.notice else answer.notice
        if answer is self._answer:
            return
        self._answer = answer
        self.asked = translate(lang, "You asked: “{question}”", question=view.question) \
            if view.question else ""
        self.title = pick(exhibit.title, lang, "en")[0] if exhibit else ""
        self.meta = exhibit_meta(exhibit, lang) if exhibit else ""
        self.image = self.kiosk.image_path(exhibit) if exhibit else ""
        self.source = source_line(answer, exhibit, lang)
        self.has_suggestions = bool(answer.suggestions)
        suggestion_buttons(self.ids.suggestions, answer.suggestions, self.controller)
        self.ids.scroll.scroll_y = 1
