"""The input limits in force: the ``[limits]`` settings, read where each input is checked.

A command puts its settings' limits in force once (``kiosk.commands.common.read_settings``);
until then, and in library use, the defaults hold. Checks read ``current()`` when they run,
so a test may put other limits in force with ``use``.
"""

from __future__ import annotations

from kiosk.settings import LimitSettings

__all__ = ["current", "use"]

_in_force = LimitSettings()


def current() -> LimitSettings:
    """The limits in force."""
    return _in_force


def use(limits: LimitSettings) -> LimitSettings:
    """Put ``limits`` in force; returns the ones it replaces."""
    global _in_force
    before, _in_force = _in_force, limits
    return before
