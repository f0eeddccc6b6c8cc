"""Names of works and artists in spoken questions: heard, then repaired from the content.

    .venv/bin/python bench/names.py                # demo pack; 2 voices × 2 speeds; fr, en, es
    .venv/bin/python bench/names.py --real         # also the real recordings (WER with/without)
    .venv/bin/python bench/names.py --scale 1000   # also repair time at 1,000 works (Tate facts)
    .venv/bin/python bench/names.py --pack tests/data/heldout/sculpture-es-en/pack  # unseen pack
    .venv/bin/python bench/names.py --n-best 3     # Whisper's 3 best hypotheses, rescored
    .venv/bin/python bench/names.py --show         # also every question, transcript and answer

Questions are generated from a pack with three sets of sentences per language: **tune** (the
templates the repair's rules and thresholds were developed on, in English and Spanish only),
**held-out** (other templates, written before any tuning and never read while tuning) and
**no name** (20 visitor questions per language that name nothing: directions, hours, "who
painted this"; also written before tuning). Each is spoken by espeak-ng (the kiosk's
EspeakSynth) and by SVOX Pico (py-nanotts), each at two speeds, transcribed by Whisper base
with the language fixed and no hotwords, then answered by the real answerer in a new visit
twice: as heard, and after ``kiosk.asr.repair.NameRepair`` (built once from the pack). "typed"
is the question's own text (what repair does to a perfect transcript). Transcripts are cached
in .cache/bench-names/ by voice, text and Whisper's beam, window, n-best and padding
(``--fresh`` transcribes again, e.g. after Whisper's adapter changed otherwise).

- WER: jiwer over the whole question, words normalised as in bench/asr.py (``words``).
- name error: share of the names said (the title, and the artist when the sentence says it)
  not recovered in the text: after lowercasing and removing accents and punctuation, the
  name's words appear in order, or a run of the text's words (the name's length ±1) has a
  rapidfuzz ``ratio`` ≥ 85 with the name.
- right: answered about the intended work (``answer.source.ref``); wrong: answered about
  another work; clarify: asked "which one?" listing the intended work.
- no-name questions: false repairs = a name was put in (any at all is false); openings = only
  a question's opening words were put back; works answered = answers about a work.
- ``--n-best N``: Whisper keeps N hypotheses (beam search) and the repair picks the one
  holding most of the content's names. ``--scale N`` also times the repair of this run's
  transcripts against a Tate pack of N works, and counts what that other content changes.

Prints tables only; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jiwer  # noqa: E402
import numpy as np  # noqa: E402
from rapidfuzz import fuzz  # noqa: E402

from bench.asr import words  # noqa: E402
from bench.tables import Table, percentile, show  # noqa: E402
from kiosk.asr.repair import NameRepair, Repaired  # noqa: E402
from kiosk.content.model import Exhibit, Pack  # noqa: E402
from kiosk.events import Answer, AnswerKind  # noqa: E402
from kiosk.ports import Answerer, Recognizer, Samples  # noqa: E402
from kiosk.session import Session  # noqa: E402

DEMO = ROOT / "content" / "demo"
AUDIO = ROOT.parent / "shared" / "eval" / "audio"
TATE = ROOT.parent / "shared" / "eval" / "collection" / "tate_250_paintings.json"
CACHE = ROOT / ".cache" / "bench-names"
LANGS = ("fr", "en", "es")
FUZZY = 85
"""Least rapidfuzz ratio for a name to count as recovered."""

TEMPLATES: dict[str, tuple[str, ...]] = {
    "en": ("Who painted {title}?", "When did {artist} paint {title}?", "Tell me about {title}."),
    "fr": ("Qui a peint {title} ?", "Quand est-ce que {artist} a peint {title} ?",
           "Que représente {title} ?"),
    "es": ("¿Quién pintó {title}?", "¿Cuándo pintó {artist} {title}?", "¿Qué representa {title}?"),
}
"""The tune set: the repair was developed on its English and Spanish questions. Chosen so that
no article contracts with a title ("du Baiser", "del Temerario")."""

HELD_OUT: dict[str, tuple[str, ...]] = {
    "en": ("Where is {title}?", "What year is {title} from?", "Is {title} really by {artist}?"),
    "fr": ("Où se trouve {title} ?", "De quelle année date {title} ?",
           "Est-ce que {title} est vraiment de {artist} ?"),
    "es": ("¿Dónde está {title}?", "¿De qué año es {title}?", "¿Es {title} una obra de {artist}?"),
}
"""The held-out set: written before tuning, never read while tuning."""

NO_NAME: dict[str, tuple[str, ...]] = {
    "en": ("Where are the toilets?", "What time does the museum close?", "Who painted this?",
           "Is there a café in the museum?", "How much is a ticket?",
           "Can I take photos with my phone?", "Where is the exit?",
           "Is the museum open on Sunday?", "What is this painting about?",
           "When was this made?", "Where can I leave my coat?", "Is there a lift for wheelchairs?",
           "Do you have an audio guide in French?", "What is the most famous painting here?",
           "Can I bring my dog inside?", "Where is the gift shop?",
           "How long does the visit take?", "Are there guided tours today?",
           "What does the artist want to say?", "Tell me more about it."),
    "fr": ("Où sont les toilettes ?", "À quelle heure ferme le musée ?", "Qui a peint ce tableau ?",
           "Est-ce qu'il y a un café ?", "Combien coûte un billet ?",
           "Est-ce qu'on peut prendre des photos ?", "Où est la sortie ?",
           "Le musée est-il ouvert le dimanche ?", "Que représente ce tableau ?",
           "De quand date cette œuvre ?", "Où puis-je laisser mon manteau ?",
           "Y a-t-il un ascenseur ?", "Avez-vous un audioguide en anglais ?",
           "Quel est le tableau le plus célèbre du musée ?",
           "Est-ce que les chiens sont acceptés ?", "Où se trouve la boutique ?",
           "Combien de temps dure la visite ?", "Y a-t-il une visite guidée aujourd'hui ?",
           "Qu'est-ce que l'artiste a voulu dire ?", "Racontez-moi en plus."),
    "es": ("¿Dónde están los baños?", "¿A qué hora cierra el museo?", "¿Quién pintó este cuadro?",
           "¿Hay una cafetería?", "¿Cuánto cuesta la entrada?", "¿Se pueden hacer fotos?",
           "¿Dónde está la salida?", "¿El museo abre los domingos?",
           "¿Qué representa esta pintura?", "¿De qué año es esta obra?",
           "¿Dónde puedo dejar mi abrigo?", "¿Hay ascensor?", "¿Tienen audioguía en inglés?",
           "¿Cuál es el cuadro más famoso del museo?", "¿Puedo entrar con mi perro?",
           "¿Dónde está la tienda?", "¿Cuánto dura la visita?", "¿Hay visitas guiadas hoy?",
           "¿Qué quiso decir el artista?", "Cuéntame más."),
}
"""Questions that name no work, artist or place: repair must leave them alone."""

SETS = {"tune": TEMPLATES, "held-out": HELD_OUT}
PICO = {"fr": "fr-FR", "en": "en-US", "es": "es-ES"}


@dataclass(frozen=True)
class Voice:
    """A way to say the questions."""

    engine: str
    """"espeak", "pico", or "typed" (no audio: the text itself is the transcript)."""
    speed: float = 0.0
    """espeak-ng words per minute; Pico's speed factor."""

    @property
    def label(self) -> str:
        return {"espeak": f"espeak {self.speed:.0f}wpm", "pico": f"pico ×{self.speed:g}",
                "typed": "typed"}[self.engine]


