"""Question-answering benchmark: accuracy, latency, build time and memory, printed as tables.

Run ``.venv/bin/python bench/qa.py`` (``--quick`` skips the 10,000-exhibit pack; ``--only B,C``
runs some sections). Nothing is asserted: the figures are for people, next to their budgets.

A. held-out sets: the answerer per encoder, before its rebuild, BM25 and nearest-text baselines
(``bench/heldout.py``);  B. answer latency by pack size (encoders included);  C. bundle build
time;  D. peak memory and cold start of ``kiosk ask``;  E. outside passages (XQuAD, PIAF).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.content import bundle as bundles
from kiosk.content.model import Pack, pick
from kiosk.evaluation import EvalQuestion
from kiosk.events import AnswerKind, Question, SourceKind
from kiosk.paths import DataDir, resolve_data_dir
from kiosk.ports import Encoder
from kiosk.qa.answerer import encoder_key
from kiosk.qa.encoder import encoder_ids, load_encoder, load_encoders
from kiosk.runtime import open_answerer
from kiosk.settings import Settings

try:
    from bench import heldout, packs
except ModuleNotFoundError:  # run as a script: bench/ is on sys.path, the repository is not
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench import heldout, packs
from bench.heldout import Bm25, tokens  # noqa: E402
from bench.tables import Table, mb, ms, pct, percentile, rss_mb, share, show, verdict  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED_EVAL = ROOT.parent / "shared" / "eval"
DEMO = ROOT / "content" / "demo"
CROSSLANG_PACK = ROOT / "tests" / "data" / "packs" / "fr-en-small"
P95_BUDGET_MS = 50.0
"""Answer-choice p95 budget at 1,000 exhibits."""
BUILD_BUDGET_S = 60.0
"""Bundle build budget for 1,000 exhibits."""
WARM_UP = 20
SIZES = (1_000, 10_000)
LANGS = ("en", "fr", "es")
WORD = re.compile(r"[^\W_]+")

TITLED = {
    "en": ("Who painted {t}?", "When was {t} made?", "Where is {t}?", "What is {t} made of?",
           "What does {t} show?", "Tell me about {t}."),
    "fr": ("Qui a peint {t} ?", "De quand date {t} ?", "Où se trouve {t} ?",
           "Que représente {t} ?", "En quoi est fait {t} ?"),
    "es": ("¿Quién pintó {t}?", "¿De qué año es {t}?", "¿Dónde está {t}?",
           "¿Qué representa {t}?", "¿De qué está hecho {t}?"),
}
UNNAMED = {
    "en": ("Who painted it?", "When was it made?", "What does it show?",
           "Is there a painting with a dog?", "Which work shows the sea?",
           "What is the oldest painting here?"),
    "fr": ("Qui l'a peint ?", "Il date de quand ?", "Qu'est-ce qu'on y voit ?",
           "Y a-t-il un tableau avec un chien ?", "Quelle œuvre montre la mer ?"),
    "es": ("¿Quién lo pintó?", "¿De cuándo es?", "¿Qué se ve en el cuadro?",
           "¿Hay algún cuadro con un perro?", "¿Qué obra muestra el mar?"),
}
OFF_TOPIC = {
    "en": ("What will the weather be like tomorrow?", "Who won the football match last night?",
           "How do I cook pasta?", "Can you recommend a cheap hotel nearby?"),
    "fr": ("Quel temps fera-t-il demain ?", "Qui a gagné le match de foot hier ?",
           "Comment réussir une pâte à crêpes ?", "Quel est le cours du bitcoin ?"),
    "es": ("¿Qué tiempo hará mañana?", "¿Quién ganó el partido de fútbol?",
           "¿Cómo se hace una paella?", "¿Me recomienda un hotel barato?"),
}


def command(section: str, quick: bool = False) -> str:
    """The command that reproduces one section."""
    return f".venv/bin/python bench/qa.py --only {section}" + (" --quick" if quick else "")


def folder_bytes(path: Path) -> int:
    """Total size of the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@dataclass
