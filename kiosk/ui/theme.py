"""Colours and sizes every screen binds to, recomputed when the window turns or the visitor
asks for larger text or high contrast. Sizes follow the window's short side, so one layout
serves 800×480 to 1920×1080; touch targets never go under 9 mm."""

from __future__ import annotations

from kivy.event import EventDispatcher
from kivy.metrics import mm
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty

NORMAL = {"bg": "#1d1b22", "panel": "#2b2833", "fg": "#f4f1ea", "muted": "#c9c3b8",
          "accent": "#f2b544", "button": "#3d5a80", "button_fg": "#ffffff",
          "talk": "#e07a3f", "notice": "#f2d0a4"}
CONTRAST = {"bg": "#000000", "panel": "#000000", "fg": "#ffffff", "muted": "#ffffff",
            "accent": "#ffff00", "button": "#ffffff", "button_fg": "#000000",
            "talk": "#ffff00", "notice": "#ffff00"}


class Theme(EventDispatcher):
    """The current look; kv rules read ``app.theme.<name>``."""

    bg = ColorProperty(NORMAL["bg"])
    panel = ColorProperty(NORMAL["panel"])
    fg = ColorProperty(NORMAL["fg"])
    muted = ColorProperty(NORMAL["muted"])
    accent = ColorProperty(NORMAL["accent"])
    button = ColorProperty(NORMAL["button"])
    button_fg = ColorProperty(NORMAL["button_fg"])
    talk = ColorProperty(NORMAL["talk"])
    notice = ColorProperty(NORMAL["notice"])
    landscape = BooleanProperty(True)
    """The window is wider than tall."""
    unit = NumericProperty(1.0)
    """Scale of the layout: 1.0 on a 480-pixel short side."""
    text = NumericProperty(1.0)
    """Visitor's text scale (1.0, or larger)."""
    small = NumericProperty(16)
    body = NumericProperty(20)
    heading = NumericProperty(26)
    huge = NumericProperty(34)
    target = NumericProperty(56)
    """Height of a touch target, in pixels (at least 9 mm)."""
    pad = NumericProperty(12)

    def resize(self, width: float, height: float) -> None:
        self.landscape = width >= height
        self.unit = max(0.8, min(width, height) / 480)
        self._sizes()

    def prefer(self, large_text: bool, high_contrast: bool) -> None:
        self.text = 1.3 if large_text else 1.0
        palette = CONTRAST if high_contrast else NORMAL
        for name, colour in palette.items():
            setattr(self, name, colour)
        self._sizes()

    def _sizes(self) -> None:
        scale = self.unit * self.text
        self.small = round(15 * scale)
        self.body = round(19 * scale)
        self.heading = round(24 * scale)
        self.huge = round(31 * scale)
        self.target = max(round(52 * self.unit * min(self.text, 1.15)), round(mm(9)))
        self.pad = round(10 * self.unit)