VOICES = (Voice("typed"), Voice("espeak", 165), Voice("espeak", 130), Voice("pico", 1.0),
          Voice("pico", 0.8))
"""espeak-ng at the kiosk's rate and slower; Pico at its own pace and slower."""


@dataclass(frozen=True)
class SpokenQuestion:
    """One generated question."""

    lang: str
    """Its language."""
    exhibit_id: str | None
    """The work it is about (None: a no-name question)."""
    text: str
    """What is said."""
    names: tuple[str, ...]
    """The names in it (title, artist) that the transcript should keep."""
    set: str = "tune"
    """tune, held-out or no name."""


def artist_of(ex: Exhibit, lang: str) -> str:
    """The artist as said ("Louis Mékarski (inventeur)" → "Louis Mékarski")."""
    text = ex.artist.get(lang) or next(iter(ex.artist.values()), "")
    return re.sub(r"\s*\(.*?\)", "", text).strip()


def questions(pack: Pack, limit: int, sets: Sequence[str] = ("tune",),
              langs: Sequence[str] = LANGS) -> list[SpokenQuestion]:
    """Up to ``limit`` questions per language and set: every work once (sentences in turn),
    then every work again with the next sentence; works in id order. A work without an artist
    takes the next sentence instead of one naming the artist."""
    out: list[SpokenQuestion] = []
    exhibits = sorted(pack.exhibits, key=lambda e: e.id)
    for name in sets:
        for lang in langs:
            if name == "no name":
                out += [SpokenQuestion(lang, None, t, (), name) for t in NO_NAME[lang][:limit]]
                continue
            templates = SETS[name][lang]
            made: list[SpokenQuestion] = []
            for shift in range(len(templates)):
                for i, ex in enumerate(exhibits):
                    title, artist = ex.title.get(lang), artist_of(ex, lang)
                    if not title:
                        continue
                    k = (i + shift) % len(templates)
                    if "{artist}" in templates[k] and not artist:
                        k = (k + 1) % len(templates)
                    names = (title, artist) if "{artist}" in templates[k] else (title,)
                    made.append(SpokenQuestion(lang, ex.id, templates[k].format(
                        title=title, artist=artist), names, name))
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


