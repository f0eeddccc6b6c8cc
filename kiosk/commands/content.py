"""`kiosk content …`: validate and build packs, make signing keys, import a CSV export, and
manage the versions installed on this kiosk (sync, with ``--watch``; rollback; status).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kiosk.commands.common import data_dir, read_settings
from kiosk.errors import KioskError, shown
from kiosk.paths import DataDir
from kiosk.settings import default_settings_path

log = logging.getLogger(__name__)


def _content_sync(args: argparse.Namespace, data: DataDir) -> int:
    import signal
    import threading

    from kiosk.content import keys
    from kiosk.content import sync as versions
    from kiosk.content.unpack import Limits
    from kiosk.content.watch import poll_source
    from kiosk.qa.encoder import identity

    settings = read_settings(args)
    keep = settings.content.keep if args.keep is None else args.keep
    if keep < 0:
        raise KioskError(f"--keep {keep}: give 0 or more old versions to keep")
    if args.interval <= 0:
        raise KioskError(f"--interval {args.interval}: give a number of seconds above 0")
    encoder_id, encoder_sha = identity(settings.models.encoder)
    settings_file = getattr(args, "settings", None) or default_settings_path()
    base = Path(settings_file).parent if settings_file else None  # keys relative to it
    trusted = keys.trusted_keys(settings.content.trusted_keys, base)
    limits = Limits.mb(settings.content.max_file_mb, settings.content.max_total_mb)
    seen: set[str] = set()
    encoders: list[Any] = []

    def probe(staged: Path) -> None:
        """The staged bundle opened as the kiosk will, one question asked (the encoder is
        loaded the first time a bundle gets this far; without it, the records' own checks
        are all a sync can make, and it says so)."""
        from kiosk.errors import ModelError
        from kiosk.qa.encoder import load_encoders
        from kiosk.runtime import probe_content

        if not encoders:
            try:
                encoders.append(load_encoders(data, settings.models.encoder,
                                              settings.models.threads))
            except ModelError as exc:
                encoders.append(None)
                print(f"kiosk: note: the bundle is not tried with the encoder ({exc})",
                      file=sys.stderr, flush=True)
        if encoders[0] is not None:
            probe_content(staged, encoders[0], settings)

    def once() -> None:
        print(versions.sync(data, args.source, encoder_id, encoder_sha, keep,
                            trusted=trusted, limits=limits, report=print, seen=seen,
                            probe=probe), flush=True)
        current = versions.current_version(data)
        if current:
            seen.add(current)

    if not args.watch:
        once()
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def step() -> None:
        try:
            once()
        except KioskError as exc:
            print(f"kiosk: {exc}", file=sys.stderr, flush=True)
        except Exception as exc:  # noqa: BLE001 — the watch outlives anything a bundle holds
            log.exception("sync of %s failed", args.source)
            print(f"kiosk: sync of {shown(args.source)} failed ({type(exc).__name__}: "
                  f"{shown(exc)[:160]}) — still watching; see the log", file=sys.stderr,
                  flush=True)

    print(f"watching {shown(args.source)} every {args.interval:g} s (Ctrl-C to stop)", flush=True)
    try:
        poll_source(args.source, step, args.interval, stop)
    except KeyboardInterrupt:
        pass
    print("stopped watching", flush=True)
    return 0


def _content_versions(args: argparse.Namespace) -> int:
    from kiosk.content import sync as versions

    data = data_dir(args)
    if args.action == "sync":
        return _content_sync(args, data)
    if args.action == "rollback":
        print(versions.rollback(data))
        return 0
    installed = versions.list_versions(data)
    if args.json:
        print(json.dumps({"folder": str(data.versions), "current": versions.current_version(data),
                          "previous": versions.previous_version(data), "versions": [
                              {**asdict(v), "path": str(v.path),
                               "installed": v.installed.strftime("%Y-%m-%dT%H:%M:%SZ")}
                              for v in installed]}, ensure_ascii=False, indent=2))
        return 0
    if not installed:
        print(f"no content installed in {data.versions} — install a bundle with "
              "`kiosk content sync SRC`")
        return 0
    for v in installed:
        role = "current" if v.current else "previous" if v.previous else "kept"
        built = v.built[:16].replace("T", " ")
        print(f"{role + ':':<10}{v.id[:12]}  {v.museum}, {v.exhibits} exhibits — built "
              f"{built} UTC, installed {v.installed:%Y-%m-%d %H:%M} UTC")
        if v.source:
            signed = f", signed by key {v.signed_by}" if v.signed_by else ", not signed"
            synced = shown(v.synced[:16]).replace("T", " ")
            print(f"{'':<10}from {shown(v.source)} (synced {synced} UTC{signed})")
    if versions.current_version(data) is None:
        print("no current version — `kiosk content sync SRC` to install one")
    print(f"folder: {data.versions}")
    return 0


def _content_build(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    from rich.progress import Progress

    from kiosk.content.bundle import build
    from kiosk.content.unpack import write_archive
    from kiosk.qa.encoder import load_encoders
    from kiosk.qa.vector_cache import VectorCache

    settings = read_settings(args)
    data = data_dir(args)
    # a build waits for nobody: every core (the kiosk's own setting leaves one for the UI)
    encoder = load_encoders(data, settings.models.encoder,
                            max(settings.models.threads, os.cpu_count() or 1))
    start = time.perf_counter()
    out = args.output
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".kiosk-build-", dir=out.parent)) if args.archive \
        else None
    try:
        with Progress(transient=True) as bar:
            task = bar.add_task("encoding", total=None)
            manifest = build(args.pack, tmp / "bundle" if tmp else out, encoder,
                             lambda done, total: bar.update(task, completed=done, total=total),
                             sign=args.sign, cache=VectorCache(data.vector_cache))
        if tmp is not None:
            out = write_archive(tmp / "bundle", out)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    counts = manifest["counts"]
    signed = " signed," if args.sign else ""
    print(f"built {shown(out)}: bundle {manifest['id'][:12]} —{signed} {counts['exhibits']} "
          f"exhibits, {counts['faq']} FAQ entries, {counts['texts']} texts, "
          f"{len(manifest['files'])} files, {time.perf_counter() - start:.1f} s")
    return 0


def main(args: argparse.Namespace) -> int:
    from kiosk.content.loader import load_pack

    if args.action in ("sync", "rollback", "status"):
        return _content_versions(args)
    if args.action == "import-csv":
        from kiosk.content.importer import run_import

        return run_import(args.export, args.map, args.output)
    if args.action == "validate":
        pack, issues = load_pack(args.pack)
        for issue in issues:
            print(f"{shown(args.pack)}/{issue}")
        errors = sum(i.error for i in issues)
        warnings = len(issues) - errors
        if pack is not None:
            print(f"{shown(args.pack)}: valid — {len(pack.exhibits)} exhibits, {len(pack.faq)} FAQ "
                  f"entries, languages {', '.join(pack.museum.languages)}"
                  + (f" ({_count(warnings, 'warning')})" if warnings else ""))
            return 0
        print(f"{shown(args.pack)}: {_count(errors, 'error')}, {_count(warnings, 'warning')} — fix "
              "the errors above and run this again")
        return 1
    if args.action == "keygen":
        from kiosk.content.keys import generate

        private, public, kid = generate(args.output)
        print(f"key {kid}: private {private} (keep it secret, on the curators' machine), "
              f"public {public} (list it in [content] trusted_keys on every kiosk)")
        return 0
    return _content_build(args)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
