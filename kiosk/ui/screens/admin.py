"""Admin: PIN first; then microphone and speaker tests, engines and models, content version
and rollback, recent errors, and exit (the only way out of the kiosk)."""

from __future__ import annotations

from kiosk.ui.controller import View
from kiosk.ui.screens import KioskScreen


class AdminScreen(KioskScreen):
    def show(self, view: View) -> None:
        pass