class Transcripts:
    """Whisper's transcripts of synthesised questions, cached on disk by voice and text."""

    def __init__(self, whisper: Recognizer, fresh: bool = False) -> None:
        self.whisper = whisper
        self.config = "|".join(str(getattr(whisper, a, "")) for a in ("beam_size", "window",
                                                                       "n_best", "pad_s"))
        """What changes a transcript besides the audio (part of the cache key)."""
        self.path = CACHE / "transcripts.json"
        self.known: dict[str, list[str]] = {}
        if self.path.is_file() and not fresh:
            self.known = json.loads(self.path.read_text(encoding="utf-8"))
        self._espeak: Any = None
        self._pico: Any = None
        self.asr_s: list[float] = []

    def get(self, voice: Voice, text: str, lang: str,
            audio: Callable[[], Samples] | None = None) -> list[str]:
        """[best, *alternatives]; ``audio`` overrides the synthesiser (real recordings)."""
        if voice.engine == "typed":
            return [text]
        key = hashlib.sha1(f"{voice}|{lang}|{self.config}|{text}".encode()).hexdigest()
        if key not in self.known:
            samples = audio() if audio is not None else self.synthesize(voice, text, lang)
            start = time.perf_counter()
            heard = self.whisper.transcribe(samples, lang)
            self.asr_s.append(time.perf_counter() - start)
            self.known[key] = [heard.text, *getattr(heard, "alternatives", ())]
        return self.known[key]

    def synthesize(self, voice: Voice, text: str, lang: str) -> Samples:
        if voice.engine == "pico":
            from py_nanotts import NanoTTS

            from kiosk.tts.picoworker import fresh_memory

            if self._pico is None:
                fresh_memory()  # (py-nanotts reuses memory it never clears: see that module)
                self._pico = NanoTTS()
            pcm = self._pico.speak(text, voice=PICO[lang], speed=voice.speed)
            return (np.frombuffer(pcm, np.int16) / 32768).astype(np.float32)
        if self._espeak is None:
            from kiosk.tts.espeak import EspeakSynth

            self._espeak = EspeakSynth()
        self._espeak.rate = int(voice.speed)
        samples: Samples = self._espeak.synthesize(text, lang)
        return samples

    def save(self) -> None:
        CACHE.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.known, ensure_ascii=False), encoding="utf-8")

    def close(self) -> None:
        self.save()
        if self._espeak is not None:
            self._espeak.close()


@dataclass
class Turn:
    """One question heard by one voice, answered as heard and as repaired."""

    q: SpokenQuestion
    voice: str
    heard: str
    repaired: Repaired
    repair_ms: tuple[float, float]
    """Wall-clock and this thread's CPU time of the repair (the CPU time is what another
    process's load does not change)."""
    before: Answer
    after: Answer

    @property
    def names_put(self) -> bool:
        """The repair put in a name (not only a question's opening words)."""
        return any(not f.opening for f in self.repaired.fixes)


def answer_of(answerer: Answerer, text: str, lang: str, seen: dict[str, Answer]) -> Answer:
    if text not in seen:
        seen[text] = Session(lang, list(LANGS)).ask(answerer, text, lang)
    return seen[text]


