"""Saved test questions: "the kiosk should answer this with that", run as a suite.

Stored in ``<pack>/.studio/tests.yaml`` (a list of {id, question, lang, expect, note}); the last
run is kept in ``<pack>/.studio/last-run.json`` so the next one can say what changed. A case is
judged as ``kiosk eval`` judges a question (``kiosk.evaluation.outcome``): right, wrong,
clarified ("which one?") or declined.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from kiosk.atomic import write_text_atomic
from kiosk.content.yamlfile import BoundedComposer, Refused, read_text
from kiosk.errors import ContentError, shown
from kiosk.evaluation import NONE, EvalQuestion, outcome
from kiosk.events import AnswerKind
from kiosk.ports import Answerer
from kiosk.session import Session

TESTS = ".studio/tests.yaml"
LAST_RUN = ".studio/last-run.json"
DECLINE = "decline"
"""``expect`` of a question the kiosk must not answer."""
CASE_ID = re.compile(r"t(\d+)")


@dataclass(frozen=True)
class Case:
    """One saved test question."""

    question: str
    """As a visitor would type or say it."""
    lang: str
    """Its language."""
    expect: str
    """The work or FAQ id that must answer it, or ``decline``."""
    note: str = ""
    """The curator's note."""
    id: str = ""
    """Its id in the suite, ``t1``, ``t2``... (given by ``add``)."""


@dataclass(frozen=True)
class Result:
    """What the kiosk replied to one case."""

    case: Case
    """The case asked."""
    got: str | None
    """The work or FAQ id the answer came from (None: no answer)."""
    kind: str
    """answer, clarify or unknown."""
    text: str
    """The reply's text."""
    outcome: str
    """right, wrong, clarified ("which one?") or declined."""
    confidence: float
    """The answerer's score, 0-1."""


@dataclass(frozen=True)
class Run:
    """One run of the suite."""

    time: str
    """When it ran (UTC, ISO)."""
    results: list[Result] = field(default_factory=list)
    """One per case, in the suite's order."""
    previous: Run | None = field(default=None, compare=False, repr=False)
    """The run before it (as stored when this one started), if any."""

    def counts(self) -> dict[str, int]:
        """How many results of each outcome."""
        out = dict.fromkeys(("right", "wrong", "clarified", "declined"), 0)
        for result in self.results:
            out[result.outcome] = out.get(result.outcome, 0) + 1
        return out

    def changed_since(self, previous: Run | None) -> list[tuple[Result | None, Result]]:
        """(before, now) for each case whose outcome, source or reply changed since
        ``previous``, or that it did not ask (before is None)."""
        before = {r.case.id: r for r in previous.results} if previous else {}
        out: list[tuple[Result | None, Result]] = []
        for now in self.results:
            old = before.get(now.case.id)
            if old is not None and _asked(old.case) != _asked(now.case):
                old = None  # (another question under the same id: new)
            if old is None or (old.outcome, old.got, old.text) != (now.outcome, now.got,
                                                                   now.text):
                out.append((old, now))
        return out


def _asked(case: Case) -> tuple[str, str, str]:
    return case.question, case.lang, case.expect


def _read_yaml(path: Path) -> Any:
    try:
        text = read_text(path)
        if text is None:
            return None
        yaml = YAML(typ="rt")
        yaml.Composer = BoundedComposer
        return yaml.load(text)
    except Refused as exc:
        raise ContentError(f"{shown(path)}: {exc.message}") from None
    except YAMLError:
        raise ContentError(f"{shown(path)} is not valid YAML — fix it in a text editor or "
                           "delete it (the saved test questions are lost then)") from None


def load(pack_dir: Path) -> list[Case]:
    """The saved cases ([] when none). ContentError for a file that is not a list of cases."""
    path = Path(pack_dir) / TESTS
    items = _read_yaml(path) or []
    names = {f.name for f in fields(Case)}
    if not isinstance(items, list) or not all(
            isinstance(i, dict) and {"question", "lang", "expect"} <= set(i) for i in items):
        raise ContentError(f"{shown(path)} is not a list of {{question, lang, expect}} — fix "
                           "it in a text editor")
    return [Case(**{k: str(v) for k, v in item.items() if k in names and v is not None})
            for item in items]


def save(pack_dir: Path, cases: list[Case]) -> None:
    """Write the cases (atomically)."""
    path = Path(pack_dir) / TESTS
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.StringIO()
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.dump([{k: v for k, v in asdict(c).items() if v or k != "note"} for c in cases], out)
    write_text_atomic(path, out.getvalue())


def add(pack_dir: Path, case: Case) -> Case:
    """Save one more case; returns it with its id (never one used before, in the suite or
    in the last run)."""
    cases = load(pack_dir)
    ran = last_run(pack_dir)
    ids = [c.id for c in cases] + ([r.case.id for r in ran.results] if ran else [])
    taken = [int(m.group(1)) for i in ids if (m := CASE_ID.fullmatch(i))]
    new = Case(question=case.question, lang=case.lang, expect=case.expect, note=case.note,
               id=f"t{max(taken, default=0) + 1}")
    save(pack_dir, [*cases, new])
    return new


def remove(pack_dir: Path, case_id: str) -> None:
    """Delete the case ``case_id`` (nothing when there is none)."""
    save(pack_dir, [c for c in load(pack_dir) if c.id != case_id])


def renamed(pack_dir: Path, old: str, new: str) -> int:
    """Cases that expected work ``old`` now expect ``new``; returns how many."""
    cases = load(pack_dir)
    moved = [replace(c, expect=new) if c.expect == old else c for c in cases]
    count = sum(c.expect == old for c in cases)
    if count:
        save(pack_dir, moved)
    return count


def ask(answerer: Answerer, case: Case) -> Result:
    """Ask one case in a fresh conversation, as a visitor starting at the kiosk would."""
    answer = Session(case.lang, [case.lang]).ask(answerer, case.question, lang=case.lang)
    expect = NONE if case.expect == DECLINE else case.expect
    judged = outcome(EvalQuestion(q=case.question, lang=case.lang, expect=expect), answer)
    answered = answer.kind is AnswerKind.ANSWER
    return Result(case=case, got=answer.source.ref if answered else None,
                  kind=str(answer.kind.value), text=answer.text, outcome=judged,
                  confidence=round(float(answer.confidence), 4))


def run(pack_dir: Path, answerer: Answerer) -> Run:
    """Ask every case in a fresh conversation; store the run as the last one (its
    ``previous`` is the one stored before)."""
    previous = last_run(pack_dir)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    result = Run(time=now, results=[ask(answerer, c) for c in load(pack_dir)],
                 previous=previous)
    path = Path(pack_dir) / LAST_RUN
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(as_dict(result), indent=1, ensure_ascii=False) + "\n")
    return result


def last_run(pack_dir: Path) -> Run | None:
    """The run stored by the last ``run`` (None when none, or when it cannot be read)."""
    try:
        data = json.loads((Path(pack_dir) / LAST_RUN).read_text(encoding="utf-8"))
        return Run(time=str(data["time"]), results=[
            Result(**{**r, "case": Case(**r["case"])}) for r in data["results"]])
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None


def as_dict(value: Case | Result | Run) -> dict[str, Any]:
    """A Case, Result or Run as plain JSON-able data (a run without its ``previous``)."""
    if isinstance(value, Run):
        return {"time": value.time, "results": [asdict(r) for r in value.results]}
    return asdict(value)
