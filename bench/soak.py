"""Soak: thousands of simulated visits through the real touchscreen app; then frame times while
turns run, and the cold start to the first frame. Prints tables.

    .venv/bin/python bench/soak.py                       # 10,000 visits, frames, cold start
    .venv/bin/python bench/soak.py --conversations 300   # a shorter soak
    .venv/bin/python bench/soak.py --only frames,cold    # some sections (soak, frames, cold)

The real ``KioskApp`` in SDL's offscreen window (``kiosk.ui.harness``), driven by simulated
taps (``bench/visitors.py``; frames and cold start are ``bench/uiframes.py``), over the real
answerer (ONNX encoder) on content/demo. The microphone is fake (a noise burst, then silence,
through ``EnergyVad``); ``ScriptedRecognizer`` hears the pack's curated questions in fr/en/es
and some unknown or out-of-scope ones; ``WordSpeaker`` says the answers.
Each visit mixes tap-to-talk, tapped follow-ups, browse → a work → one of its questions,
clarify choices, cancel while listening, stop while speaking, a turn that hears nothing and
language changes, and ends with "Start again" and/or the idle reset (a fake clock, ticked).

The soak draws frames uncapped (Kivy's maxfps 0: the same loop, more frames per second, so
10,000 visits take about 40 minutes on 2 cores); the frames section keeps the app's 60.
RSS is compared after a warm-up (5 % of the visits) and at the end; widgets are the live
``Widget`` objects after the same closing visit. The warm-up ends with answers left on screen
while real time passes (scroll bars fade, the screen redraws): on this machine the picture is
drawn by Mesa's llvmpipe (software OpenGL, no GPU), whose pools grow by about 50 MB over the
first few dozen such redraws and then stay (without this, rare real-time steps in the soak
raised RSS in steps; with GALLIUM_DRIVER=softpipe they do not). Its cost is a row of the
table. Exit status 1 when RSS grew ≥ 5 %, threads, widgets or clock intervals grew, a visit
crashed, a fault was recorded or a check failed.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import kiosk.ui.harness  # noqa: E402, F401, I001 - first: Kivy's settings for the offscreen window
from kivy.animation import Animation  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.uix.widget import Widget  # noqa: E402

from bench.tables import Table, show  # noqa: E402
from bench.uiframes import cold_table, frames_section  # noqa: E402
from bench.visitors import Rig, Visits, build_rig  # noqa: E402

GROWTH_LIMIT = 0.05
"""RSS may grow less than this share between the warm-up and the end."""
DRIVER_WARM_UP = 40
"""Answers left on screen in real time at the end of the warm-up."""

# -- what to measure -------------------------------------------------------------------------


def status_kb(field_name: str) -> int:
    """A line of /proc/self/status, in kB (VmRSS now, VmHWM at peak)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field_name))


@dataclass(frozen=True)
class Probe:
    """The process and the window at one moment (after a full garbage collection)."""

    rss_kb: int
    """Resident memory."""
    threads: int
    """Live Python threads."""
    window_widgets: int
    """Widgets in the window's tree (the screen shown and everything in it)."""
    live_widgets: int
    """Widget objects alive anywhere (every screen, their lists, anything leaked)."""
    clock_intervals: int
    """Repeating events on Kivy's clock (one-shot ones come and go; a leaked interval stays)."""
    objects: int
    """Objects the garbage collector tracks."""


def _is_widget(thing: object) -> bool:
    try:
        return isinstance(thing, Widget)
    except ReferenceError:  # a weak proxy whose object is gone
        return False


def _animating(event: object) -> bool:
    """An Animation in flight (a scroll bar fading): repeating only until it ends."""
    callback = event.get_callback()  # type: ignore[attr-defined]
    return isinstance(getattr(callback, "__self__", None), Animation)


def probe() -> Probe:
    gc.collect()
    objects = gc.get_objects()
    live = sum(1 for o in objects if _is_widget(o))
    in_window = sum(sum(1 for _ in child.walk(restrict=True)) for child in Window.children)
    return Probe(status_kb("VmRSS"), threading.active_count(), in_window, live,
                 sum(1 for e in Clock.get_events() if e.loop and not _animating(e)),
                 len(objects))


