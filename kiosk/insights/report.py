"""``kiosk report``: what visitors asked, from the insights log.

Reading the day files and computing the figures are pure functions (``read_turns``,
``summarise``); ``kiosk.insights.command`` adds the encoder (grouping the unanswered questions
by meaning), the page (``kiosk.insights.render``) and the CSV.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from kiosk import limits
from kiosk.errors import KioskError
from kiosk.insights.cluster import Encode, Group, group_questions
from kiosk.insights.log import HEARD_NOTHING, TABLE, Turn, file_day
from kiosk.paths import DataDir

EXHIBIT_KINDS = ("qa", "fact", "description")
DOUBTFUL_BELOW = 0.75
"""Answers below this confidence are listed for checking. In a sample of 470 answers from the
demo pack, answers to questions it cannot answer (a dog → baby changing, parking → cloakroom)
scored 0.48-0.76 (median 0.53), right answers 0.84 and up (5th percentile)."""
STAGE_NAMES = {"asr": "speech recognition", "answer": "finding the answer",
               "end_of_speech_to_voice": "end of speech → first word said (all)"}
# ``[limits] report_days`` (default 3,660) is the longest span of days the figures cover: ten
# years, far more than any ``[insights] retention_days`` (default 90), so a log kept as
# configured always fits. A turn dated far from the others (year 1 or 9999: a kiosk whose clock
# was wrong) would otherwise make the report walk every day in between. Its own clock cannot
# judge (a Raspberry Pi has no battery clock), so the figures keep the span of at most that many
# days holding the most turns and count the others (``in_span``).
MAX_STAGES = 32
"""Timing columns at most in the CSV, the stages timed most often (the kiosk times three); a log
naming thousands would otherwise make a rows × stages table."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""Cell starts a spreadsheet may read as a formula (OWASP, "CSV Injection"): such a cell is
written after a single quote, so the sheet shows it and never runs it."""


def read_turns(folder: Path, since: date | None = None,
               warn: Callable[[str], None] = lambda line: None) -> list[Turn]:
    """Every turn of the day files from ``since`` on, oldest first. A damaged file or record
    is left out with one line given to ``warn``."""
    if not folder.is_dir():
        return []
    turns: list[Turn] = []
    for path in sorted(folder.glob("????-??-??.json")):
        day = file_day(path)
        if day is None or (since is not None and day < since):
            continue
        try:
            table = json.loads(path.read_text(encoding="utf-8")).get(TABLE, {})
            records = [table[k] for k in sorted(table, key=int)]
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            warn(f"insights: {path} is damaged ({exc}) — its turns are left out")
            continue
        bad = 0
        for record in records:
            try:
                turns.append(Turn.from_record(record))
            except (KeyError, TypeError, ValueError, AttributeError):
                bad += 1
        if bad:
            warn(f"insights: {path}: {bad} malformed record(s) left out")
    return sorted(turns, key=lambda t: t.time)


def unanswered(turn: Turn) -> bool:
    """A question the kiosk could not answer: unknown, clarify or out of scope."""
    return turn.outcome in ("unknown", "clarify") or turn.out_of_scope


@dataclass(frozen=True)
class Summary:
    """The report's figures."""

    first: date | None
    """First day with a turn."""
    last: date | None
    """Last day with a turn."""
    questions: int
    """Turns with a question (heard-nothing turns excluded)."""
    outcomes: dict[str, int]
    """answer / clarify / unknown / out_of_scope / heard_nothing counts."""
    answer_rate: float | None
    """Answered questions / questions (out-of-scope replies count as not answered)."""
    per_day: dict[str, dict[str, int]]
    """Day → answered / clarify / unknown (incl. out of scope) counts, every day in range."""
    languages: dict[str, int]
    """Questions per language, most first."""
    exhibits: list[tuple[str, int]]
    """(exhibit id, answers about it), most first."""
    faq: list[tuple[str, int]]
    """(FAQ id, answers from it), most first."""
    stages: list[tuple[str, int, float, float, float]]
    """(stage, turns timed, median, 95th percentile, max) in ms, slowest p95 first."""
    groups: list[Group] = field(default_factory=list)
    """The unanswered questions grouped by meaning, biggest first."""
    doubtful: list[tuple[str, str, str, int, float]] = field(default_factory=list)
    """Answers below ``DOUBTFUL_BELOW``: (question, language, source id, times, mean
    confidence), most asked first."""
    left_out: int = 0
    """Turns dated outside ``first`` → ``last`` (see ``[limits] report_days``), not in the
    figures."""


def in_span(turns: Sequence[Turn], days: int | None = None) -> tuple[list[Turn], int]:
    """The turns of the span of at most ``days`` days that holds the most of them (the newest
    such span on a tie), and how many others were left out. One pass over the days with turns,
    never over the days between them."""
    days = days or limits.current().report_days
    per_day = Counter(t.day for t in turns)
    ordered = sorted(per_day)
    if not ordered or (ordered[-1] - ordered[0]).days < days:
        return list(turns), 0
    best, first, total = (0, 0, 0), 0, 0
    for last, day in enumerate(ordered):
        total += per_day[day]
        while (day - ordered[first]).days >= days:
            total -= per_day[ordered[first]]
            first += 1
        if total >= best[0]:
            best = (total, first, last)
    low, high = ordered[best[1]], ordered[best[2]]
    kept = [t for t in turns if low <= t.day <= high]
    return kept, len(turns) - len(kept)


