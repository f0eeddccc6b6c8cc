"""The visitor-insights log: one record per conversation turn, written by one thread.

Privacy first. A turn is stored as the fields of ``Turn`` and nothing else: never audio, no
identifier of a visitor, a session or a kiosk, nothing that links one turn to the next. Turns
are kept ``[insights] retention_days`` days, then deleted with their whole day file.

Layout: ``<data dir>/insights/YYYY-MM-DD.json``, one TinyDB file per local day (table
``turns``). TinyDB rewrites its whole file on every write and allows one writer, so each day's
file stays small, retention deletes whole old files, and only the writer thread touches them:
``observe`` (called on the pipeline's thread) puts a record on a queue and returns at once.
Each write goes to a temporary file then replaces the day file, so a power cut leaves the old
file or the new one; a file found damaged anyway is set aside (``.damaged``) and a new one begun.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage

from kiosk.atomic import write_text_atomic
from kiosk.events import (
    Answered,
    AnswerKind,
    Caption,
    HeardNothing,
    Level,
    PartialTranscript,
    PipelineEvent,
    SpeakingStarted,
)
from kiosk.paths import DataDir
from kiosk.settings import InsightsSettings

log = logging.getLogger(__name__)

TABLE = "turns"
HEARD_NOTHING = "heard_nothing"
OUTCOMES = (AnswerKind.ANSWER.value, AnswerKind.CLARIFY.value, AnswerKind.UNKNOWN.value,
            HEARD_NOTHING)

Store = Callable[[Path, Sequence[dict[str, Any]]], None]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Turn:
    """One logged turn: exactly what is stored, nothing else."""

    time: str
    """Local time it was answered, ISO 8601 to the second with the UTC offset."""
    lang: str
    """Language of the question ('' when nothing was heard)."""
    text: str
    """The question as typed, tapped or recognised ('' when nothing was heard)."""
    outcome: str
    """answer, clarify, unknown or heard_nothing."""
    out_of_scope: bool = False
    """Declined because the question is not about the museum."""
    source: str | None = None
    """The exhibit or FAQ id the reply came from, if any."""
    source_kind: str | None = None
    """qa, fact, faq, description or reply."""
    confidence: float | None = None
    """The answerer's score, 0-1."""
    timings_ms: dict[str, float] = field(default_factory=dict)
    """Milliseconds each stage took (asr, answer, end_of_speech_to_voice)."""

    @property
    def day(self) -> date:
        return date.fromisoformat(self.time[:10])

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Turn:
        """A stored record back as a Turn (KeyError/TypeError/ValueError when malformed)."""
        timings = {str(k): float(v) for k, v in dict(record.get("timings_ms") or {}).items()}
        confidence = record.get("confidence")
        date.fromisoformat(str(record["time"])[:10])  # a bad time raises here
        return cls(time=str(record["time"]), lang=str(record.get("lang") or ""),
                   text=str(record.get("text") or ""), outcome=str(record["outcome"]),
                   out_of_scope=bool(record.get("out_of_scope")),
                   source=record.get("source"), source_kind=record.get("source_kind"),
                   confidence=None if confidence is None else float(confidence),
                   timings_ms=timings)


def turn_from_event(event: PipelineEvent, now: datetime) -> Turn | None:
    """The record of an ANSWER or HEARD_NOTHING event; None for any other event."""
    stamp = now.isoformat(timespec="seconds")
    if isinstance(event, HeardNothing):
        return Turn(time=stamp, lang="", text="", outcome=HEARD_NOTHING)
    if not isinstance(event, Answered):
        return None
    answer = event.answer
    return Turn(time=stamp, lang=answer.lang, text=event.text, outcome=answer.kind.value,
                out_of_scope=answer.out_of_scope, source=answer.source.ref,
                source_kind=answer.source.kind.value,
                confidence=round(float(answer.confidence), 4),
                timings_ms={k: round(float(v), 1) for k, v in event.timings_ms.items()})


def insights_dir(data: DataDir | Path) -> Path:
    """Where the day files live."""
    root = data.root if isinstance(data, DataDir) else Path(data)
    return root / "insights"


def file_day(path: Path) -> date | None:
    """The day a file of the insights folder holds (from its name), None if not a day file."""
    try:
        return date.fromisoformat(path.name[:10])
    except ValueError:
        return None