class Bench:
    """What the sections share: settings, the loaded encoder, a temp dir and generated packs."""

    settings: Settings
    data: DataDir
    encoders: dict[str, Encoder]
    """Each encoder compared alone (``COMPARED``), then all of them fused, last."""
    kiosk_key: str
    """Which of them the kiosk's settings use (``use``, ``use+e5``...)."""
    tmp: Path
    quick: bool
    made: dict[str, Path] = field(default_factory=dict)

    @property
    def encoder(self) -> Encoder:
        """The kiosk's own (``models.encoder``)."""
        return self.encoders[self.kiosk_key]

    def tate_file(self) -> Path | None:
        """The outside Tate records, when present."""
        path = SHARED_EVAL / packs.TATE_FILE
        return path if path.is_file() else None

    def tate_pack(self, n: int) -> Path | None:
        """The n-exhibit Tate pack, written once (None without the Tate file)."""
        key = f"tate-{n}"
        tate = self.tate_file()
        if tate is None:
            return None
        if key not in self.made:
            self.made[key] = packs.write_tate_pack(self.tmp / key, n, tate)
        return self.made[key]

    def bundle(self, n: int) -> Path | None:
        """The bundle of the n-exhibit Tate pack, built once."""
        key = f"bundle-{n}"
        pack = self.tate_pack(n)
        if pack is None:
            return None
        if key not in self.made:
            bundles.build(pack, self.tmp / key, self.encoder)
            self.made[key] = self.tmp / key
        return self.made[key]


COMPARED = ("use-multilingual-v3-int8", "e5-multilingual-small-q4")
"""The encoders section A compares, alone and fused, whatever the settings use."""


# -- B. latency by size ----------------------------------------------------------------------


def latency_questions(pack: Pack, n: int, seed: int = 0) -> list[Question]:
    """n questions: 60 % naming a work's title, 20 % naming nothing, 20 % off-topic."""
    rng = random.Random(seed)
    langs = [lang for lang in LANGS if lang in pack.museum.languages] or list(LANGS)
    default = pack.museum.default_language
    out: list[Question] = []
    for i in range(n):
        lang = rng.choice(langs)
        kind = i % 5
        if kind < 3:
            ex = rng.choice(pack.exhibits)
            title, _ = pick(ex.title, lang, default)
            out.append(Question(rng.choice(TITLED[lang]).format(t=title), lang))
        elif kind == 3:
            out.append(Question(rng.choice(UNNAMED[lang]), lang))
        else:
            out.append(Question(rng.choice(OFF_TOPIC[lang]), lang))
    rng.shuffle(out)
    return out


def latency_row(bench: Bench, label: str, path: Path, n_questions: int = 300,
                budget: float | None = None, encoder: Encoder | None = None) -> list[str]:
    """Open one pack, warm up, time ``answer`` on generated questions; one table row."""
    gc.collect()
    start = time.perf_counter()
    answerer, content, _ = open_answerer(bench.settings, bench.data, path,
                                      encoder=encoder or bench.encoder)
    opened = time.perf_counter() - start
    memory = rss_mb()
    questions = latency_questions(content.pack, WARM_UP + n_questions)
    for q in questions[:WARM_UP]:
        answerer.answer(q)
    times: list[float] = []
    kinds: list[AnswerKind] = []
    for q in questions[WARM_UP:]:
        t0 = time.perf_counter()
        answer = answerer.answer(q)
        times.append((time.perf_counter() - t0) * 1000)
        kinds.append(answer.kind)
    p95 = percentile(times, 95) or 0.0
    row = [label, f"{len(content.pack.exhibits):,}", f"{len(content.units):,}", f"{opened:.1f}",
           f"{memory:.0f}", ms(percentile(times, 50)), ms(p95), ms(max(times)),
           pct(share([k is AnswerKind.ANSWER for k in kinds])),
           pct(share([k is AnswerKind.CLARIFY for k in kinds])),
           f"≤ {budget:.0f}: {verdict(p95, budget)}" if budget else ""]
    del answerer, content
    gc.collect()
    return row