class FaultLog(logging.Handler):
    """Counts the kiosk's warnings and errors (a failed turn logs one)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()}")



# -- the soak ----------------------------------------------------------------------------------


@dataclass
class SoakResult:
    visits: Visits
    measured: int
    """Visits after the warm-up."""
    start: Probe
    end: Probe
    turns: int
    seconds: float
    peak_kb: int
    faults_logged: list[str]
    rss_trend: list[int]
    driver_kb: int = 0
    driver_answers: int = 0
    """RSS added by the answers left on screen at the end of the warm-up."""

    @property
    def growth(self) -> float:
        return (self.end.rss_kb - self.start.rss_kb) / self.start.rss_kb

    @property
    def problems(self) -> list[str]:
        """Why the soak failed (empty when it passed)."""
        s, e, v = self.start, self.end, self.visits
        out = [f"RSS grew {self.growth * 100:.1f} %"] if self.growth >= GROWTH_LIMIT else []
        out += [f"{name} grew {a} → {b}" for name, a, b in (
            ("threads", s.threads, e.threads), ("window widgets", s.window_widgets,
             e.window_widgets), ("live widgets", s.live_widgets, e.live_widgets),
            ("clock intervals", s.clock_intervals, e.clock_intervals)) if b > a]
        out += [f"{len(v.crashes)} crashes"] if v.crashes else []
        out += [f"{len(v.faults)} faults"] if v.faults else []
        out += [f"{len(v.failed)} failed checks"] if v.failed else []
        return out


def soak(rig: Rig, conversations: int, warm_up: int | None = None, seed: int = 0,
         progress: Callable[[int, float, int], None] | None = None,
         driver_warm_up: int = DRIVER_WARM_UP) -> SoakResult:
    """``conversations`` visits; the probes after ``warm_up`` of them (5 %, ≥ 20) and at the
    end, each after the same closing visit."""
    visits = Visits(rig, seed)
    log = FaultLog()
    logging.getLogger("kiosk").addHandler(log)
    warm_up = max(20, conversations // 20) if warm_up is None else warm_up
    max_fps = Clock._max_fps
    Clock._max_fps = 0.0  # the same loop, uncapped (Kivy reads maxfps only at start-up)
    try:
        for _ in range(warm_up):
            visits.visit()
        before_driver = status_kb("VmRSS")
        visits.answers_left_on_screen(driver_warm_up)
        driver_kb = status_kb("VmRSS") - before_driver
        visits.closing_visit()
        start, turns0, t0 = probe(), rig.controller.turns, time.perf_counter()
        trend = []
        for i in range(conversations - warm_up):
            visits.visit()
            if progress and (i + 1) % max(1, (conversations - warm_up) // 10) == 0:
                trend.append(status_kb("VmRSS"))
                progress(i + 1, time.perf_counter() - t0, trend[-1])
        seconds = time.perf_counter() - t0
        visits.closing_visit()
        turns = rig.controller.turns - turns0
        end = probe()
    finally:
        Clock._max_fps = max_fps
        logging.getLogger("kiosk").removeHandler(log)
    return SoakResult(visits, conversations - warm_up, start, end, turns, seconds,
                      status_kb("VmHWM"), log.records, trend, driver_kb, driver_warm_up)


def soak_table(result: SoakResult, command: str) -> Table:
    s, e, v = result.start, result.end, result.visits
    table = Table(f"soak: {v.steps['visits']} visits through the real app (offscreen), real "
                  "answerer on content/demo, fake mic/recognizer/speaker", command,
                  ["", "after warm-up", "end", "change"])

    def row(name: str, a: int, b: int, mb: bool = False) -> None:
        if mb:
            table.rows.append([f"{name} (MB)", f"{a / 1024:.1f}", f"{b / 1024:.1f}",
                               f"{(b - a) / a * 100:+.1f} %"])
        else:
            table.rows.append([name, str(a), str(b), f"{b - a:+d}"])

    row("RSS (VmRSS)", s.rss_kb, e.rss_kb, mb=True)
    row("threads", s.threads, e.threads)
    row("widgets in the window tree", s.window_widgets, e.window_widgets)
    row("live Widget objects", s.live_widgets, e.live_widgets)
    row("clock intervals (repeating events)", s.clock_intervals, e.clock_intervals)
    row("Python objects (gc)", s.objects, e.objects)
    table.notes += [
        f"{result.measured} visits measured after {v.steps['visits'] - result.measured} of "
        f"warm-up: {result.turns} turns, {result.seconds:.0f} s, "
        f"{result.measured / result.seconds:.1f} visits/s; peak RSS (VmHWM) "
        f"{result.peak_kb / 1024:.1f} MB",
        f"end of the warm-up: {result.driver_answers} answers left on screen 1.2 s each added "
        f"{result.driver_kb / 1024:+.1f} MB (the GL driver's pools; see the docstring)",
        "RSS at each tenth (MB): " + " ".join(f"{kb / 1024:.1f}" for kb in result.rss_trend),
        "visits by kind: " + ", ".join(f"{k} {v.steps[k]}" for k in Visits.KINDS),
        "steps: " + ", ".join(f"{k} {n}" for k, n in v.steps.items()
                              if k not in Visits.KINDS and k != "visits"),
        f"crashes {len(v.crashes)}, faults recorded (controller.errors) {len(v.faults)}, "
        f"warnings logged {len(result.faults_logged)}, failed checks {len(v.failed)}",
        *[f"  {line}" for line in (v.crashes + v.faults + v.failed)[:8]],
        "verdict: " + ("; ".join(result.problems) or
                       f"ok (RSS grew < {GROWTH_LIMIT * 100:.0f} %; nothing else grew)"),
    ]
    return table


# -- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000, help="visits to soak")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", default="soak,frames,cold", help="sections, comma-separated")
    args = parser.parse_args(argv)
    sections = set(args.only.split(","))
    command = ".venv/bin/python bench/soak.py" + (f" --conversations {args.conversations}"
                                                  if args.conversations != 10_000 else "")
    status = 0
    if "soak" in sections:
        rig = build_rig()

        def progress(done: int, seconds: float, rss_kb: int) -> None:
            print(f"  … {done} visits, {seconds:.0f} s, {done / seconds:.1f}/s, "
                  f"RSS {rss_kb / 1024:.1f} MB", file=sys.stderr, flush=True)
        try:
            result = soak(rig, args.conversations, seed=args.seed, progress=progress)
        finally:
            rig.close()
        show(soak_table(result, f"{command} --only soak"))
        status = 1 if result.problems else 0
    if "frames" in sections:
        show(frames_section(".venv/bin/python bench/soak.py --only frames"))
    if "cold" in sections:
        show(cold_table(".venv/bin/python bench/soak.py --only cold"))
    return status


if __name__ == "__main__":
    sys.exit(main())