class AtomicJSONStorage(Storage):  # type: ignore[misc]
    """TinyDB's JSON storage, but written to a temporary file that then replaces the old one."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        if not self.path.exists():
            return None
        with self.path.open(encoding="utf-8") as f:
            data: dict[str, dict[str, Any]] = json.load(f)
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        write_text_atomic(self.path, json.dumps(data, ensure_ascii=False))

    def close(self) -> None:
        pass


def append_turns(path: Path, records: Sequence[dict[str, Any]]) -> None:
    """Add records to one day's TinyDB file (a damaged file is set aside first)."""
    try:
        AtomicJSONStorage(path).read()
    except ValueError as exc:
        aside = path.with_name(f"{path.stem}.damaged-{datetime.now():%H%M%S}.json")
        log.warning("insights: %s is damaged (%s) — set aside as %s", path, exc, aside.name)
        os.replace(path, aside)
    db = TinyDB(path, storage=AtomicJSONStorage)
    try:
        db.table(TABLE).insert_multiple(list(records))
    finally:
        db.close()


def _local_now() -> datetime:
    return datetime.now().astimezone()


_STOP = object()


class InsightsLog:
    """Listens to pipeline events and logs turns on its own writer thread.

    ``observe`` never waits on the disk. ``close`` writes what is queued and stops the thread.
    With ``enabled = false`` it does nothing and creates no file or folder.
    """

    def __init__(self, data: DataDir | Path, settings: InsightsSettings,
                 clock: Clock = _local_now, store: Store = append_turns,
                 max_queued: int = 10_000, wake_s: float = 600.0) -> None:
        self.folder = insights_dir(data)
        self.settings = settings
        self.enabled = settings.enabled
        self.clock = clock
        self.store = store
        self.dropped = 0
        """Turns not logged because the queue was full (the disk stalled for long)."""
        self._wake_s = wake_s
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queued)
        self._lock = threading.Lock()
        self._pending: tuple[Turn, Answered] | None = None
        self._purged: date | None = None
        self._closed = False
        self._thread: threading.Thread | None = None
        if not self.enabled:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self.purge()
        self._thread = threading.Thread(target=self._write_loop, name="kiosk-insights",
                                        daemon=True)
        self._thread.start()

    def observe(self, event: PipelineEvent) -> None:
        """A pipeline listener. An ANSWER is held until its turn ends (the voice latency is
        added to its timings while it is spoken), then queued; HEARD_NOTHING is queued too."""
        if not self.enabled or isinstance(event, Level | Caption | SpeakingStarted |
                                          PartialTranscript):
            return
        with self._lock:
            if self._closed:
                return
            self._finish_pending()
            turn = turn_from_event(event, self.clock())
            if turn is None:
                return
            if isinstance(event, Answered):
                self._pending = (turn, event)
            else:
                self._put(turn)

    def purge(self, today: date | None = None) -> list[Path]:
        """Delete the day files older than the retention; returns what was deleted."""
        today = today or self.clock().date()
        self._purged = today
        if not self.folder.is_dir():
            return []
        oldest = today - timedelta(days=max(self.settings.retention_days, 0))
        removed = []
        for path in sorted(self.folder.iterdir()):
            day = file_day(path)
            if day is not None and day < oldest and path.is_file():
                try:
                    path.unlink()
                    removed.append(path)
                except OSError as exc:
                    log.warning("insights: cannot delete %s (%s)", path, exc)
        if removed:
            log.info("insights: %d day file(s) past %d days deleted", len(removed),
                     self.settings.retention_days)
        return removed

    def close(self, timeout_s: float = 5.0) -> None:
        """Write what is queued (including the turn in progress) and stop the writer."""
        with self._lock:
            if self._closed:
                return
            self._finish_pending()
            self._closed = True
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout_s)

    # -- inside ----------------------------------------------------------------------------
    def _finish_pending(self) -> None:
        if self._pending is None:
            return
        turn, event = self._pending
        self._pending = None
        timings = {k: round(float(v), 1) for k, v in event.timings_ms.items()}
        self._put(Turn(**{**asdict(turn), "timings_ms": timings}))

    def _put(self, turn: Turn) -> None:
        try:
            self._queue.put_nowait(turn)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1:
                log.warning("insights: the log is not keeping up with the disk; turns dropped")

    def _write_loop(self) -> None:
        while True:
            try:
                batch = [self._queue.get(timeout=self._wake_s)]
            except queue.Empty:
                batch = []
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write([t for t in batch if isinstance(t, Turn)])
            try:
                if self.clock().date() != self._purged:
                    self.purge()
            except Exception:  # noqa: BLE001 — the log must never stop the kiosk
                log.exception("insights: purge failed")
            if any(item is _STOP for item in batch):
                return

    def _write(self, turns: Iterable[Turn]) -> None:
        by_day: dict[date, list[dict[str, Any]]] = {}
        for turn in turns:
            by_day.setdefault(turn.day, []).append(asdict(turn))
        for day, records in sorted(by_day.items()):
            path = self.folder / f"{day.isoformat()}.json"
            try:
                self.store(path, records)
            except Exception as exc:  # noqa: BLE001 — a full or failing disk loses turns only
                log.warning("insights: %d turn(s) not written to %s (%s)", len(records), path,
                            exc)
