"""Where the kiosk keeps what it installs: one data directory.

Chosen by ``--data-dir`` on any command, else ``KIOSK_DATA_DIR``, else ``/var/lib/kiosk`` when
running as the system service (``KIOSK_SYSTEM=1`` or that directory is writable by us), else the
user's data directory (``$XDG_DATA_HOME/kiosk`` or ``~/.local/share/kiosk``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SYSTEM_DATA_DIR = Path("/var/lib/kiosk")


def resolve_data_dir(explicit: str | Path | None = None) -> Path:
    """The data directory, by the rule in this module's docstring."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("KIOSK_DATA_DIR")
    if env:
        return Path(env).expanduser()
    if os.environ.get("KIOSK_SYSTEM") == "1":
        return SYSTEM_DATA_DIR
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "kiosk"


@dataclass(frozen=True)
class DataDir:
    """The layout inside the data directory."""

    root: Path
    """The data directory itself."""

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def versions(self) -> Path:
        return self.root / "versions"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def vector_cache(self) -> Path:
        """The vectors of content texts already encoded (``kiosk.qa.vector_cache``)."""
        return self.root / "cache" / "vectors.sqlite"

    def model_dir(self, model_id: str) -> Path:
        return self.models / model_id