def summarise(turns: Sequence[Turn], groups: Sequence[Group] = ()) -> Summary:
    """The figures of the report from the turns (pure); only those ``in_span`` count."""
    turns, left_out = in_span(turns)
    asked = [t for t in turns if t.outcome != HEARD_NOTHING]
    outcomes = Counter(_bucket(t) for t in turns)
    days = sorted({t.day for t in turns})
    per_day: dict[str, dict[str, int]] = {}
    if days:
        for ordinal in range(days[0].toordinal(), days[-1].toordinal() + 1):
            per_day[date.fromordinal(ordinal).isoformat()] = {
                "answered": 0, "clarify": 0, "unknown": 0}
    for t in asked:
        bucket = _bucket(t)
        per_day[t.day.isoformat()][{"answer": "answered", "clarify": "clarify"}.get(
            bucket, "unknown")] += 1
    answered = [t for t in asked if t.outcome == "answer" and not t.out_of_scope]
    exhibits = Counter(t.source for t in answered if t.source and t.source_kind in EXHIBIT_KINDS)
    faq = Counter(t.source for t in answered if t.source and t.source_kind == "faq")
    timings: dict[str, list[float]] = {}
    for t in turns:
        for stage, ms in t.timings_ms.items():
            timings.setdefault(stage, []).append(ms)
    stages = [(stage, len(v), float(np.percentile(v, 50)), float(np.percentile(v, 95)),
               float(max(v))) for stage, v in timings.items()]
    stages.sort(key=lambda s: -s[3])
    doubt: dict[tuple[str, str], list[Turn]] = {}
    for t in answered:
        if t.confidence is not None and t.confidence < DOUBTFUL_BELOW and t.source:
            doubt.setdefault((" ".join(t.text.casefold().split()), t.source), []).append(t)
    doubtful = sorted(((ts[0].text, ts[0].lang, src, len(ts),
                        sum(t.confidence or 0.0 for t in ts) / len(ts))
                       for (_, src), ts in doubt.items()), key=lambda d: (-d[3], d[4]))
    return Summary(
        first=days[0] if days else None, last=days[-1] if days else None,
        questions=len(asked),
        outcomes={k: outcomes.get(k, 0) for k in
                  ("answer", "clarify", "unknown", "out_of_scope", HEARD_NOTHING)},
        answer_rate=len(answered) / len(asked) if asked else None,
        per_day=per_day,
        languages=dict(Counter(t.lang or "?" for t in asked).most_common()),
        exhibits=[(str(k), n) for k, n in exhibits.most_common()],
        faq=[(str(k), n) for k, n in faq.most_common()],
        stages=stages, groups=list(groups), doubtful=doubtful, left_out=left_out)


def _bucket(turn: Turn) -> str:
    return "out_of_scope" if turn.out_of_scope else turn.outcome


def unanswered_groups(turns: Sequence[Turn], encode: Encode) -> list[Group]:
    """The unanswered questions of ``turns`` (those ``in_span``) grouped by meaning."""
    return group_questions([(t.text, t.lang, _bucket(t)) for t in in_span(turns)[0]
                            if unanswered(t)], encode)


def write_csv(turns: Sequence[Turn], path: Path) -> None:
    """Every turn as a row (those outside the report's span too: nothing is lost); one
    ``<stage>_ms`` column per stage seen (``MAX_STAGES`` at most). No cell starts a formula
    (``FORMULA_STARTS``)."""
    seen = Counter(stage for t in turns for stage in t.timings_ms)
    stages = sorted(stage for stage, _ in seen.most_common(MAX_STAGES))
    columns = [name for name in Turn.__dataclass_fields__ if name != "timings_ms"]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns + [_cell(f"{stage}_ms") for stage in stages])
        for t in turns:
            row = asdict(t)
            writer.writerow([_cell(row[c]) for c in columns]
                            + [_cell(t.timings_ms.get(stage)) for stage in stages])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def titles(data: DataDir, lang: str = "en") -> dict[str, str]:
    """Exhibit and FAQ ids → a readable name, from the installed content ({} if none)."""
    try:
        from kiosk.content.bundle import MANIFEST
        from kiosk.content.loader import read_pack
        from kiosk.content.model import Pack, pick
        from kiosk.content.store import TinyDbStore
        from kiosk.runtime import default_content

        path = default_content(data)
        if (path / MANIFEST).is_file():
            store = TinyDbStore(path)
            pack = Pack.from_records(store.museum(), store.exhibits(), store.faq())
        else:
            pack = read_pack(path)
    except (KioskError, OSError, ValueError, KeyError):
        return {}
    fallback = pack.museum.default_language
    names = {e.id: pick(e.title, lang, fallback)[0] for e in pack.exhibits}
    for entry in pack.faq:
        names[entry.id] = pick({k: v[0] for k, v in entry.questions.items() if v}, lang,
                               fallback)[0]
    return names
