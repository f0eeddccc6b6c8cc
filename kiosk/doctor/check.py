"""The doctor's vocabulary: the four statuses (and their marks), ``Check`` (one result: what,
status, detail, fix), ``Probe`` (what the checks look at, replaced in parts by tests and the
admin screen), and how a ``KioskError`` or an unexpected exception becomes a failed check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.errors import KioskError
from kiosk.paths import DataDir
from kiosk.ports import Microphone
from kiosk.settings import Settings

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
MARKS = {OK: "✓", WARN: "!", FAIL: "✗", SKIP: "-"}


@dataclass(frozen=True)
class Check:
    """The result of one check."""

    name: str
    """What was checked ("microphone", "model whisper-base", …)."""
    status: str
    """ok, warn, fail or skip."""
    detail: str
    """What was found, in one line."""
    fix: str = ""
    """What to do about it (warn and fail), in one line."""

    def line(self, width: int = 22) -> str:
        fix = f" — {self.fix}" if self.fix and self.status in (WARN, FAIL) else ""
        return f"{MARKS[self.status]} {self.name:<{width}} {self.detail}{fix}"


@dataclass
class Probe:
    """What the checks look at; tests and the admin screen replace parts of it."""

    settings: Settings
    data: DataDir
    quick: bool = False
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    root: Path = Path("/")
    """Where /sys and /proc are (a fake tree in tests)."""
    listen: Callable[[], tuple[Microphone, Any]] | None = None
    """The running kiosk's own microphone (admin screen): used and left open."""
    in_app: bool = False
    """Running inside the kiosk: its own memory counts as available to it."""
    serving: Path | None = None
    """The content the running kiosk was given with ``--content`` (instead of the installed
    version)."""
    found: dict[str, Any] = field(default_factory=dict)
    """What one check leaves for the next (content, answerer, the question asked)."""


def split_fix(message: str) -> tuple[str, str]:
    """A kiosk message "what is wrong — what to do" as (detail, fix)."""
    detail, _, fix = message.partition(" — ")
    return detail, fix


def failed_check(name: str, exc: BaseException) -> Check:
    """A check that raised, as a FAIL line: a kiosk error's own words, else the exception."""
    if isinstance(exc, KioskError):
        return Check(name, FAIL, *split_fix(str(exc)))
    return Check(name, FAIL, f"the check itself failed: {type(exc).__name__}: {exc}",
                 "report this line to the kiosk's maintainers")
