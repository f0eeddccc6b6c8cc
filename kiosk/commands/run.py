"""`kiosk run`: the touchscreen app, or with ``--headless`` the voice-only listening loop
(captions in the terminal); ``--size`` is parsed here, everything else is ``kiosk.ui.launch``.
"""

from __future__ import annotations

import argparse

from kiosk.commands import listen
from kiosk.commands.common import data_dir, read_settings
from kiosk.errors import KioskError


def main(args: argparse.Namespace) -> int:
    if args.headless:  # voice only: the listening loop, captions in the terminal, never ends
        from kiosk.systemd import log_to_stderr

        log_to_stderr()
        args.once = args.json = args.no_speak = False
        return listen.main(args)
    from kiosk.ui.launch import run_app

    size = None
    if args.size:
        try:
            width, height = (int(v) for v in args.size.lower().split("x"))
            size = (width, height)
        except ValueError:
            raise KioskError(f"--size {args.size!r} is not WIDTHxHEIGHT, e.g. 800x480") from None
    return run_app(read_settings(args), data_dir(args), args.content, args.windowed, size,
                   args.exit_after)
