"""The Kivy app: wiring only. It builds the screens, hands each new ``View`` from the
controller to the UI thread, ticks the idle clock and opens the admin screen on a long press
in the top-left corner. Every decision is in ``ui.controller``.

It is also what systemd watches (``kiosk.systemd``): READY once the first frame is drawn,
WATCHDOG pings from its own clock (a frozen loop stops them), STOPPING on exit. Outside opening
hours it shows black (``ui.blanking``) until a touch. Kivy's F1 settings panel never opens."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.graphics import Color, Rectangle
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager
from kivy.uix.widget import Widget

from kiosk.content.model import Exhibit
from kiosk.i18n import translate
from kiosk.systemd import Notifier
from kiosk.ui.admin import AdminActions
from kiosk.ui.blanking import Blanker, DisplayPower
from kiosk.ui.controller import Controller, View
from kiosk.ui.pictures import Pictures
from kiosk.ui.theme import Theme

UI = Path(__file__).parent
KV_FILES = ["widgets/widgets.kv", "screens/prefs.kv", "screens/attract.kv",
            "screens/listening.kv", "screens/answer.kv", "screens/choices.kv",
            "screens/browse.kv", "screens/admin.kv"]
ADMIN_CORNER = 0.08
"""The admin corner: this share of the window's short side, top left."""

log = logging.getLogger(__name__)


class KioskApp(App):
    """The touchscreen kiosk."""

    lang = StringProperty("en")
    """The visit's language (kv rules pass it to ``t`` so texts follow it)."""
    voice = BooleanProperty(True)
    """Whether the kiosk can listen (else touch only)."""
    use_kivy_settings = False

    def __init__(self, controller: Controller, images: Path | None = None,
                 admin: AdminActions | None = None, admin_hold_s: float = 3.0,
                 notifier: Notifier | None = None, image_cache_mb: float = 64.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = "Gallery kiosk"
        self.controller = controller
        self.images = images
        self.pictures = Pictures(budget_mb=image_cache_mb)
        """The works' images, decoded off this thread at the size they are shown."""
        self.admin_info = admin or AdminActions()
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
        self.notifier = notifier
        """Tells systemd: ready, alive (watchdog), stopping (``launch``); None: nobody."""
        self.ready_status = "ready"
        """The status systemd shows once the first frame is drawn."""
        self.blanker: Blanker | None = None
        """Sleeping hours (``[ui] blank_from``/``blank_until``); None: never sleeps."""
        self.display_power: DisplayPower | None = None
        self.asleep = False
        """Whether the screen is black now (outside opening hours)."""
        self._overlay: Widget | None = None
        self._stopped = False

    # -- kv helpers ---------------------------------------------------------------------------
    def t(self, message: str, lang: str) -> str:
        """``message`` (English, the catalogs' id) in ``lang``: kv rules call it."""
        return translate(lang, message)

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
        Window.bind(on_flip=self._first_frame)
        if self.notifier is not None and self.notifier.watchdog_s:  # only while the loop runs
            self._clocks.append(Clock.schedule_interval(self._ping, self.notifier.watchdog_s))
        self.root = manager
        self._render(self.controller.view)
        return manager

    def _tick(self, _dt: float) -> None:
        self.controller.tick()  # (returning its bool would stop Kivy's interval on False)
        if self.watch is not None:
            self.watch()
        if self.blanker is not None:
            self._sleep(self.blanker.asleep(datetime.now()))

    def _count_frame(self, _dt: float) -> None:
        self.frames += 1

    def _resized(self, _window: Any, size: tuple[int, int]) -> None:
        self.theme.resize(*size)

    # -- systemd: ready after the first frame, pings from this loop, stopping on exit ---------
    def _first_frame(self, *_args: Any) -> None:
        Window.unbind(on_flip=self._first_frame)
        log.info("ready: %s", self.ready_status)
        if self.notifier is not None:
            self.notifier.ready(self.ready_status)

    def _ping(self, _dt: float) -> None:
        if self.notifier is not None:
            self.notifier.watchdog()

    def open_settings(self, *_args: Any) -> bool:
        """Never: Kivy's settings panel (F1) is no way into a kiosk."""
        return False

    # -- sleeping hours: black, the display off, until a touch -------------------------------
    def _sleep(self, asleep: bool) -> None:
        if asleep == self.asleep:
            return
        self.asleep = asleep
        log.info("screen %s", "asleep (outside opening hours)" if asleep else "awake")
        if self.notifier is not None:
            self.notifier.status("asleep (outside opening hours)" if asleep
                                 else self.ready_status)
        if self.display_power is not None:
            self.display_power.set(on=not asleep)
        if asleep and self._overlay is None:
            self._overlay = overlay = Widget()
            with overlay.canvas:
                Color(0, 0, 0, 1)
                black = Rectangle(size=Window.size)
            overlay.bind(size=lambda _w, size: setattr(black, "size", size))
            Window.add_widget(overlay)
        elif not asleep and self._overlay is not None:
            Window.remove_widget(self._overlay)
            self._overlay = None

    def detach(self) -> None:
        """Unhook from the window and the clock (on stop; tests build many apps)."""
        for event in self._clocks:
            event.cancel()
        Window.unbind(size=self._resized, on_touch_down=self._touched,
                      on_touch_up=self._released, on_flip=self._first_frame)
        if self._overlay is not None:
            Window.remove_widget(self._overlay)
            self._overlay = None
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
        if self.blanker is not None:
            self.blanker.touch(datetime.now())
            if self.asleep:  # this touch only wakes the screen
                self._sleep(False)
                self.controller.touch()
                return True
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
        if self._stopped:  # Kivy dispatches on_stop twice after App.stop()
            return
        self._stopped = True
        if self.notifier is not None:
            self.notifier.stopping("stopping")
            self.notifier.close()
        self.detach()
        self.controller.close()
        self.pictures.close()
        for callback in self.on_exit:
            callback()
