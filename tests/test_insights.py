"""Visitor insights: what the log stores from real turns (and nothing else), retention, the
writer thread, the controller's observers, grouping unanswered questions by meaning, and the
report (HTML self-contained and escaped, CSV, damaged files, empty logs)."""

from __future__ import annotations

import csv
import json
import re
import threading
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiosk.events import (
    Answer,
    Answered,
    AnswerKind,
    Caption,
    EventType,
    Failed,
    Heard,
    HeardNothing,
    Level,
    PipelineEvent,
    Source,
    SourceKind,
    SpeakingDone,
    SpeakingStarted,
)
from kiosk.insights.cluster import average_linkage, group_questions
from kiosk.insights.command import run_report
from kiosk.insights.log import InsightsLog, Turn
from kiosk.insights.report import read_turns, summarise
from kiosk.paths import DataDir
from kiosk.pipeline import Pipeline
from kiosk.qa.answerer import KioskAnswerer
from kiosk.qa.encoder import primary
from kiosk.session import Session
from kiosk.settings import InsightsSettings, Settings
from kiosk.testing import EnergyVad, HashingEncoder, SamplesMicrophone, ScriptedRecognizer

STORED = {"time", "lang", "text", "outcome", "out_of_scope", "source", "source_kind",
          "confidence", "timings_ms"}
ON = InsightsSettings(enabled=True, retention_days=30)
TZ = timezone(timedelta(hours=1))


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def answer_event(text: str, kind: AnswerKind = AnswerKind.ANSWER, ref: str | None = "the-kiss",
                 out_of_scope: bool = False, lang: str = "en",
                 timings: dict[str, float] | None = None) -> PipelineEvent:
    source = Source(SourceKind.QA if ref else SourceKind.REPLY, exhibit_id=ref)
    answer = Answer(kind, "the curated answer", lang, source, 0.9, out_of_scope=out_of_scope)
    return Answered(text, answer, timings if timings is not None else {"answer": 12.0})


