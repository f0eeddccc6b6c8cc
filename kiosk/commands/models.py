"""`kiosk models list|install|verify`: the catalog as a table with what is installed,
installing one model (fetched or from given files), and re-checking every file's sha256.
"""

from __future__ import annotations

import argparse

from kiosk.cli import _data


def _models(args: argparse.Namespace) -> int:
    from kiosk import models

    data = _data(args)
    if args.action == "install":
        models.install(data, args.model_id, args.from_files)
        return 0
    status = dict(models.verify(data, full=args.action == "verify"))
    if args.action == "verify":
        for model_id, state in status.items():
            print(f"{model_id}: {state}")
        return 0 if all(s in ("ok", "not installed") for s in status.values()) else 1
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "role", "languages", "installed", "licence", box=None)
    table.columns[3].no_wrap = True
    for spec in models.load_catalog().values():
        state = status[spec.id]
        if state == "not installed" and spec.source.get("kind") == "archive":
            state += f": bring {spec.source['archive']}"
        table.add_row(spec.id, spec.role, " ".join(spec.languages[:6])
                      + (" …" if len(spec.languages) > 6 else ""), state, spec.licence)
    Console(width=160).print(table)
    print(f"models folder: {data.models}")
    return 0
