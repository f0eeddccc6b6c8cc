"""Section A of ``bench/qa.py``: the answerer on held-out question sets, beside the answerer
before the rebuild and two baselines, in one run.

Held-out sets: the held-out part of the dev questions, and two packs written blind to the
answerer (``tests/data/heldout/``). Nothing that trained or tuned the answerer read them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi

from bench.tables import Table, ms, pct, percentile, show
from kiosk.content.loader import read_pack
from kiosk.content.model import Exhibit, Pack, pick
from kiosk.evaluation import NONE, EvalQuestion, load_questions, run_eval
from kiosk.ports import Encoder
from kiosk.qa.answerer import KioskAnswerer
from kiosk.qa.index import build_units, encode_units
from kiosk.qa.text import WORD

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
HELDOUT = (
    ("demo: dev held-out", ROOT / "content" / "demo", DATA / "dev" / "demo-heldout.yaml"),
    ("fr-en-small: dev held-out", DATA / "packs" / "fr-en-small",
     DATA / "dev" / "crosslang-heldout.yaml"),
    ("sculpture (es+en)", DATA / "heldout" / "sculpture-es-en" / "pack",
     DATA / "heldout" / "sculpture-es-en" / "questions.yaml"),
    ("local history (fr)", DATA / "heldout" / "local-history-fr" / "pack",
     DATA / "heldout" / "local-history-fr" / "questions.yaml"),
)
BEFORE = "d51a186"
"""main before the answerer was rebuilt (issue 12): 'today's main' of the issue."""
HEADERS = ["set: system", "n", "in scope", "refusal", "wrong", "cross-lang", "follow-ups",
           "p50 / p95 ms"]


@dataclass(frozen=True)
class Result:
    """One system's outcome on one question."""

    item: EvalQuestion
    outcome: str
    """right | wrong | declined | clarified."""
    latency_ms: float


def row(label: str, results: list[Result], pack_languages: list[str]) -> list[str]:
    def right(rows: list[Result]) -> float | None:
        return sum(r.outcome == "right" for r in rows) / len(rows) if rows else None

    in_scope = [r for r in results if r.item.expect != NONE]
    refusals = [r for r in results if r.item.expect == NONE]
    wrong = sum(r.outcome == "wrong" for r in results) / max(len(results), 1)
    cross = [r for r in results if r.item.lang not in pack_languages]
    follow = [r for r in results if r.item.about]
    latencies = [r.latency_ms for r in results]
    return [label, str(len(results)), pct(right(in_scope)), pct(right(refusals)), pct(wrong),
            pct(right(cross)), pct(right(follow)),
            f"{ms(percentile(latencies, 50))} / {ms(percentile(latencies, 95))}"]


# -- the kiosk, now and before ------------------------------------------------------------------

def kiosk_results(encoder: Encoder, pack_dir: Path,
                  questions: list[EvalQuestion]) -> list[Result]:
    """The answerer with this (possibly fused) encoder and the weights shipped for it."""
    pack = read_pack(pack_dir)
    units = build_units(pack)
    answerer = KioskAnswerer(pack, units, encode_units(units, encoder), encoder)
    report = run_eval(answerer, pack.museum.default_language, pack.museum.languages, questions)
    return [Result(item, r["outcome"], r["latency_ms"])
            for item, r in zip(questions, report["results"], strict=True)]


def before_checkout(tmp: Path) -> Path | None:
    """A work tree of the answerer before the rebuild (None without git history)."""
    target = tmp / "before"
    done = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f",
                           str(target), BEFORE], capture_output=True, check=False)
    return target if done.returncode == 0 else None


def before_results(tree: Path, pack_dir: Path, questions_path: Path,
                   questions: list[EvalQuestion]) -> list[Result]:
    """``kiosk eval --json`` of the old code (same venv, same models)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-m", "kiosk.cli", "eval", "--content",
                           str(pack_dir), str(questions_path), "--json"], cwd=tree, env=env,
                          capture_output=True, check=True)
    report = json.loads(done.stdout)
    out = []
    for item, r in zip(questions, report["results"], strict=True):
        answered = r["kind"] == "answer"
        if item.expect == NONE:
            outcome = "wrong" if answered else "right"
        else:
            outcome = ("right" if r["ok"] else "wrong") if answered else \
                ("clarified" if r["kind"] == "clarify" else "declined")
        out.append(Result(item, outcome, r["latency_ms"]))
    return out


# -- baselines: one document per work or FAQ entry, the top one answers ------------------------

def tokens(text: str) -> list[str]:
    """Lowercased words with accents stripped."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return WORD.findall("".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def exhibit_text(ex: Exhibit) -> str:
    """Every language of an exhibit's facts, description and curated Q&A."""
    parts: list[str] = []
    for values in (ex.title, ex.artist, ex.date, ex.medium, ex.room, ex.description):
        parts += values.values()
    for pair in ex.qa:
        parts += [q for phrasings in pair.questions.values() for q in phrasings]
        parts += pair.answer.values()
    return " ".join(parts)


def with_subject(pack: Pack, item: EvalQuestion) -> str:
    """The question, with the title of the work it is about appended (follow-ups)."""
    ex = pack.exhibit(item.about) if item.about else None
    if ex is None:
        return item.q
    return f"{item.q} {pick(ex.title, item.lang, pack.museum.default_language)[0]}"