def run(asked: Sequence[SpokenQuestion], voices: Sequence[Voice], heard: Transcripts,
        answerer: Answerer, repair: NameRepair, show_all: bool = False) -> list[Turn]:
    """Every question by every voice, as heard and repaired."""
    turns: list[Turn] = []
    for voice in voices:
        answers: dict[str, Answer] = {}
        for q in asked:
            hyps = heard.get(voice, q.text, q.lang)
            start, cpu = time.perf_counter(), time.thread_time()
            fixed = repair.repair(hyps[0], q.lang, hyps[1:])
            ms = ((time.perf_counter() - start) * 1000, (time.thread_time() - cpu) * 1000)
            t = Turn(q, voice.label, hyps[0], fixed, ms,
                     answer_of(answerer, hyps[0], q.lang, answers),
                     answer_of(answerer, fixed.text, q.lang, answers))
            turns.append(t)
            if show_all:
                print(f"  {voice.label:<14} {q.lang} {q.set:<8} {mark(t, t.before)}"
                      f"{mark(t, t.after)} {q.text!r} → {t.heard!r}"
                      + (f" ⇒ {t.repaired.text!r}" if t.repaired.text != t.heard else "")
                      + f" [{t.after.kind} {t.after.source.ref}]", flush=True)
        heard.save()
    return turns


def right(t: Turn, a: Answer) -> bool:
    return a.kind is AnswerKind.ANSWER and a.source.ref == t.q.exhibit_id


def wrong(t: Turn, a: Answer) -> bool:
    """Answered about a work that was not asked about."""
    return a.kind is AnswerKind.ANSWER and a.exhibit_id is not None \
        and a.exhibit_id != t.q.exhibit_id


def listed(t: Turn, a: Answer) -> bool:
    return a.kind is AnswerKind.CLARIFY and any(s.exhibit_id == t.q.exhibit_id
                                                for s in a.suggestions)


def mark(t: Turn, a: Answer) -> str:
    if t.q.exhibit_id is None:
        return "✗" if wrong(t, a) else "·"
    return "✓" if right(t, a) else "?" if listed(t, a) else "✗"


def wer(turns: Sequence[Turn], repaired: bool) -> float:
    return float(jiwer.wer([words(t.q.text) for t in turns],
                           [words(t.repaired.text if repaired else t.heard) for t in turns]))


def name_error(turns: Sequence[Turn], repaired: bool) -> float:
    said = [(n, t.repaired.text if repaired else t.heard) for t in turns for n in t.q.names]
    return sum(not recovered(n, text) for n, text in said) / max(len(said), 1)


def both(count: Callable[[Turn, Answer], bool], turns: Sequence[Turn]) -> str:
    return f"{sum(count(t, t.before) for t in turns)} → {sum(count(t, t.after) for t in turns)}"


def tuned(q: SpokenQuestion, unseen: bool) -> str:
    return "tuned" if q.set == "tune" and q.lang in ("en", "es") and not unseen else "held-out"


def tables(turns: Sequence[Turn], title: str, command: str, unseen: bool = False,
           by_voice: bool = True) -> None:
    """The named questions' table and the no-name questions' table."""
    keys = sorted({((t.voice if by_voice else "all voices"), t.q.set, t.q.lang) for t in turns
                   if t.q.exhibit_id is not None and (by_voice or t.voice != "typed")},
                  key=lambda k: (k[0], k[1] != "tune", LANGS.index(k[2])))
    named = Table(title, command, ["voice", "set", "lang", "n", "WER", "WER rep.",
                                   "name err", "name err rep.", "right", "wrong", "clarify",
                                   "changed"])
    for voice, name, lang in keys:
        g = [t for t in turns if (t.voice == voice or not by_voice and t.voice != "typed")
             and t.q.set == name and t.q.lang == lang]
        named.rows.append([voice, f"{name} ({tuned(g[0].q, unseen)})", lang, str(len(g)),
                           f"{wer(g, False) * 100:.1f}", f"{wer(g, True) * 100:.1f}",
                           f"{name_error(g, False) * 100:.1f}",
                           f"{name_error(g, True) * 100:.1f}", both(right, g), both(wrong, g),
                           both(listed, g), str(sum(t.repaired.text != t.heard for t in g))])
    named.notes += ["right / wrong / clarify: as heard → after repair; WER and name error in %",
                    "changed: questions whose transcript the repair changed"]
    show(named)
    plain_turns = [t for t in turns if t.q.exhibit_id is None]
    if not plain_turns:
        return
    none = Table(f"{title}: questions naming nothing (held-out)", command,
                 ["voice", "lang", "n", "WER", "WER rep.", "false repairs", "openings",
                  "works answered"])
    for voice in dict.fromkeys(t.voice if by_voice else "all voices" for t in plain_turns):
        for lang in LANGS:
            g = [t for t in plain_turns
                 if t.q.lang == lang and (t.voice == voice or not by_voice)]
            if g:
                none.rows.append([voice, lang, str(len(g)), f"{wer(g, False) * 100:.1f}",
                                  f"{wer(g, True) * 100:.1f}",
                                  f"{sum(t.names_put for t in g)}/{len(g)}",
                                  str(sum(t.repaired.text != t.heard and not t.names_put
                                          for t in g)), both(wrong, g)])
    none.notes.append("false repairs: a name was put in; openings: only a question's opening "
                      "words were put back; works answered: answers about a work (none is "
                      "named), as heard → after repair")
    show(none)