def section_b(bench: Bench) -> None:
    """Answer-choice latency at 25, 1,000 and 10,000 exhibits, and memory after loading."""
    table = Table(
        "B. Answer-choice latency by pack size (answerer.answer only, after 20 warm-up "
        "questions)",
        command("B", bench.quick),
        ["pack", "exhibits", "texts", "open s", "RSS MB", "p50 ms", "p95 ms", "max ms",
         "answered", "clarify", "p95 budget"])
    table.rows.append(latency_row(bench, f"content/demo ({bench.kiosk_key})", DEMO))
    fused = next(reversed(bench.encoders))
    if fused != bench.kiosk_key:  # the comparison: every encoder loaded, fused
        table.rows.append(latency_row(bench, f"content/demo ({fused})", DEMO,
                                      encoder=bench.encoders[fused]))
    for n in SIZES:
        if n == 10_000 and bench.quick:
            table.notes.append("10,000 exhibits skipped (--quick)")
            continue
        path = bench.tate_pack(n)
        if path is None:
            table.notes.append(f"{n:,} exhibits skipped: {SHARED_EVAL / packs.TATE_FILE} "
                               "not found")
            continue
        table.rows.append(latency_row(bench, f"Tate × {n:,} ({bench.kiosk_key})", path,
                                      budget=P95_BUDGET_MS if n == 1_000 else None))
        if n == 1_000 and fused != bench.kiosk_key:
            table.rows.append(latency_row(bench, f"Tate × {n:,} ({fused})", path,
                                          budget=P95_BUDGET_MS, encoder=bench.encoders[fused]))
    table.notes += [
        "300 generated questions per pack (en/fr/es): 60 % name a work's title (artist, "
        "date, room, medium, what it shows), 20 % name nothing, 20 % off-topic. Past 250 "
        "works the Tate titles repeat as variants ('X, study', 'Study for X', 'X (II)'), so "
        "many titled questions get 'which one do you mean?' (clarify).",
        "open s: open_answerer (validate + encode every text of the pack; the encoder is "
        "loaded once beforehand). RSS MB: this process right after opening the pack (the "
        "previous pack freed; encoder included).",
        f"Budget: p95 ≤ {P95_BUDGET_MS:.0f} ms at 1,000 exhibits.",
    ]
    show(table)


# -- C. bundle build ------------------------------------------------------------------------------


def section_c(bench: Bench) -> None:
    """``kiosk content build`` time and bundle size for 1,000 exhibits."""
    table = Table("C. Bundle build (kiosk.content.bundle.build) for 1,000 exhibits",
                  command("C"),
                  ["pack", "exhibits", "texts", "build s", "budget", "bundle MB",
                   "vectors MB", "content.json MB"])
    pack = bench.tate_pack(1_000)
    if pack is None:
        table.notes.append(f"skipped: {SHARED_EVAL / packs.TATE_FILE} not found")
        show(table)
        return
    out = bench.tmp / "bundle-1000"
    start = time.perf_counter()
    manifest = bundles.build(pack, out, bench.encoder)
    took = time.perf_counter() - start
    bench.made["bundle-1000"] = out
    table.rows.append([
        "Tate × 1,000", f"{manifest['counts']['exhibits']:,}", f"{manifest['counts']['texts']:,}",
        f"{took:.1f}", f"≤ {BUILD_BUDGET_S:.0f} s: {verdict(took, BUILD_BUDGET_S)}",
        mb(folder_bytes(out)), mb((out / "vectors.npy").stat().st_size),
        mb((out / "content.json").stat().st_size)])
    table.notes.append("Same as `.venv/bin/kiosk content build PACK -o BUNDLE` (validate, "
                       "encode every text, write TinyDB + vectors + images, fsync).")
    show(table)


# -- D. memory of kiosk ask -------------------------------------------------------------------


def kiosk_command() -> list[str]:
    """The venv's ``kiosk`` script, else ``python -m kiosk.cli``."""
    script = Path(sys.executable).parent / "kiosk"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "kiosk.cli"]