class Bm25:
    """One BM25 document per exhibit and per FAQ entry; the top document's id is the answer."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.ids = [e.id for e in pack.exhibits] + [f.id for f in pack.faq]
        docs = [exhibit_text(e) for e in pack.exhibits]
        docs += [" ".join([*(q for qs in f.questions.values() for q in qs), *f.answer.values()])
                 for f in pack.faq]
        self.index = BM25Okapi([tokens(d) or ["∅"] for d in docs])

    def top(self, text: str) -> tuple[str, float]:
        scores = self.index.get_scores(tokens(text))
        best = int(np.argmax(scores))
        return self.ids[best], float(scores[best])


class Nearest:
    """The content text (title, curated or practical question, answer, sentence) closest to
    the question by the encoder; its work or FAQ entry is the answer."""

    def __init__(self, pack: Pack, encoder: Encoder) -> None:
        self.encoder = encoder
        self.units = build_units(pack)
        self.vectors = encode_units(self.units, encoder)

    def top(self, text: str) -> tuple[str, float]:
        sims = self.vectors @ self.encoder.encode([text])[0]
        best = int(np.argmax(sims))
        return self.units[best].ref, float(sims[best])


def baseline_results(top: Callable[[str], tuple[str, float]], pack: Pack,
                     questions: list[EvalQuestion]) -> tuple[list[Result], float]:
    """A baseline at the threshold that suits it best on these very questions (it declines
    below it); judged on the id only."""
    tops = []
    for item in questions:
        start = time.perf_counter()
        ref, score = top(with_subject(pack, item))
        tops.append((ref, score, (time.perf_counter() - start) * 1000))

    def outcomes(threshold: float) -> list[str]:
        out = []
        for item, (ref, score, _) in zip(questions, tops, strict=True):
            answered = score >= threshold
            if item.expect == NONE:
                out.append("wrong" if answered else "right")
            else:
                out.append(("right" if ref in item.expected else "wrong") if answered
                           else "declined")
        return out

    candidates = sorted({s for _, s, _ in tops}) + [float("inf")]
    best = max(candidates, key=lambda t: (outcomes(t).count("right"), -t))
    return [Result(item, o, latency) for item, o, (_, _, latency)
            in zip(questions, outcomes(best), tops, strict=True)], best


# -- the section ----------------------------------------------------------------------------------

def section_a(encoders: dict[str, Encoder], tmp: Path, command: str) -> None:
    """Every held-out set: the kiosk (each encoder set), the kiosk before, BM25, nearest."""
    table = Table("A. Held-out sets — the answerer now (per encoder), before the rebuild "
                  f"({BEFORE}), and two baselines", command, HEADERS)
    tree = before_checkout(tmp)
    if tree is None:
        table.notes.append(f"before ({BEFORE}): no git history here — skipped")
    fused = next(reversed(encoders.values()))
    for name, pack_dir, questions_path in HELDOUT:
        if not questions_path.is_file():
            table.notes.append(f"{name}: {questions_path.relative_to(ROOT)} not found — skipped")
            continue
        questions = load_questions(questions_path)
        pack = read_pack(pack_dir)
        langs = pack.museum.languages
        for label, encoder in encoders.items():
            table.rows.append(row(f"{name}: kiosk, {label}", kiosk_results(
                encoder, pack_dir, questions), langs))
        if tree is not None:
            try:
                table.rows.append(row(f"{name}: kiosk before", before_results(
                    tree, pack_dir, questions_path, questions), langs))
            except (subprocess.CalledProcessError, ValueError, KeyError) as exc:
                table.notes.append(f"{name}: kiosk before failed ({exc}) — skipped")
        results, threshold = baseline_results(Bm25(pack).top, pack, questions)
        table.rows.append(row(f"{name}: BM25 (≥ {threshold:.1f})", results, langs))
        results, threshold = baseline_results(Nearest(pack, fused).top, pack, questions)
        table.rows.append(row(f"{name}: nearest text (≥ {threshold:.2f})", results, langs))
    if tree is not None:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                       capture_output=True, check=False)
    table.notes += [
        "in scope / refusal / cross-lang / follow-ups: share answered right (for refusals: not "
        "answered); wrong: share of all questions answered wrongly (the wrong work or FAQ "
        "entry, an answer without the expected words, or an answer where the kiosk had to "
        "decline) — worse for a visitor than 'I don't know'.",
        "cross-lang: questions in a language the pack is not written in; follow-ups: questions "
        "asked with the conversation already about a work (`about`).",
        "Baselines are judged on the id they pick only (not the words), at the threshold that "
        "suits each best on that very set, and get the work's title appended to follow-ups: "
        "all of this favours them.",
        f"kiosk before: `kiosk eval --json` of commit {BEFORE} in a git work tree, same venv "
        "and models.",
    ]
    show(table)


def encoders_for(load: Callable[[str], Encoder], ids: Sequence[str]) -> dict[str, Encoder]:
    """The encoder sets compared: each alone, then all fused (last)."""
    from kiosk.qa.answerer import encoder_key
    from kiosk.qa.encoder import FusedEncoder

    single = {encoder_key(model_id): load(model_id) for model_id in ids}
    out: dict[str, Encoder] = dict(single)
    if len(single) > 1:
        out["+".join(single)] = FusedEncoder(list(single.values()))
    return out


