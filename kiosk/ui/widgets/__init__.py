"""Widgets shared by the screens (their look is in ``widgets.kv``)."""

from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget


class KioskButton(Button):
    """A big, readable, wrapping touch target."""

    primary = BooleanProperty(False)
    """The main action of the screen (tap to talk): drawn in the talk colour."""
    selected = BooleanProperty(False)
    """A chosen option (the visit's language, a preference that is on)."""


class Body(Label):
    """Text that wraps to its width and is as tall as its lines."""


class Heading(Body):
    pass


class LevelMeter(Widget):
    """The microphone's level, 0-1."""

    level = NumericProperty(0.0)


class ExhibitCard(ButtonBehavior, BoxLayout):
    """A work in the browse grid: image, title, artist."""

    exhibit_id = StringProperty("")
    title = StringProperty("")
    artist = StringProperty("")
    source = StringProperty("")


class KioskScrollView(ScrollView):
    """Kivy's ScrollView without its binding leak: Kivy 2.3.1 binds ``bar_color`` on every
    scroll update and unbinds it once, half a second later, so each answer shown left
    bindings behind (found by the soak, ``bench/soak.py``)."""

    def update_from_scroll(self, *largs: object) -> None:
        self.funbind("bar_color", self._change_bar_color)
        super().update_from_scroll(*largs)
