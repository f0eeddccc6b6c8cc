"""The accessibility bar: larger text, high contrast, slower speech (reset with the visit)."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty
from kivy.uix.boxlayout import BoxLayout


class PrefsBar(BoxLayout):
    """Three toggles; their state comes from the view."""

    controller: Any = ObjectProperty(None)
    large_text = BooleanProperty(False)
    high_contrast = BooleanProperty(False)
    slow_speech = BooleanProperty(False)