def times(spent: Sequence[tuple[float, float]]) -> str:
    """p50 / p95 / max of wall-clock and CPU milliseconds."""
    return ", ".join(f"{what} p50 {percentile(ms, 50) or 0:.2f} ms, p95 "
                     f"{percentile(ms, 95) or 0:.2f} ms, max {max(ms, default=0):.2f} ms"
                     for what, ms in (("wall", [w for w, _ in spent]),
                                      ("cpu", [c for _, c in spent])))


def real_recordings(heard: Transcripts, repair: NameRepair, show_all: bool) -> None:
    """WER with and without repair on the real recordings (ordinary speech, mostly no name)."""
    from kiosk.audio.wav import read_wav

    if not (AUDIO / "manifest.json").is_file():
        print(f"no real recordings at {AUDIO}: skipped")
        return
    clips = [c for c in json.loads((AUDIO / "manifest.json").read_text())
             if c.get("transcript")]
    table = Table("Real recordings (../shared/eval/audio) heard by Whisper base, repaired "
                  "against the demo pack", ".venv/bin/python bench/names.py --real",
                  ["lang", "clips", "WER", "WER repaired", "changed"])
    for lang in LANGS:
        refs, before, after = [], [], []
        for c in (c for c in clips if c["lang"] == lang):
            hyps = heard.get(Voice("real"), c["file"], lang,
                             audio=lambda c=c: read_wav(AUDIO / c["file"]))  # type: ignore[misc]
            fixed = repair.repair(hyps[0], lang, hyps[1:]).text
            refs.append(words(c["transcript"]))
            before.append(words(hyps[0]))
            after.append(words(fixed))
            if show_all and fixed != hyps[0]:
                print(f"  {lang} {hyps[0]!r} ⇒ {fixed!r}")
        heard.save()
        table.rows.append([lang, str(len(refs)), f"{jiwer.wer(refs, before) * 100:.1f} %",
                           f"{jiwer.wer(refs, after) * 100:.1f} %",
                           str(sum(b != a for b, a in zip(before, after, strict=True)))])
    show(table)


def at_scale(works: int, turns: Sequence[Turn]) -> None:
    """Index build and repair time over a Tate pack of ``works`` works (the same texts)."""
    from bench.packs import write_tate_pack
    from kiosk.content.loader import read_pack

    if not TATE.is_file():
        print(f"no Tate facts at {TATE}: scale skipped")
        return
    folder = CACHE / f"tate-{works}"
    if not (folder / "museum.yaml").is_file():
        write_tate_pack(folder, works, TATE)
    pack = read_pack(folder)
    start = time.perf_counter()
    repair = NameRepair(pack)
    built = (time.perf_counter() - start) * 1000
    spent, changed = [], 0
    for _ in range(3):
        for t in turns:
            start, cpu = time.perf_counter(), time.thread_time()
            changed += repair.repair(t.heard, t.q.lang).text != t.heard
            spent.append(((time.perf_counter() - start) * 1000,
                          (time.thread_time() - cpu) * 1000))
    print(f"{works} works (Tate pack): index built in {built:.0f} ms; repair per question: "
          f"{times(spent)} ({len(spent)} repairs of this run's transcripts; "
          f"{changed / 3:.0f} of {len(turns)} changed)\n")