# A fork starts with its parent's peak memory and exec keeps it, so the kiosk is started from
# this tiny wrapper (python -S) rather than from the benchmark's big process.
PEAK_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "open(sys.argv[1], 'w').write(str(peak))\n"
    "sys.exit(code)\n"
)


def run_child(args: list[str]) -> tuple[int, float, float, str]:
    """Run a command; its exit code, wall seconds, peak RSS (MB) and first line of output."""
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-S", "-c", PEAK_WRAPPER, str(peak_file), *args],
                              capture_output=True, cwd=ROOT, check=False)
        took = time.perf_counter() - start
        peak_kb = int(peak_file.read_text()) if peak_file.is_file() else 0
    lines = (done.stdout + done.stderr).decode("utf-8", "replace").strip().splitlines()
    return done.returncode, took, peak_kb / 1024, (lines or [""])[0]


def section_d(bench: Bench) -> None:
    """Peak memory of ``kiosk ask`` as a subprocess, on the demo pack and a 1,000-work bundle."""
    kiosk = kiosk_command()
    table = Table("D. Peak memory of `kiosk ask` (a fresh process each)",
                  command("D"), ["content", "max RSS MB", "wall s", "exit", "answer"])
    runs: list[tuple[str, Path, str]] = [("content/demo (pack)", DEMO,
                                          "who painted the milkmaid")]
    pack, bundle = bench.tate_pack(1_000), bench.bundle(1_000)
    if pack is None or bundle is None:
        table.notes.append(f"1,000-exhibit bundle skipped: {SHARED_EVAL / packs.TATE_FILE} "
                           "not found")
    else:
        question = f"who painted {packs.load_tate(SHARED_EVAL / packs.TATE_FILE)[0]['title']}"
        runs.append(("Tate × 1,000 (bundle)", bundle, question))
        if not bench.quick:
            runs.append(("Tate × 1,000 (pack, encoded at start)", pack, question))
    every = ",".join(COMPARED)
    runs.append((f"content/demo (pack), every encoder: {every}", DEMO,
                 "who painted the milkmaid"))
    for label, path, question in runs:
        extra = ["--set", f"models.encoder={every}"] if "every encoder" in label else []
        code, took, peak, answer = run_child([*kiosk, *extra, "ask", "--content", str(path),
                                              question])
        table.rows.append([label, f"{peak:.0f}", f"{took:.1f}", str(code), answer[:60]])
    table.notes.append("Each: `.venv/bin/kiosk ask --content CONTENT \"QUESTION\"`, started from a "
                       "tiny wrapper that reports getrusage(RUSAGE_CHILDREN).ru_maxrss (a child "
                       "forked from this big process would inherit its peak).")
    show(table)


# -- E. outside passages ------------------------------------------------------------------------


def folded(text: str) -> str:
    """Text reduced to its tokens, to look for an answer span in an answer."""
    return " ".join(tokens(text))


def passage_row(bench: Bench, name: str, path: Path, questions: list[EvalQuestion],
                spans: list[list[str]]) -> list[str]:
    """How often the kiosk quotes the passage that answers, and the sentence holding it."""
    answerer, content, _ = open_answerer(bench.settings, bench.data, path, encoder=bench.encoder)
    engine = Bm25(content.pack)
    answered, right, holds, ranked, top_holds, base = [], [], [], [], [], []
    for item, accepted in zip(questions, spans, strict=True):
        question = Question(item.q, item.lang)
        answer = answerer.answer(question)
        is_answer = answer.kind is AnswerKind.ANSWER
        answered.append(is_answer)
        right.append(is_answer and answer.source.ref == item.expect)
        holds.append(is_answer and any(folded(a) in folded(answer.text) for a in accepted))
        ev = answerer.explain(question)
        quotes = [i for i, c in enumerate(ev.candidates) if c.kind is SourceKind.DESCRIPTION]
        best = max(quotes, key=lambda i: ev.probabilities[i]) if quotes else None
        ranked.append(best is not None and ev.candidates[best].ref == item.expect)
        quoted = answerer.reply_for(ev.candidates[best], item.lang).text if best is not None \
            else ""
        top_holds.append(any(folded(a) in folded(quoted) for a in accepted))
        base.append(engine.top(item.q)[0] == item.expect)
    return [name, str(len(content.pack.exhibits)), str(len(questions)), pct(share(answered)),
            pct(share(right)), pct(share(holds)), pct(share(ranked)), pct(share(top_holds)),
            pct(share(base)), pct(1 / max(len(content.pack.exhibits), 1))]


