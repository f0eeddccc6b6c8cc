"""The real app in an offscreen window, driven by simulated touches: for tests, screenshots
and the soak bench. Import this module before anything imports Kivy."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_LOG_MODE", "MIXED")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kiosk-kivy-"))

from kivy.config import Config  # noqa: E402

# (The offscreen drawing surface keeps the size the window opened with, so screenshots draw
# the app into a buffer of its own: see ``OffscreenKiosk.screenshot``. A small first window
# keeps every frame cheap.)
Config.set("graphics", "width", "800")
Config.set("graphics", "height", "480")
Config.set("kivy", "exit_on_escape", "0")

from kivy.base import EventLoop  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.tests.common import UnitTestTouch  # noqa: E402
from kivy.uix.widget import Widget  # noqa: E402

from kiosk.ui.admin import AdminActions  # noqa: E402
from kiosk.ui.app import KioskApp  # noqa: E402
from kiosk.ui.controller import Controller, Screen  # noqa: E402


class OffscreenKiosk:
    """One ``KioskApp`` shown in the offscreen window."""

    def __init__(self, controller: Controller, images: Path | None = None,
                 size: tuple[int, int] = (800, 480), admin: AdminActions | None = None,
                 admin_hold_s: float = 3.0) -> None:
        self.resize(*size)
        _forget_app()  # (whatever app an earlier kiosk of this process left behind)
        self.app = KioskApp(controller, images=images, admin=admin, admin_hold_s=admin_hold_s)
        self.controller = controller
        self.app._run_prepare()
        self.frames(3)
        self.settle()  # the first screen as the visitor will see it (a loaded machine is slow)

    # -- time passes in frames -----------------------------------------------------------
    def frames(self, count: int = 1) -> None:
        for _ in range(count):
            EventLoop.idle()

    def linger(self, seconds: float) -> None:
        """Frames for ``seconds`` of real time, as the running app draws them (animations
        move on, clock events come due)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            EventLoop.idle()
            time.sleep(0.005)

    def wait(self, condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
        """Draw frames until ``condition`` holds (AssertionError after ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"still waiting after {timeout_s} s; screen "
                                     f"{self.screen.name!r}, view {self.controller.view}")
            EventLoop.idle()
            time.sleep(0.005)
        self.frames(2)

    def wait_screen(self, screen: Screen, timeout_s: float = 20.0) -> None:
        self.wait(lambda: self.screen.name == screen.value and not self.controller.busy
                  and self.controller.view.screen is screen, timeout_s)

    def settle(self, timeout_s: float = 20.0) -> None:
        """Until no turn runs, the view on screen is the newest and its pictures are in."""
        def settled() -> bool:
            return (not self.controller.busy and not self.app._scheduled
                    and not self.app.pictures.pending
                    and self.screen.name == self.controller.view.screen.value)
        for _ in range(3):  # a picture asked for in the frames drawn after is waited for too
            self.wait(settled, timeout_s)
            if settled():
                return

    # -- what is on screen -----------------------------------------------------------------
    @property
    def screen(self) -> Any:
        return self.app.screen

    def ids(self, name: str) -> Any:
        return self.screen.ids[name]

    def texts(self) -> list[str]:
        """Every visible label's text on the current screen (buttons included)."""
        out: list[str] = []
        for widget in self.screen.walk():
            text = getattr(widget, "text", None)
            if isinstance(text, str) and text and _visible(widget):
                out.append(text)
        return out

    def buttons(self, text: str) -> list[Any]:
        from kivy.uix.button import Button

        return [w for w in self.screen.walk() if isinstance(w, Button) and w.text == text
                and _visible(w)]

    # -- touches ---------------------------------------------------------------------------
    def tap(self, widget: Widget | str) -> None:
        """Touch down and up at the widget's centre, as a finger would."""
        if isinstance(widget, str):
            found = self.buttons(widget)
            if not found:
                raise AssertionError(f"no button {widget!r} on {self.screen.name}: "
                                     f"{self.texts()}")
            widget = found[0]
        self._scroll_into_view(widget)
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.frames(1)
        touch.touch_up()
        self.frames(2)

    def _scroll_into_view(self, widget: Widget) -> None:
        """As a visitor would: scroll the list the widget is in until it shows."""
        from kivy.uix.scrollview import ScrollView

        node = widget.parent
        while node is not None and node is not node.parent:
            if isinstance(node, ScrollView):
                break
            node = node.parent
        else:
            return
        for _ in range(10):  # a list still laying itself out moves under the scroll
            node.scroll_to(widget, padding=10, animate=False)
            self.frames(3)
            x, y = widget.to_window(*widget.center)
            left, bottom = node.to_window(node.x, node.y)
            if left <= x <= left + node.width and bottom <= y <= bottom + node.height:
                return
        raise AssertionError(f"{widget!r} does not scroll into view on {self.screen.name}")

    def press(self, x: float, y: float, hold_s: float) -> None:
        """A long press at window coordinates."""
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.linger(hold_s)
        touch.touch_up()
        self.frames(2)

    # -- window ------------------------------------------------------------------------------
    def resize(self, width: int, height: int) -> None:
        Window.size = (width, height)
        self.frames(2) if hasattr(self, "app") else None

    def screenshot(self, path: Path) -> Path:
        """A PNG of the window as it is now."""
        self.frames(3)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.app.root.export_to_png(str(path))  # any window size (see the note at the top)
        return path

    def close(self) -> None:
        self.app.dispatch("on_stop")
        self.frames(1)
        _forget_app()


def _forget_app() -> None:
    """Let the next app built in this process be the one kv rules see. Kivy's kv ``app`` is a
    proxy that keeps the first app it was asked for and lets go at that app's ``on_stop``; a
    rule evaluated during the frame after ``on_stop`` would catch the old app again, for good,
    and the next app's texts would follow the old app's language (a test flake under load)."""
    from kivy.app import App
    from kivy.lang.parser import global_idmap

    App._running_app = None
    object.__setattr__(global_idmap["app"], "_obj", None)


def _visible(widget: Any) -> bool:
    node = widget
    while node is not None:
        if getattr(node, "opacity", 1) == 0 or getattr(node, "disabled", False) and \
                node is widget:
            return False
        parent = node.parent
        if parent is node:
            break
        node = parent
    return bool(widget.width > 1 and widget.height > 1)
