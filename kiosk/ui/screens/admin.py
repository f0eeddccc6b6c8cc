"""Admin: PIN first; then microphone and speaker tests, content version and rollback, the
health check (the doctor's quick checks), engines and models, recent errors, and exit (the
only way out of the kiosk).

What it does comes from ``app.admin_info`` (built by ``ui.admin``); the tests and the
rollback run on threads and report back through ``mainthread``. Leaving the screen locks it
again and stops a running microphone test. The technician's screen is in English.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable
from typing import Any

from kivy.clock import mainthread
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.utils import escape_markup, get_hex_from_color

from kiosk.doctor import MARKS, summary
from kiosk.errors import KioskError
from kiosk.ui.admin import AdminActions, error_lines
from kiosk.ui.controller import View
from kiosk.ui.screens import KioskScreen
from kiosk.ui.widgets import Body, KioskButton

log = logging.getLogger(__name__)

MAX_TRIES = 3
"""Wrong PINs in a row before the screen goes back to the visitors."""
KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "Clear", "0", "OK"]


def _problem(exc: BaseException) -> str:
    """One calm line for a failed action."""
    return str(exc) if isinstance(exc, KioskError) else f"{type(exc).__name__}: {exc}"


class AdminScreen(KioskScreen):
    unlocked = BooleanProperty(False)
    masked = StringProperty("")
    """The PIN typed so far, as dots."""
    pin_message = StringProperty("")
    content = StringProperty("")
    level = NumericProperty(0.0)
    mic_running = BooleanProperty(False)
    mic_message = StringProperty("")
    speaker_running = BooleanProperty(False)
    speaker_message = StringProperty("")
    rollback_running = BooleanProperty(False)
    rollback_message = StringProperty("")
    health_running = BooleanProperty(False)
    health_message = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._entry = ""
        self._wrong = 0
        self._mic_stop: threading.Event | None = None
        self._errors_shown: tuple[tuple[float, str], ...] | None = None
        for key in KEYS:
            button = KioskButton(text=key, primary=key == "OK")
            button.size_hint_y = 1
            button.bind(on_release=lambda _b, key=key: self.key(key))
            self.ids.keypad.add_widget(button)

    def on_unlocked(self, _screen: object, unlocked: bool) -> None:
        self.ids.pages.current = "panel" if unlocked else "pin"

    @property
    def info(self) -> AdminActions:
        return self.kiosk.admin_info if self.kiosk is not None else AdminActions()

    # -- the view ----------------------------------------------------------------------------
    def show(self, view: View) -> None:
        self.content = view.content or "unknown"
        if self.unlocked:
            self._show_errors()

    # -- the PIN -----------------------------------------------------------------------------
    def key(self, key: str) -> None:
        """A key of the PIN pad."""
        self.controller.touch()
        if key == "Clear":
            self._type("")
        elif key == "OK":
            self._check()
        elif len(self._entry) < 12:
            self._type(self._entry + key)

    def _type(self, entry: str) -> None:
        self._entry = entry
        self.masked = "•" * len(entry)

    def _check(self) -> None:
        pin = self.info.pin
        if not pin:
            self.pin_message = "No admin PIN is set — set ui.admin_pin in the settings."
            self._type("")
            return
        if hmac.compare_digest(self._entry.encode(), pin.encode()):
            self._type("")
            self._wrong = 0
            self.pin_message = ""
            self._unlock()
            return
        self._wrong += 1
        self._type("")
        if self._wrong >= MAX_TRIES:
            self.controller.home()
            return
        left = MAX_TRIES - self._wrong
        self.pin_message = f"Wrong PIN — {left} {'try' if left == 1 else 'tries'} left."

    def cancel(self) -> None:
        self.controller.home()

    def _unlock(self) -> None:
        self.unlocked = True
        self._build_engines()
        self._errors_shown = None
        self._show_errors()
        self.ids.scroll.scroll_y = 1

    def on_leave(self, *args: Any) -> None:
        """Lock again; stop a running microphone test."""
        self.stop_mic()
        self.unlocked = False
        self._wrong = 0
        self._type("")
        self.pin_message = ""
        self.mic_message = self.speaker_message = self.rollback_message = ""
        self.health_message = ""
        self.ids.health.clear_widgets()

    # -- panel: what it lists ----------------------------------------------------------------
    def _build_engines(self) -> None:
        table = self.ids.engines
        table.clear_widgets()
        rows = self.info.engines or [("Engines", "not known to this kiosk")]
        muted = get_hex_from_color(self.kiosk.theme.muted)
        for role, description in rows:
            table.add_widget(Body(text=f"[b][color={muted}]{escape_markup(role)}[/color][/b]\n"
                                  f"{escape_markup(description)}",
                                  font_size=self.kiosk.theme.small))

    def _show_errors(self) -> None:
        errors = tuple(self.controller.errors)
        if errors == self._errors_shown:
            return
        self._errors_shown = errors
        box = self.ids.errors
        box.clear_widgets()
        muted = get_hex_from_color(self.kiosk.theme.muted)
        lines = error_lines(errors)
        for when, message in lines:
            box.add_widget(Body(text=f"[color={muted}]{when}[/color]  {escape_markup(message)}",
                                font_size=self.kiosk.theme.small))
        if not lines:
            box.add_widget(Body(text="No errors since the kiosk started.",
                                font_size=self.kiosk.theme.small))

    # -- panel: what it does -------------------------------------------------------------------
    def toggle_mic(self) -> None:
        self.controller.touch()
        if self.mic_running:
            self.stop_mic()
            return
        test = self.info.mic_test
        if test is None:
            self.mic_message = "This kiosk has no microphone test."
            return
        stop = threading.Event()
        self._mic_stop = stop
        self.mic_running = True
        self.mic_message = "Speak near the microphone: the bar follows the sound."

        def report(value: float) -> None:  # the test's thread → the UI thread
            if not stop.is_set():
                mainthread(self._level)(stop, value)

        self._thread(lambda: test(report, stop), lambda error: self._mic_done(stop, error))

    def stop_mic(self) -> None:
        if self._mic_stop is not None:
            self._mic_stop.set()
            self._mic_stop = None
        self.mic_running = False
        self.level = 0.0

    def _level(self, stop: threading.Event, value: float) -> None:
        if stop is self._mic_stop and not stop.is_set():
            self.level = value

    def _mic_done(self, stop: threading.Event, error: str) -> None:
        if stop is not self._mic_stop:
            return  # stopped, or a newer test runs
        self._mic_stop = None
        self.mic_running = False
        self.level = 0.0
        self.mic_message = f"Microphone: {error}" if error else "The microphone stopped."

    def test_speaker(self) -> None:
        self.controller.touch()
        test = self.info.speaker_test
        if test is None:
            self.speaker_message = "This kiosk has no speaker test."
            return
        self.speaker_running = True
        self.speaker_message = "Saying a short sentence…"
        self._thread(test, self._speaker_done)

    def _speaker_done(self, error: str) -> None:
        self.speaker_running = False
        self.speaker_message = f"Speakers: {error}" if error else \
            "Done — you should have heard a short sentence."

    def rollback(self) -> None:
        self.controller.touch()
        action = self.info.rollback
        if action is None:
            self.rollback_message = "This kiosk cannot roll back content."
            return
        self.rollback_running = True
        self.rollback_message = "Rolling back…"
        result: list[str] = []
        self._thread(lambda: result.append(str(action())),
                     lambda error: self._rollback_done(error or (result or [""])[0], error))

    def _rollback_done(self, message: str, error: str) -> None:
        self.rollback_running = False
        self.rollback_message = f"Rollback failed: {message}" if error else message

    def check_health(self) -> None:
        """The doctor's quick checks on a thread; one line per check, then the verdict."""
        self.controller.touch()
        action = self.info.doctor
        if action is None:
            self.health_message = "This kiosk has no health check."
            return
        self.health_running = True
        self.health_message = "Checking…"
        self.ids.health.clear_widgets()
        result: list[Any] = []
        self._thread(lambda: result.extend(action()),
                     lambda error: self._health_done(result, error))

    def _health_done(self, checks: list[Any], error: str) -> None:
        self.health_running = False
        if error:
            self.health_message = f"Health check failed: {error}"
            return
        theme = self.kiosk.theme
        colours = {"ok": theme.fg, "warn": theme.notice, "fail": theme.talk, "skip": theme.muted}
        box = self.ids.health
        for check in checks:
            colour = get_hex_from_color(colours.get(check.status, theme.fg))
            fix = f" — {check.fix}" if check.fix and check.status in ("warn", "fail") else ""
            box.add_widget(Body(
                text=f"[font=DejaVuSans][color={colour}]{MARKS.get(check.status, '?')}[/color]"
                     f"[/font]  [b]{escape_markup(check.name)}[/b]: "
                     f"{escape_markup(check.detail + fix)}",
                font_size=theme.small))
        self.health_message = summary(checks).capitalize() + "."

    def exit(self) -> None:
        action = self.info.exit
        if action is not None:
            action()

    def _thread(self, work: Callable[[], object], done: Callable[[str], None]) -> None:
        """Run ``work`` off the UI thread; ``done(error or "")`` back on it."""

        def run() -> None:
            error = ""
            try:
                work()
            except Exception as exc:  # shown calmly on the screen  # noqa: BLE001
                if not isinstance(exc, KioskError):
                    log.exception("admin action failed")
                error = _problem(exc)
            mainthread(done)(error)

        threading.Thread(target=run, name="kiosk-admin", daemon=True).start()
