"""`kiosk models list|install|verify`: the catalog as a table with what is installed,
installing one model (fetched or from given files), and re-checking every file's sha256.
"""

from __future__ import annotations

import argparse

from kiosk.commands.common import data_dir


def main(args: argparse.Namespace) -> int:
    from kiosk import models

    data = data_dir(args)
    if args.action == "install":
        models.install(data, args.model_id, args.from_files)
        return 0
    if args.action == "verify":
        status = dict(models.verify(data, full=True))
        for model_id, state in status.items():
            print(f"{model_id}: {state}")
        return 0 if all(s in ("ok", "not installed") for s in status.values()) else 1
    from rich.console import Console
    from rich.table import Table

    from kiosk.engines import describe

    table = Table("id", "role", "engine", "languages", "installed", "licence", box=None)
    table.columns[0].no_wrap = table.columns[4].no_wrap = True
    for d in describe(data):
        role = d.role + (" (streaming)" if d.streaming else "")
        table.add_row(d.id, role, d.engine.split(" (")[0], " ".join(d.languages[:6])
                      + (" …" if len(d.languages) > 6 else ""), d.installed,
                      d.licence.split(";")[0].strip())
    Console(width=160).print(table)
    print(f"models folder: {data.models}")
    return 0
