"""Names of works and artists in spoken questions: WER, names heard, and the exhibit answered.

    .venv/bin/python bench/names.py              # 27 questions per language (every demo work once)
    .venv/bin/python bench/names.py --limit 54   # every work × 2 templates (about twice as long)
    .venv/bin/python bench/names.py --rate 140   # espeak-ng slower than the kiosk speaks
    .venv/bin/python bench/names.py --show       # also every question, transcript and answer

Questions are generated from the demo pack (content/demo) with the templates below, in French,
English and Spanish, using each work's title in that language and its artist. Each is spoken by
espeak-ng through the kiosk's own EspeakSynth (the kiosk's voice per language, its rate), then
transcribed by Whisper base with the language fixed, once without hotwords and once with the
pack's names as hotwords (``kiosk.asr.vocabulary.phrases(pack, 40)``), and answered by the real
answerer in a new visit (``Session``).

- WER: jiwer over the whole question, words normalised as in bench/asr.py (``words``).
- name error: share of the names said (the title, and the artist when the template says it)
  that are not recovered in the transcript. Recovered: after lowercasing, removing accents
  and punctuation, the name's words appear in order and next to each other in the
  transcript, or a run of the transcript's words (the name's length, ±1 word) has a rapidfuzz
  ``ratio`` ≥ 85 with the name. "exact" counts only the first rule.
- right exhibit: the answer is about the intended work (``answer.source.ref`` is its id);
  clarify: the kiosk asked "which one?" and listed the intended work among its choices.

Prints tables only; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jiwer  # noqa: E402
import numpy as np  # noqa: E402
from rapidfuzz import fuzz  # noqa: E402

from bench.asr import words  # noqa: E402
from kiosk.asr.vocabulary import phrases  # noqa: E402
from kiosk.content.model import Pack  # noqa: E402
from kiosk.events import AnswerKind  # noqa: E402
from kiosk.ports import Answerer, Recognizer, Samples  # noqa: E402
from kiosk.session import Session  # noqa: E402

DEMO = ROOT / "content" / "demo"
LANGS = ("fr", "en", "es")
HOTWORDS = 40
"""How many pack names the "hotwords" condition passes to Whisper (as bench/asr.py)."""
FUZZY = 85
"""Least rapidfuzz ratio for a name to count as recovered."""

TEMPLATES: dict[str, tuple[str, ...]] = {
    "en": ("Who painted {title}?", "When did {artist} paint {title}?", "Tell me about {title}."),
    "fr": ("Qui a peint {title} ?", "Quand est-ce que {artist} a peint {title} ?",
           "Que représente {title} ?"),
    "es": ("¿Quién pintó {title}?", "¿Cuándo pintó {artist} {title}?", "¿Qué representa {title}?"),
}
"""Visitor questions per language; {title} and {artist} are the work's, in that language.
Chosen so that no article contracts with a title ("du Baiser", "del Temerario")."""


class Synth(Protocol):
    """What this bench needs of a speech synthesiser (``kiosk.tts.espeak.EspeakSynth``)."""

    def synthesize(self, text: str, lang: str) -> Samples: ...


@dataclass(frozen=True)
class SpokenQuestion:
    """One generated question."""

    lang: str
    """Its language."""
    exhibit_id: str
    """The work it is about."""
    text: str
    """What espeak-ng says."""
    names: tuple[str, ...]
    """The names in it (title, artist) that the transcript should keep."""


def questions(pack: Pack, limit: int) -> list[SpokenQuestion]:
    """Up to ``limit`` questions per language: every work once (templates in turn), then
    every work again with the next template; works in id order (deterministic)."""
    out: list[SpokenQuestion] = []
    exhibits = sorted(pack.exhibits, key=lambda e: e.id)
    for lang in LANGS:
        templates = TEMPLATES[lang]
        made: list[SpokenQuestion] = []
        for shift in range(len(templates)):
            for i, ex in enumerate(exhibits):
                title, artist = ex.title.get(lang), ex.artist.get(lang)
                if not title or not artist:
                    continue
                template = templates[(i + shift) % len(templates)]
                names = (title, artist) if "{artist}" in template else (title,)
                made.append(SpokenQuestion(lang, ex.id, template.format(title=title,
                                                                        artist=artist), names))
        out += made[:limit]
    return out


def plain(text: str) -> list[str]:
    """Lowercase words without accents or punctuation ("L'École" → ["l", "ecole"])."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text.lower())
                   if not unicodedata.combining(c))
    return "".join(c if c.isalnum() else " " for c in bare).split()


def recovered(name: str, heard: str, fuzzy: bool = True) -> bool:
    """Whether ``name`` survives in the transcript ``heard`` (the rule in the docstring)."""
    want, got = plain(name), plain(heard)
    n = len(want)
    if any(got[i:i + n] == want for i in range(len(got) - n + 1)):
        return True
    if not fuzzy or not got:
        return False
    target = " ".join(want)
    return any(fuzz.ratio(target, " ".join(got[i:i + size])) >= FUZZY
               for size in (n - 1, n, n + 1) if size > 0
               for i in range(max(1, len(got) - size + 1)))


