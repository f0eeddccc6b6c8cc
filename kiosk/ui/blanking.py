"""The screen sleeps outside opening hours: ``[ui] blank_from`` / ``blank_until`` ("HH:MM").

While asleep the app shows a black screen and, where ``vcgencmd`` exists (Raspberry Pi), turns
the display off; a touch wakes it until ``wake_s`` after the last touch. The time logic here is
pure (no Kivy, no clock of its own): the app asks ``Blanker.asleep(now)`` every second.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from kiosk.errors import SettingsError

log = logging.getLogger(__name__)


def parse_hhmm(text: str, name: str) -> time | None:
    """``"19:30"`` → 19:30; ``""`` → None; anything else is a one-line SettingsError."""
    text = text.strip()
    if not text:
        return None
    hours, sep, minutes = text.partition(":")
    if sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2 \
            and int(hours) < 24 and int(minutes) < 60:
        return time(int(hours), int(minutes))
    raise SettingsError(f"[ui] {name} = {text!r} is not a time — write it as \"HH:MM\" "
                        f"(e.g. \"19:00\"), or \"\" for a screen that never sleeps")


@dataclass(frozen=True)
class BlankSchedule:
    """When the screen sleeps each day: from ``start`` until ``end`` (past midnight if
    ``end`` is earlier); no sleep when both are None."""

    start: time | None
    """Time of day the screen goes black (``blank_from``)."""
    end: time | None
    """Time of day it wakes by itself (``blank_until``)."""

    @classmethod
    def parse(cls, blank_from: str, blank_until: str) -> BlankSchedule:
        start, end = parse_hhmm(blank_from, "blank_from"), parse_hhmm(blank_until, "blank_until")
        if (start is None) != (end is None):
            raise SettingsError("[ui] blank_from and blank_until go together — set both "
                                "(e.g. \"19:00\" and \"09:00\") or leave both empty")
        if start is not None and start == end:
            raise SettingsError(f"[ui] blank_from and blank_until are both {blank_from!r} — "
                                "give the hour the museum closes and the hour it opens")
        return cls(start, end)

    @property
    def enabled(self) -> bool:
        return self.start is not None

    def sleeping_at(self, now: datetime) -> bool:
        """Whether ``now`` falls in the sleeping hours."""
        if self.start is None or self.end is None:
            return False
        t = now.time()
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end  # e.g. 19:00 → 09:00 the next morning


class Blanker:
    """Asleep during the schedule, except for ``wake_s`` after the last touch."""

    def __init__(self, schedule: BlankSchedule, wake_s: float) -> None:
        self.schedule = schedule
        self.wake_s = wake_s
        self._awake_until: datetime | None = None

    def touch(self, now: datetime) -> None:
        """A visitor touched the screen: stay awake for ``wake_s`` from now."""
        self._awake_until = now + timedelta(seconds=self.wake_s)

    def asleep(self, now: datetime) -> bool:
        if not self.schedule.sleeping_at(now):
            return False
        return self._awake_until is None or now >= self._awake_until


class DisplayPower:
    """Turns the physical display off and on with ``vcgencmd display_power`` (Raspberry Pi
    firmware), in the background; does nothing where the command does not exist."""

    def __init__(self, command: str | None = None) -> None:
        self.command = command if command is not None else shutil.which("vcgencmd")

    def set(self, on: bool) -> threading.Thread | None:
        if not self.command:
            return None
        thread = threading.Thread(target=self._run, args=(on,), name="display-power",
                                  daemon=True)
        thread.start()
        return thread

    def _run(self, on: bool) -> None:
        args = [self.command or "vcgencmd", "display_power", "1" if on else "0"]
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("display %s: %s failed: %s", "on" if on else "off", args[0], exc)
            return
        if done.returncode != 0:
            log.warning("display %s: %s exited %d: %s", "on" if on else "off", " ".join(args),
                        done.returncode, (done.stderr or done.stdout).strip()[:200])