def stored(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Every day file's records, by file name."""
    return {p.name: list(json.loads(p.read_text())["turns"].values())
            for p in sorted(folder.glob("????-??-??.json"))}


def log_turns(data: Path, clock: Clock, events: Sequence[PipelineEvent]) -> None:
    log = InsightsLog(data, ON, clock=clock)
    for event in events:
        log.observe(event)
    log.close()


# -- the log -----------------------------------------------------------------------------------

@pytest.mark.models
def test_real_turns_are_logged_with_the_listed_fields_only(tmp_path: Path, demo: Any,
                                                           encoder: Any) -> None:
    clock = Clock(datetime(2025, 3, 14, 15, 30, 5, tzinfo=TZ))
    log = InsightsLog(DataDir(tmp_path), ON, clock=clock)
    answerer = KioskAnswerer(demo.pack, demo.units, demo.vectors, encoder)
    session = Session("en", ["en", "fr", "es"])
    pipeline = Pipeline(answerer, session, ScriptedRecognizer([]), listener=log.observe)
    said = [pipeline.ask_text("Who painted the milkmaid?", "en"),
            pipeline.ask_text("Où sont les toilettes ?", "fr"),
            pipeline.ask_text("Who won the football match last night?", "en")]
    assert pipeline.ask_by_voice(SamplesMicrophone(np.zeros(1600, np.float32), 1.0),
                                 EnergyVad()) is None  # silence: heard nothing
    log.close()

    files = stored(tmp_path / "insights")
    assert list(files) == ["2025-03-14.json"]
    assert sorted(p.name for p in (tmp_path / "insights").iterdir()) == ["2025-03-14.json"]
    records = files["2025-03-14.json"]
    assert all(set(r) == STORED for r in records)
    assert [(r["text"], r["lang"], r["outcome"], r["source"]) for r in records[:2]] == [
        ("Who painted the milkmaid?", "en", "answer", "the-milkmaid"),
        ("Où sont les toilettes ?", "fr", "answer", "toilets")]
    assert records[0]["source_kind"] in ("qa", "fact") and records[1]["source_kind"] == "faq"
    assert records[0]["time"] == "2025-03-14T15:30:05+01:00"
    assert set(records[0]["timings_ms"]) == {"answer"} and records[0]["confidence"] > 0.5
    football = records[2]
    assert football["outcome"] == "unknown" and football["out_of_scope"]
    assert football["source"] is None
    assert records[3] == {"time": "2025-03-14T15:30:05+01:00", "lang": "", "text": "",
                          "outcome": "heard_nothing", "out_of_scope": False, "source": None,
                          "source_kind": None, "confidence": None, "timings_ms": {}}
    raw = (tmp_path / "insights" / "2025-03-14.json").read_text()
    assert all(answer.text not in raw for answer in said)  # the kiosk's replies are not kept


def test_voice_latency_measured_while_speaking_is_kept_with_its_turn(tmp_path: Path) -> None:
    clock = Clock(datetime(2025, 3, 14, 10, 0, tzinfo=TZ))
    timings = {"asr": 1400.0, "answer": 15.0}
    event = answer_event("why is she reading", timings=timings)
    log = InsightsLog(tmp_path, ON, clock=clock)
    log.observe(event)
    log.observe(SpeakingStarted("the curated answer"))
    timings["end_of_speech_to_voice"] = 1720.0  # the pipeline adds it at the first word
    log.observe(Caption("the", (0, 3)))
    log.observe(SpeakingDone(finished=True))
    log.observe(Level(0.3))
    log.observe(Heard("hello"))
    log.observe(Failed("speech failed"))
    log.close()
    [record] = stored(tmp_path / "insights")["2025-03-14.json"]
    assert record["timings_ms"] == {"asr": 1400.0, "answer": 15.0,
                                    "end_of_speech_to_voice": 1720.0}


def test_retention_deletes_whole_old_days_at_start_and_daily(tmp_path: Path) -> None:
    clock = Clock(datetime(2025, 1, 1, 12, 0, tzinfo=TZ))
    for day in range(40):  # 40 days of one turn each
        clock.now = datetime(2025, 1, 1, 12, 0, tzinfo=TZ) + timedelta(days=day)
        log_turns(tmp_path, clock, [answer_event(f"question {day}")])
    folder = tmp_path / "insights"
    assert len(list(folder.glob("*.json"))) == 31  # each start purged what was past 30 days
    (folder / "2024-06-01.damaged-101010.json").write_text("{")
    clock.now = datetime(2025, 2, 15, 9, 0, tzinfo=TZ)
    log = InsightsLog(tmp_path, ON, clock=clock, wake_s=0.05)
    days = sorted(p.name[:10] for p in folder.iterdir())
    assert days[0] == "2025-01-16" and days[-1] == "2025-02-09"  # 30 days back from 02-15

    clock.now = datetime(2025, 2, 20, 9, 0, tzinfo=TZ)  # days later, still running
    log.observe(answer_event("a new day"))
    log.observe(SpeakingDone(finished=True))
    for _ in range(500):
        if not (folder / "2025-01-20.json").exists() and (folder / "2025-02-20.json").exists():
            break
        threading.Event().wait(0.01)
    log.close()
    assert sorted(p.name[:10] for p in folder.iterdir())[0] == "2025-01-21"


def test_disabled_writes_nothing_at_all(tmp_path: Path) -> None:
    log = InsightsLog(DataDir(tmp_path), InsightsSettings(enabled=False, retention_days=30))
    log.observe(answer_event("who painted this"))
    log.observe(HeardNothing())
    log.close()
    assert list(tmp_path.iterdir()) == []


def test_observe_never_waits_for_a_slow_disk(tmp_path: Path) -> None:
    release, entered = threading.Event(), threading.Event()
    written: list[tuple[str, list[dict[str, Any]]]] = []

    def slow_store(path: Path, records: Sequence[dict[str, Any]]) -> None:
        entered.set()
        assert release.wait(30)
        written.append((path.name, list(records)))

    log = InsightsLog(tmp_path, ON, clock=Clock(datetime(2025, 3, 1, 11, tzinfo=TZ)),
                      store=slow_store)
    log.observe(HeardNothing())
    assert entered.wait(10)  # the writer is now stuck on the disk...
    for i in range(200):  # ...and the pipeline's thread goes on
        log.observe(answer_event(f"question {i}"))
        log.observe(SpeakingDone(finished=True))
    assert not written
    release.set()
    log.close()
    assert [name for name, _ in written] == ["2025-03-01.json"] * len(written)
    assert sum(len(records) for _, records in written) == 201
    assert log.dropped == 0


def test_a_damaged_day_file_is_set_aside_and_logging_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "insights"
    folder.mkdir()
    (folder / "2025-03-01.json").write_text('{"turns": {"1": {"ti')  # cut by a power loss
    log_turns(tmp_path, Clock(datetime(2025, 3, 1, 11, tzinfo=TZ)), [answer_event("hello")])
    assert len(stored(folder)["2025-03-01.json"]) == 1
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 2 and names[0].startswith("2025-03-01.damaged-")


# -- the touchscreen's observers ------------------------------------------------------------------

@pytest.mark.models
def test_controller_tells_observers_and_survives_a_failing_one(demo: Any, encoder: Any) -> None:
    from kiosk.ui.controller import Controller, Screen

    answerer = KioskAnswerer(demo.pack, demo.units, demo.vectors, encoder)
    pipeline = Pipeline(answerer, Session("en", ["en", "fr", "es"]))
    seen: list[PipelineEvent] = []

    def broken(event: PipelineEvent) -> None:
        raise RuntimeError("observer fault")

    controller = Controller(pipeline, demo.pack, observers=[broken, seen.append])
    try:
        controller.ask("Who painted the milkmaid?")
        assert controller.wait_idle(30)
    finally:
        controller.close()
    assert controller.view.screen is Screen.ANSWER
    assert [e.type for e in seen] == [EventType.ANSWER]
    assert seen[0].answer is not None and seen[0].answer.exhibit_id == "the-milkmaid"


# -- grouping by meaning ------------------------------------------------------------------------

def test_average_linkage_keeps_apart_what_is_only_linked_by_a_chain() -> None:
    angles = np.radians([0, 20, 40, 60, 80, 180])  # neighbours at cos 0.94, ends at cos 0.17
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    groups = average_linkage(vectors, threshold=0.8)
    assert sorted(map(len, groups)) == [1, 2, 3]  # no chaining 0°…80° into one group
    assert average_linkage(vectors, threshold=-1.0) == [[0, 1, 2, 3, 4, 5]]
    assert average_linkage(np.zeros((0, 2))) == []


@pytest.mark.models
def test_paraphrases_group_across_languages_and_unrelated_ones_do_not(encoder: Any) -> None:
    asked = [("where is the toilet", "en", "unknown"), ("où sont les toilettes", "fr", "unknown"),
             ("¿dónde está el baño?", "es", "clarify"), ("Where is the toilet ", "en", "unknown"),
             ("is there wifi here", "en", "unknown"), ("y a-t-il du wifi ?", "fr", "unknown"),
             ("¿hay wifi?", "es", "unknown"), ("what's the weather tomorrow", "en",
                                                "out_of_scope"),
             ("can I bring my dog", "en", "unknown"), ("où est le parking", "fr", "unknown")]
    groups = group_questions(asked, primary(encoder).encode)
    by_text = {text: g for g in groups for text, _, _ in g.examples}
    toilets = by_text["where is the toilet"]
    assert {t for t, _, _ in toilets.examples} == {
        "where is the toilet", "où sont les toilettes", "¿dónde está el baño?"}
    assert toilets.count == 4 and toilets.representative == "where is the toilet"
    assert toilets.outcomes == {"unknown": 3, "clarify": 1}
    assert groups[0] is toilets
    assert {t for t, _, _ in by_text["is there wifi here"].examples} == {
        "is there wifi here", "y a-t-il du wifi ?", "¿hay wifi?"}
    for alone in ("what's the weather tomorrow", "can I bring my dog", "où est le parking"):
        assert len(by_text[alone].examples) == 1, alone


# -- the report ---------------------------------------------------------------------------------

def write_day(folder: Path, day: str, turns: Sequence[Turn]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    from dataclasses import asdict
    (folder / f"{day}.json").write_text(json.dumps(
        {"turns": {str(i + 1): asdict(t) for i, t in enumerate(turns)}}))


def sample_turns(day: str) -> list[Turn]:
    at = f"{day}T11:00:00+01:00"
    return [Turn(at, "en", "Who painted the kiss?", "answer", False, "the-kiss", "fact", 0.97,
                 {"asr": 1300.0, "answer": 11.0}),
            Turn(at, "fr", "Qui a peint le baiser ?", "answer", False, "the-kiss", "qa", 0.93,
                 {"answer": 9.0}),
            Turn(at, "en", "Where do I park?", "answer", False, "cloakroom", "faq", 0.52,
                 {"answer": 14.0}),
            Turn(at, "en", "<script>alert('x')</script> is there wifi?", "unknown", False,
                 None, "reply", 0.2, {"answer": 10.0}),
            Turn(at, "es", "=HYPERLINK(\"http://x\")", "clarify", False, None, "reply", 0.4, {}),
            Turn(at, "en", "weather tomorrow?", "unknown", True, None, "reply", 0.3, {}),
            Turn(at, "", "", "heard_nothing")]


def report(tmp_path: Path, since: str | None = None, **kw: Any) -> tuple[int, str, Path, Path]:
    out, table = tmp_path / "report.html", tmp_path / "turns.csv"
    code = run_report(Settings(), DataDir(tmp_path), since, out, table,
                      encode=HashingEncoder().encode,
                      now=datetime(2025, 3, 3, 9, 0, tzinfo=TZ), **kw)
    return code, out.read_text(encoding="utf-8"), out, table


def test_report_page_is_self_contained_and_escapes_visitor_text(tmp_path: Path) -> None:
    write_day(tmp_path / "insights", "2025-03-01", sample_turns("2025-03-01"))
    code, page, _, _ = report(tmp_path)
    assert code == 0
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; is there wifi?" in page
    assert page.count('src="data:image/png;base64,') >= 4  # per day, works, FAQ, languages...
    assert "Not answered" in page and "Where do I park?" in page  # doubtful answer listed


def test_csv_has_a_row_per_turn_and_no_formulas(tmp_path: Path) -> None:
    write_day(tmp_path / "insights", "2025-03-01", sample_turns("2025-03-01"))
    write_day(tmp_path / "insights", "2025-03-02", sample_turns("2025-03-02")[:2])
    _, _, _, table = report(tmp_path)
    rows = list(csv.DictReader(table.read_text(encoding="utf-8").splitlines()))
    assert len(rows) == 9
    assert list(rows[0])[:9] == ["time", "lang", "text", "outcome", "out_of_scope", "source",
                                 "source_kind", "confidence", "answer_ms"]
    assert rows[0]["asr_ms"] == "1300.0" and rows[2]["asr_ms"] == ""
    assert rows[4]["text"].startswith("'=")  # a spreadsheet shows it, never runs it
    _, _, _, table = report(tmp_path, since="2025-03-02")
    assert len(list(csv.DictReader(table.read_text(encoding="utf-8").splitlines()))) == 2


def test_a_damaged_day_file_is_left_out_with_one_warning(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str],
                                                          ) -> None:
    folder = tmp_path / "insights"
    write_day(folder, "2025-03-01", sample_turns("2025-03-01"))
    (folder / "2025-03-02.json").write_text('{"turns": {"1": {"time": "2025-03-02T1')
    code, page, _, _ = report(tmp_path)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 0 and len(err) == 1
    assert "2025-03-02.json is damaged" in err[0] and "left out" in err[0]
    assert "<b>6</b><span>questions</span>" in page


def test_figures(tmp_path: Path) -> None:
    write_day(tmp_path / "insights", "2025-03-01", sample_turns("2025-03-01"))
    write_day(tmp_path / "insights", "2025-03-03", sample_turns("2025-03-03")[:1])
    s = summarise(read_turns(tmp_path / "insights"))
    assert (s.first, s.last, s.questions) == (date(2025, 3, 1), date(2025, 3, 3), 7)
    assert s.outcomes == {"answer": 4, "clarify": 1, "unknown": 1, "out_of_scope": 1,
                          "heard_nothing": 1}
    assert s.answer_rate == pytest.approx(4 / 7)
    assert s.per_day == {"2025-03-01": {"answered": 3, "clarify": 1, "unknown": 2},
                         "2025-03-02": {"answered": 0, "clarify": 0, "unknown": 0},
                         "2025-03-03": {"answered": 1, "clarify": 0, "unknown": 0}}
    assert s.languages == {"en": 5, "fr": 1, "es": 1}
    assert s.exhibits == [("the-kiss", 3)] and s.faq == [("cloakroom", 1)]
    assert s.stages[0][:2] == ("asr", 2) and s.stages[1][:2] == ("answer", 5)
    assert [d[:4] for d in s.doubtful] == [("Where do I park?", "en", "cloakroom", 1)]


def test_an_empty_log_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_day(tmp_path / "insights", "2025-02-01", sample_turns("2025-02-01"))
    code, page, _, table = report(tmp_path, since="2025-03-01")
    assert code == 0
    assert "no turns logged since 2025-03-01" in capsys.readouterr().out
    assert "No turns logged since 2025-03-01." in page
    assert table.read_text().count("\n") == 1  # the header only


@pytest.fixture
def bad_since(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def test_a_bad_since_date_says_how_to_write_it(bad_since: Path) -> None:
    from kiosk.errors import KioskError

    with pytest.raises(KioskError, match="YYYY-MM-DD"):
        report(bad_since, since="1 March")


@pytest.mark.models
def test_a_realistic_sample_makes_a_report(tmp_path: Path, encoder: Any) -> None:
    from bench.insights_sample import make_sample

    end = datetime(2025, 3, 9, 17, 0, tzinfo=TZ)  # a Sunday; Monday 03-03 is closed
    turns = make_sample(DataDir(tmp_path), encoder, days=7, per_day=12, seed=3, end=end)
    logged = read_turns(tmp_path / "insights")
    assert len(logged) == turns > 40
    assert {t.lang for t in logged} >= {"en", "fr", "es"}
    assert "2025-03-03" not in {t.time[:10] for t in logged}
    code, page, _, table = report(tmp_path)
    assert code == 0 and "Not answered" in page
    assert len(list(csv.DictReader(table.read_text(encoding="utf-8").splitlines()))) == turns
