"""`kiosk ask`: typed questions (one, or an interactive prompt) and spoken ones from a WAV
file, answered as the kiosk would; also how an answer is shown in a terminal (``show_answer``, with
its source line and follow-up questions) or as JSON (``answer_json``), shared with ``listen``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.commands.common import data_dir, read_settings
from kiosk.content.model import Pack, pick
from kiosk.errors import KioskError
from kiosk.events import Answer, AnswerKind
from kiosk.i18n import translate
from kiosk.settings import Settings

if TYPE_CHECKING:
    from kiosk.assembly import Kiosk
    from kiosk.session import Session


def answer_json(question: str, lang: str, answer: Answer, ms: float) -> dict[str, Any]:
    return {
        "question": question, "lang": lang, "kind": str(answer.kind),
        "got": answer.source.ref if answer.kind is AnswerKind.ANSWER else None,
        "text": answer.text, "answer_lang": answer.lang, "notice": answer.notice,
        "source": {**asdict(answer.source), "kind": str(answer.source.kind)},
        "confidence": answer.confidence, "out_of_scope": answer.out_of_scope,
        "suggestions": [asdict(s) for s in answer.suggestions], "latency_ms": round(ms, 2),
    }


def show_answer(answer: Answer, pack: Pack) -> None:
    if answer.notice:
        print(answer.notice)
    print(answer.text)
    src = answer.source
    if answer.kind is AnswerKind.ANSWER:
        exhibit = pack.exhibit(src.exhibit_id) if src.exhibit_id else None
        if exhibit is not None:
            title, _ = pick(exhibit.title, answer.lang, pack.museum.default_language)
            where = translate(answer.lang, "from the museum's notes on “{title}”", title=title)
        else:
            where = translate(answer.lang, "visitor information ({faq})", faq=src.faq_id)
        print(f"  — {where}, {src.detail} · {answer.confidence:.2f}")
    if answer.suggestions and answer.kind is AnswerKind.ANSWER:
        print("  " + translate(answer.lang, "You could ask:"))
    for s in answer.suggestions:
        print(f"    • {s.label}")


def _explain(answerer: Any, question: str, lang: str, about: str | None) -> None:
    from kiosk.events import Question
    from kiosk.qa.sources import WEIGHT_NAME

    ev = answerer.explain(Question(question, lang), about)
    a = ev.analysis
    named = {k: round(v, 2) for k, v in a.mentions.titles.items() if v >= 0.3}
    print(f"[explain] names: {named} artists: {sorted(a.mentions.artists)} "
          f"works it may be about: {sorted(a.subjects)}")
    intents = a.intents[0]
    print("[explain] intents: " + ", ".join(f"{k} {v:.2f}" for k, v in
                                         sorted(intents.items(), key=lambda kv: -kv[1])[:5]))
    order = sorted(range(len(ev.candidates)), key=lambda i: -ev.probabilities[i])
    print(f"[explain] decision: {ev.decision.action} (none of them: {ev.none:.3f})")
    for i in order[:8]:
        c = ev.candidates[i]
        print(f"[explain]   {ev.probabilities[i]:.3f} {WEIGHT_NAME[c.kind]:<8} {c.ref} {c.item}")


def typed(text: str) -> str:
    """A question from the command line, refused in one line when it is not UTF-8 (Python
    keeps such bytes as lone surrogates, which nothing can print or encode)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        byte = text[exc.start].encode("utf-8", "surrogateescape")
        raise KioskError(f"the question is not UTF-8 text (byte 0x{byte.hex()} at character "
                         f"{exc.start + 1}) — set the terminal to UTF-8 (e.g. LANG=C.UTF-8) "
                         "and type it again") from None
    return text


def _say(settings: Settings, answer: Answer, out: Path) -> None:
    """Speak the answer (notice and text) into a WAV file."""
    from kiosk.assembly import synthesizer
    from kiosk.audio.wav import write_wav

    synth = synthesizer(settings)
    try:
        text = f"{answer.notice} {answer.text}".strip()
        write_wav(out, synth.synthesize(text, answer.lang))
    finally:
        synth.close()


def _ask_audio(args: argparse.Namespace, kiosk: Kiosk, session: Session) -> int:
    from kiosk.asr.vocabulary import phrases
    from kiosk.audio.wav import read_wav

    settings, content, asr = kiosk.settings, kiosk.content, kiosk.settings.asr
    start = time.perf_counter()
    audio = read_wav(args.audio)
    read_ms = round((time.perf_counter() - start) * 1000, 2)
    if args.about:
        session.current_exhibit = args.about
    hotwords = tuple(phrases(content.pack, asr.whisper_hotwords)) if asr.whisper_hotwords else ()
    pipeline = kiosk.pipeline(session, detect_language=asr.detect_language and not args.lang,
                              hotwords=hotwords)
    transcript, answer, timings = pipeline.ask_audio(audio, args.lang)
    timings = {"read": read_ms, **timings}
    if args.say:
        start = time.perf_counter()
        _say(settings, answer, args.say)
        timings["speech"] = round((time.perf_counter() - start) * 1000, 2)
    if args.json:
        out = answer_json(transcript.text, transcript.lang, answer, timings["answer"])
        out.update(transcript=transcript.text, detected_language=transcript.lang,
                   language_probability=round(transcript.language_probability, 3),
                   audio_s=round(transcript.audio_s, 2), timings_ms=timings)
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(f"« {transcript.text} » ({transcript.lang}, {transcript.audio_s:.1f} s of audio; "
              + ", ".join(f"{k} {v:.0f} ms" for k, v in timings.items()) + ")")
        show_answer(answer, content.pack)
    return 0


def main(args: argparse.Namespace) -> int:
    """Curators testing questions: nothing asked here goes to the insights log."""
    from kiosk.assembly import assemble

    if args.question:
        args.question = typed(args.question)
    settings = read_settings(args)
    kiosk = assemble(settings, data_dir(args), args.content, recognizer=args.audio is not None)
    answerer, content = kiosk.answerer, kiosk.content
    museum = content.pack.museum
    session = kiosk.new_session()
    if args.audio:
        return _ask_audio(args, kiosk, session)
    if args.question:
        start = time.perf_counter()
        answer = session.ask(answerer, args.question, args.lang, args.about)
        ms = (time.perf_counter() - start) * 1000
        if args.explain:
            _explain(answerer, args.question, session.language, args.about)
        if args.say:
            _say(settings, answer, args.say)
        if args.json:
            print(json.dumps(answer_json(args.question, session.language, answer, ms),
                             ensure_ascii=False, indent=2))
        else:
            show_answer(answer, content.pack)
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
        show_answer(answer, content.pack)