def section_e(bench: Bench) -> None:
    """Outside passages: how often the kiosk quotes (or ranks first) the passage that answers."""
    table = Table("E. Outside passages (XQuAD en/es: V&A museum; PIAF fr: art) — right passage",
                  command("E"),
                  ["pack", "passages", "questions", "answered", "answer: right passage",
                   "answer holds it", "best sentence: right passage", "best sentence holds it",
                   "BM25 top: right", "chance"])
    needed = [SHARED_EVAL / packs.XQUAD_FILE, SHARED_EVAL / packs.PIAF_FILE]
    missing = [p for p in needed if not p.is_file()]
    if missing:
        table.notes.append(f"skipped: {missing[0]} not found (outside material lives in "
                           "../shared/eval beside the repository)")
        show(table)
        return
    sets = packs.passage_sets(SHARED_EVAL)
    written = packs.write_passage_packs(bench.tmp / "passages", SHARED_EVAL)
    for passage_set, (path, questions) in zip(sets, written, strict=True):
        spans = [[str(a) for a in r.get("answers") or []] for r in passage_set.records]
        table.rows.append(passage_row(bench, passage_set.name, path, questions, spans))
    table.notes += [
        "answer: right passage = kind ANSWER and answer.source.ref is the passage holding an "
        "accepted answer; holds answer = the text shown contains an accepted span (folded).",
        "best sentence: the description sentence the scorer finds likeliest "
        "(answerer.explain()), whatever the thresholds; holds it = that sentence, quoted whole, "
        "contains an accepted span; BM25 top: the best BM25 document (title + passage), no "
        "threshold.",
        "chance: 1 / passages.",
    ]
    show(table)


# -- main ------------------------------------------------------------------------------------------

def section_a(bench: Bench) -> None:
    """Held-out sets (bench/heldout.py)."""
    heldout.section_a(bench.encoders, bench.tmp, command("A"))


SECTIONS: dict[str, Callable[[Bench], None]] = {
    "A": section_a, "B": section_b, "C": section_c, "D": section_d, "E": section_e,
}


def header(bench: Bench) -> str:
    """The first line: machine, encoder, data dir."""
    return (f"kiosk QA benchmark — {platform.node()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, encoder {bench.encoder.model_id} "
            f"({bench.settings.models.threads} thread), data dir {bench.data.root}"
            + (", --quick" if bench.quick else "") + "\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """--quick and --only."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="skip the 10,000-exhibit pack")
    parser.add_argument("--only", default="ABCDE", metavar="SECTIONS",
                        help="sections to run, e.g. A or B,C (default: all)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Load the encoder once, then run the chosen sections in a temporary folder."""
    args = parse_args(argv)
    chosen = [s for s in args.only.upper() if s in SECTIONS]
    settings = Settings()
    data = DataDir(resolve_data_dir())
    ids = encoder_ids(settings.models.encoder)
    encoders = heldout.encoders_for(
        lambda model_id: load_encoder(data, model_id, settings.models.threads),
        list(dict.fromkeys([*COMPARED, *ids])))
    key = "+".join(encoder_key(m) for m in ids)
    if key not in encoders:
        encoders[key] = load_encoders(data, settings.models.encoder, settings.models.threads)
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as tmp:
        bench = Bench(settings, data, encoders, key, Path(tmp), args.quick)
        print(header(bench), flush=True)
        for key in chosen:
            SECTIONS[key](bench)
    return 0


if __name__ == "__main__":
    sys.exit(main())
