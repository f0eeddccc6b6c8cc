"""Widgets shared by the screens (their look is in ``widgets.kv``)."""

from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.image import Image
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


class Picture(Image):
    """A work's image, decoded off the UI thread no larger than ``max_side`` pixels (0: the
    window's longest side) by the app's ``pictures`` (``kiosk.ui.pictures``)."""

    path = StringProperty("")
    max_side = NumericProperty(0)

    def __init__(self, **kwargs: object) -> None:
        from kivy.clock import Clock

        self._trigger = Clock.create_trigger(self._request)  # once for path and size
        super().__init__(**kwargs)
        self.fbind("path", self._trigger)
        self.fbind("max_side", self._trigger)
        self._trigger()

    def _request(self, *_args: object) -> None:
        from kivy.app import App
        from kivy.core.window import Window

        path = self.path
        app = App.get_running_app()
        if not path or app is None:
            self.texture = None
            return
        side = int(self.max_side or max(Window.size))
        self.texture = app.pictures.get(path, side, lambda texture: self._arrived(path, texture))

    def _arrived(self, path: str, texture: object) -> None:
        if path == self.path:
            self.texture = texture


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
