"""The Kivy app: wiring only. It builds the screens, hands each new ``View`` from the
controller to the UI thread, ticks the idle clock and opens the admin screen on a long press
in the top-left corner. Every decision is in ``ui.controller``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.content.model import Exhibit
from kiosk.ui import strings
from kiosk.ui.controller import Controller, View
from kiosk.ui.theme import Theme

UI = Path(__file__).parent
KV_FILES = ["widgets/widgets.kv", "screens/prefs.kv", "screens/attract.kv",
            "screens/listening.kv", "screens/answer.kv", "screens/choices.kv",
            "screens/browse.kv", "screens/admin.kv"]
ADMIN_CORNER = 0.08
"""The admin corner: this share of the window's short side, top left."""


class KioskApp(App):
    """The touchscreen kiosk."""

    lang = StringProperty("en")
    """The visit's language (kv rules pass it to ``t`` so texts follow it)."""
    voice = BooleanProperty(True)
    """Whether the kiosk can listen (else touch only)."""

    def __init__(self, controller: Controller, images: Path | None = None,
                 admin: dict[str, Any] | None = None, admin_hold_s: float = 3.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = "Gallery kiosk"
        self.controller = controller
        self.images = images
        self.admin_info = admin or {}
        """What the admin screen shows and does: pin, engines, tests, rollback, exit."""
        self.admin_hold_s = admin_hold_s
        self.theme = Theme()
        self.watch: Callable[[], object] | None = None
        """Called every second: looks for a new content version (``launch``)."""
        self.voice = controller.listen is not None
        self.frames = 0
        """Frames drawn (tests check the UI keeps drawing while a turn runs)."""
        self._latest: View | None = None
        self._scheduled = False
        self._hold: Any = None
        self._clocks: list[Any] = []
        self.on_exit: list[Callable[[], None]] = []
        """Called when the app stops (close the synthesiser, the microphone...)."""

    # -- kv helpers ---------------------------------------------------------------------------
    def t(self, key: str, lang: str) -> str:
        return strings.text(lang, key)

    def image_path(self, exhibit: Exhibit) -> str:
        root = self.controller.root or self.images
        if not exhibit.image or root is None:
            return ""
        path = root / exhibit.image
        return str(path) if path.is_file() else ""

    # -- building ------------------------------------------------------------------------------
    def build(self) -> ScreenManager:
        from kiosk.ui.screens.admin import AdminScreen
        from kiosk.ui.screens.answer import AnswerScreen
        from kiosk.ui.screens.attract import AttractScreen
        from kiosk.ui.screens.browse import BrowseScreen, ExhibitScreen
        from kiosk.ui.screens.choices import ClarifyScreen, UnknownScreen
        from kiosk.ui.screens.listening import ListeningScreen
        from kiosk.ui.screens.prefs import PrefsBar  # noqa: F401 - registers the kv class

        for kv in KV_FILES:
            if not Builder.files or str(UI / kv) not in Builder.files:
                Builder.load_file(str(UI / kv))
        manager = ScreenManager(transition=NoTransition())
        for screen in (AttractScreen, ListeningScreen, AnswerScreen, ClarifyScreen,
                       UnknownScreen, BrowseScreen, ExhibitScreen, AdminScreen):
            manager.add_widget(screen(controller=self.controller))
        self.theme.resize(*Window.size)
        Window.bind(size=self._resized, on_touch_down=self._touched, on_touch_up=self._released)
        Window.clearcolor = self.theme.bg
        self.controller.on_change = self._changed
        self._clocks = [Clock.schedule_interval(self._tick, 1.0),
                        Clock.schedule_interval(self._count_frame, 0)]
        self.root = manager
        self._render(self.controller.view)
        return manager

    def _tick(self, _dt: float) -> None:
        self.controller.tick()  # (returning its bool would stop Kivy's interval on False)
        if self.watch is not None:
            self.watch()

    def _count_frame(self, _dt: float) -> None:
        self.frames += 1

    def _resized(self, _window: Any, size: tuple[int, int]) -> None:
        self.theme.resize(*size)

    def detach(self) -> None:
        """Unhook from the window and the clock (on stop; tests build many apps)."""
        for event in self._clocks:
            event.cancel()
        Window.unbind(size=self._resized, on_touch_down=self._touched,
                      on_touch_up=self._released)
        if self.root is not None and self.root.parent is not None:
            self.root.parent.remove_widget(self.root)

    # -- views from the controller (any thread) → the UI thread ------------------------------
    def _changed(self, view: View) -> None:
        self._latest = view
        if not self._scheduled:
            self._scheduled = True
            Clock.schedule_once(self._apply, 0)

    def _apply(self, _dt: float) -> None:
        self._scheduled = False
        if self._latest is not None:
            self._render(self._latest)

    def _render(self, view: View) -> None:
        self.lang = view.lang
        self.theme.prefer(view.large_text, view.high_contrast)
        Window.clearcolor = self.theme.bg
        manager = self.root
        if manager is None:
            return
        if manager.current != view.screen.value:
            manager.current = view.screen.value
        manager.current_screen.show(view)

    @property
    def screen(self) -> Any:
        """The screen shown now."""
        return self.root.current_screen if self.root else None

    # -- touches: any touch keeps the visit; a long press top-left opens admin ------------------
    def _touched(self, _window: Any, touch: Any) -> bool:
        self.controller.touch()
        corner = min(Window.size) * ADMIN_CORNER
        if touch.x <= corner and touch.y >= Window.height - corner:
            self._hold = Clock.schedule_once(lambda _dt: self.controller.admin(),
                                             self.admin_hold_s)
        return False

    def _released(self, _window: Any, _touch: Any) -> bool:
        if self._hold is not None:
            self._hold.cancel()
            self._hold = None
        return False

    def on_stop(self) -> None:
        self.detach()
        self.controller.close()
        for callback in self.on_exit:
            callback()
