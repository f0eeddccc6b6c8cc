"""The app's screens: each a ``<name>.py`` (what it shows from a ``View``) beside a
``<name>.kv`` (its layout). Screens only read the view and call the controller."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import ObjectProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui.controller import View


class KioskScreen(Screen):
    """A screen fed with views; ``controller`` is where its buttons go."""

    controller: Any = ObjectProperty(None)
    """The ``ui.controller.Controller``."""

    def show(self, view: View) -> None:
        """Draw ``view`` (UI thread). Called for every change while the screen is current."""

    @property
    def kiosk(self) -> Any:
        """The running ``KioskApp`` (image paths, texts)."""
        return App.get_running_app()
