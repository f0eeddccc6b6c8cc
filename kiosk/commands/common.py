"""What every verb reads from its command line: the settings and the data directory."""

from __future__ import annotations

import argparse

from kiosk import limits
from kiosk.paths import DataDir, resolve_data_dir
from kiosk.settings import Settings, default_settings_path, load_settings

__all__ = ["data_dir", "read_settings"]


def read_settings(args: argparse.Namespace) -> Settings:
    """The settings file (``--settings``, else the default) with the ``--set`` overrides."""
    path = getattr(args, "settings", None) or default_settings_path()
    settings = load_settings(path, getattr(args, "set", None))
    limits.use(settings.limits)
    return settings


def data_dir(args: argparse.Namespace) -> DataDir:
    """The data directory (``--data-dir``, else ``$KIOSK_DATA_DIR``, else the default)."""
    return DataDir(resolve_data_dir(getattr(args, "data_dir", None)))