def name_rows(whisper: Recognizer, answerer: Answerer, synth: Any, limit: int = 27,
              pack: Pack | None = None, show: bool = False) -> list[dict[str, Any]]:
    """Rows of the short table (bench/voice.py): the tune set by espeak-ng at the kiosk's rate,
    as heard and repaired. ``pack`` defaults to the answerer's own, else the demo pack."""
    from kiosk.content.loader import read_pack

    pack = pack or getattr(answerer, "pack", None) or read_pack(DEMO)
    heard = Transcripts(whisper)
    rate = float(getattr(synth, "rate", 165))
    turns = run(questions(pack, limit), [Voice("espeak", rate)], heard, answerer,
                NameRepair(pack), show)
    heard.close()
    rows = []
    for lang in LANGS:
        g = [t for t in turns if t.q.lang == lang]
        for repaired in (False, True):
            rows.append({"lang": lang, "condition": "repaired" if repaired else "heard",
                         "questions": len(g), "wer": wer(g, repaired),
                         "name_error": name_error(g, repaired),
                         "right": sum(right(t, t.after if repaired else t.before) for t in g),
                         "clarify": sum(listed(t, t.after if repaired else t.before)
                                        for t in g)})
    return rows


def print_rows(rows: list[dict[str, Any]]) -> None:
    """The short table."""
    print(f"{'lang':<4} {'condition':<9} {'questions':>9} {'WER':>6} {'name error':>10} "
          f"{'right exhibit':>13} {'clarify':>7}")
    for r in rows:
        print(f"{r['lang']:<4} {r['condition']:<9} {r['questions']:>9} {r['wer'] * 100:>5.1f}% "
              f"{r['name_error'] * 100:>9.1f}% {r['right']:>7}/{r['questions']:<5} "
              f"{r['clarify']:>7}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", type=Path, default=None,
                        help="an unseen pack instead of the demo (all its rows are held-out)")
    parser.add_argument("--limit", type=int, default=27,
                        help="questions per language and set (27 = every demo work once)")
    parser.add_argument("--voices", default="all",
                        help="comma-separated engines among typed,espeak,pico (default all)")
    parser.add_argument("--real", action="store_true", help="also the real recordings")
    parser.add_argument("--scale", type=int, default=0,
                        help="also time the repair over a Tate pack of this many works")
    parser.add_argument("--n-best", type=int, default=1,
                        help="Whisper hypotheses (beam search); the repair picks among them")
    parser.add_argument("--fresh", action="store_true", help="ignore cached transcripts")
    parser.add_argument("--show", action="store_true",
                        help="print every question, transcript, repair and answer")
    args = parser.parse_args()
    from kiosk.asr.whisper import load_whisper
    from kiosk.paths import DataDir, resolve_data_dir
    from kiosk.runtime import open_answerer
    from kiosk.settings import Settings

    data = DataDir(resolve_data_dir())
    answerer, content, _ = open_answerer(Settings(), data, args.pack or DEMO)
    pack = content.pack
    langs = [lang for lang in LANGS if lang in pack.museum.languages]
    voices = [v for v in VOICES if args.voices == "all" or v.engine in args.voices.split(",")]
    heard = Transcripts(load_whisper(data, n_best=args.n_best), fresh=args.fresh)
    command = " ".join([".venv/bin/python bench/names.py", *sys.argv[1:]])
    start = time.perf_counter()
    repair = NameRepair(pack)
    built = (time.perf_counter() - start) * 1000
    for lang in langs:  # the first call folds accents' table and warms the caches
        repair.repair("warm up", lang)
    asked = questions(pack, args.limit, ("tune", "held-out", "no name"), langs)
    started = time.perf_counter()
    try:
        turns = run(asked, voices, heard, answerer, repair, args.show)
        where = f"pack {args.pack}" if args.pack else "demo pack"
        tables(turns, f"Names in spoken questions, {where}: heard → repaired", command,
               unseen=args.pack is not None)
        tables([t for t in turns if t.voice != "typed"], f"All voices together, {where}",
               command, unseen=args.pack is not None, by_voice=False)
        print(f"index of {len(pack.exhibits)} works built in {built:.1f} ms; repair per "
              f"question: {times([t.repair_ms for t in turns])}")
        if heard.asr_s:
            print(f"{len(heard.asr_s)} new transcripts, mean {np.mean(heard.asr_s):.2f} s")
        if args.scale:
            at_scale(args.scale, turns)
        if args.real:
            real_recordings(heard, repair, args.show)
    finally:
        heard.close()
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