def name_rows(whisper: Recognizer, answerer: Answerer, synth: Synth, limit: int = 27,
              pack: Pack | None = None, show: bool = False) -> list[dict[str, Any]]:
    """One row per language and condition (no hotwords / hotwords); see the docstring.

    ``pack`` defaults to the answerer's own (``answerer.pack``), else the demo pack."""
    if pack is None:
        pack = getattr(answerer, "pack", None)
    if pack is None:
        from kiosk.content.loader import read_pack

        pack = read_pack(DEMO)
    conditions: list[tuple[str, Sequence[str]]] = [
        ("no hotwords", ()), (f"hotwords {HOTWORDS}", phrases(pack, HOTWORDS))]
    hot = set(conditions[1][1])
    asked = questions(pack, limit)
    rows: list[dict[str, Any]] = []
    for lang in LANGS:
        mine = [q for q in asked if q.lang == lang]
        if not mine:
            continue
        audio = [synth.synthesize(q.text, lang) for q in mine]
        for condition, hotwords in conditions:
            refs, hyps, secs = [], [], []
            names = missed = missed_exact = right = clarify = 0
            for q, samples in zip(mine, audio, strict=True):
                start = time.perf_counter()
                heard = whisper.transcribe(samples, lang, hotwords=hotwords).text
                secs.append(time.perf_counter() - start)
                refs.append(words(q.text))
                hyps.append(words(heard))
                names += len(q.names)
                missed += sum(not recovered(n, heard) for n in q.names)
                missed_exact += sum(not recovered(n, heard, fuzzy=False) for n in q.names)
                answer = Session(lang, list(LANGS)).ask(answerer, heard, lang)
                hit = answer.kind is AnswerKind.ANSWER and answer.source.ref == q.exhibit_id
                listed = answer.kind is AnswerKind.CLARIFY and any(
                    s.exhibit_id == q.exhibit_id for s in answer.suggestions)
                right += hit
                clarify += listed
                if show:
                    mark = "✓" if hit else "?" if listed else "✗"
                    print(f"  {mark} {lang} {condition:<12} {q.text!r} → {heard!r} "
                          f"[{answer.kind} {answer.source.ref}]", flush=True)
            rows.append({
                "lang": lang, "condition": condition, "questions": len(mine),
                "wer": jiwer.wer(refs, hyps), "names": names,
                "name_error": missed / names, "name_error_exact": missed_exact / names,
                "names_in_hotwords": sum(n in hot for q in mine for n in q.names) / names,
                "right": right, "clarify": clarify, "asr_s": float(np.mean(secs)),
            })
    return rows


def print_rows(rows: list[dict[str, Any]]) -> None:
    """The table (bench/voice.py may print it too)."""
    print(f"{'lang':<4} {'condition':<12} {'questions':>9} {'WER':>6} {'names':>5} "
          f"{'name error':>10} {'(exact)':>7} {'right exhibit':>13} {'clarify':>7} "
          f"{'mean asr s':>10}")
    for r in rows:
        print(f"{r['lang']:<4} {r['condition']:<12} {r['questions']:>9} {r['wer'] * 100:>5.1f}% "
              f"{r['names']:>5} {r['name_error'] * 100:>9.1f}% {r['name_error_exact'] * 100:>6.1f}%"
              f" {r['right']:>7}/{r['questions']:<5} {r['clarify']:>7} {r['asr_s']:>10.2f}")
    print(f"\nname error: names (title; artist when said) not found in the transcript — words in "
          f"order after lowercasing and removing accents and punctuation, or a run of words with "
          f"rapidfuzz ratio ≥ {FUZZY}; (exact): without the fuzzy rule. right exhibit: answered "
          "about the intended work; clarify: asked which work and listed it.")
    shares = {r["lang"]: r["names_in_hotwords"] for r in rows}
    print(f"names said that are among the {HOTWORDS} hotwords: "
          + ", ".join(f"{lang} {share * 100:.0f}%" for lang, share in shares.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=27,
                        help="questions per language (27 = every demo work once; max 81)")
    parser.add_argument("--rate", type=int, default=0,
                        help="espeak-ng words per minute (default: the kiosk's speech.rate)")
    parser.add_argument("--show", action="store_true",
                        help="print every question, transcript and answer")
    args = parser.parse_args()
    from kiosk.asr.whisper import load_whisper
    from kiosk.paths import DataDir, resolve_data_dir
    from kiosk.runtime import open_answerer
    from kiosk.settings import Settings
    from kiosk.tts.espeak import EspeakSynth

    settings = Settings()
    data = DataDir(resolve_data_dir())
    answerer, content = open_answerer(settings, data, DEMO)
    whisper = load_whisper(data)
    sp = settings.speech
    rate = args.rate or sp.rate
    synth = EspeakSynth(rate=rate, volume=sp.volume, timeout_s=sp.timeout_s)
    try:
        whisper.transcribe(synth.synthesize("warm up", "en"), "en")
        print(f"$ .venv/bin/python bench/names.py --limit {args.limit}"
              + (f" --rate {args.rate}" if args.rate else ""))
        voices = ", ".join(synth.voices[lang] for lang in LANGS)
        print(f"demo pack questions spoken by espeak-ng ({voices}, {rate} wpm)"
              f" → Whisper base int8 (language fixed, beam "
              f"{whisper.beam_size}) → answerer\n")
        started = time.perf_counter()
        rows = name_rows(whisper, answerer, synth, args.limit, content.pack, args.show)
    finally:
        synth.close()
    print_rows(rows)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
