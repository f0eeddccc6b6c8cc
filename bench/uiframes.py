"""Frame intervals of the touchscreen app while turns run, and its cold start to the first
frame (sections of ``bench/soak.py``)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import kiosk.ui.harness  # noqa: E402, F401, I001 - first: Kivy's settings for the offscreen window
import numpy as np  # noqa: E402
from kivy.base import EventLoop  # noqa: E402
from kivy.clock import Clock  # noqa: E402

from bench.tables import Table  # noqa: E402
from bench.visitors import BatchRecognizer, Rig, Visits, build_rig  # noqa: E402
from kiosk.testing import (  # noqa: E402
    ScriptedRecognizer,
    WordSpeaker,
)

# -- frames while turns run -------------------------------------------------------------------


class FrameStamps:
    """When each frame ran (a clock callback every frame, like ``KioskApp.frames``)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._event = Clock.schedule_interval(lambda _dt: self.times.append(
            time.perf_counter()), 0)

    def intervals_ms(self) -> list[float]:
        return [(b - a) * 1000 for a, b in zip(self.times, self.times[1:], strict=False)]

    def close(self) -> None:
        self._event.cancel()


def frames_while(rig: Rig, start: Callable[[], None], turns: int,
                 prepare: Callable[[], None] = lambda: None) -> list[float]:
    """Frame intervals (ms) while ``turns`` turns run, each begun by ``start`` (a tap) on the
    screen ``prepare`` opens."""
    intervals: list[float] = []
    for _ in range(turns):
        rig.controller.reset()
        rig.kiosk.settle()
        prepare()
        rig.kiosk.settle()
        stamps = FrameStamps()
        start()
        while rig.controller.busy or not stamps.times:
            EventLoop.idle()  # what App.run's loop does: no sleeping between frames
        stamps.close()
        intervals += stamps.intervals_ms()
    return intervals


def frame_row(name: str, turns: int, intervals: list[float]) -> list[str]:
    values = np.array(intervals)
    return [name, str(turns), str(len(values)), f"{1000 / values.mean():.0f}",
            f"{np.percentile(values, 50):.1f}", f"{np.percentile(values, 95):.1f}",
            f"{values.max():.1f}"]


def frames_section(command: str) -> Table:
    """Frame intervals: idle, a tapped question (real answerer + speech), a voice turn with a
    recognizer that sleeps 2 s, a streaming voice turn at the pace of speech."""
    rig = build_rig(ScriptedRecognizer([]), WordSpeaker(0.02))
    visits = Visits(rig, seed=1)
    table = Table("frame intervals while turns run (offscreen 800×480, Kivy maxfps "
                  f"{int(Clock._max_fps)})", command,
                  ["", "turns", "frames", "frames/s", "p50 ms", "p95 ms", "max ms"])
    try:
        stamps = FrameStamps()
        rig.kiosk.frames(300)
        stamps.close()
        table.rows.append(frame_row("idle (attract screen)", 0, stamps.intervals_ms()))

        def exhibit() -> None:
            rig.controller.open_exhibit(rig.controller.pack.exhibits[0].id)

        def tapped() -> None:
            rig.kiosk.tap(rig.kiosk.ids("questions").children[-1])
        table.rows.append(frame_row("tapped question: real answerer, speech 20 ms/word", 10,
                                    frames_while(rig, tapped, 10, exhibit)))

        def spoken() -> None:
            visits.voice_turn(visits.question(), "fr")
        rig.recognizer.delay_s = 2.0
        rig.controller.pipeline.recognizer = BatchRecognizer(rig.recognizer)
        table.rows.append(frame_row("voice: recognizer sleeps 2 s, answer, speech", 3,
                                    frames_while(rig, spoken, 3)))
        rig.recognizer.delay_s = 0.0
        rig.controller.pipeline.recognizer = rig.recognizer
        rig.realtime = True
        table.rows.append(frame_row("voice: streaming at speech pace, answer, speech", 3,
                                    frames_while(rig, spoken, 3)))
        rig.realtime = False
    finally:
        rig.close()
    table.notes.append("an interval is the time between two frames of the app's loop "
                       "(EventLoop.idle, as App.run calls it); the turn runs on the "
                       "controller's worker thread")
    return table


# -- cold start ----------------------------------------------------------------------------------


COLD_START = """
import time
from pathlib import Path
from kiosk.paths import DataDir, resolve_data_dir
from kiosk.settings import Settings
from kiosk.ui.launch import build_kiosk, prepare_kivy
data = DataDir(resolve_data_dir())
prepare_kivy(data, fullscreen=False, size=(800, 480))
running = build_kiosk(Settings(), data, Path("content/demo"), voice=False, speak=False)
print("answerer", flush=True)
from kivy.core.window import Window
from kiosk.ui.app import KioskApp
app = KioskApp(running.controller, images=running.kiosk.root)
def first(*_):
    print("frame", flush=True)
    Window.unbind(on_flip=first)
    app.stop()
Window.bind(on_flip=first)
app.run()
"""


def cold_start() -> dict[str, float]:
    """Seconds from starting a new process to the answerer ready and to the first frame."""
    import os
    import tempfile

    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen",
           "KIVY_HOME": tempfile.mkdtemp(prefix="kiosk-kivy-")}
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", COLD_START], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert child.stdout is not None
    seen = {line.strip(): time.perf_counter() - start for line in child.stdout}
    child.wait(timeout=60)
    if "frame" not in seen:
        raise RuntimeError(f"the app drew no frame (exit status {child.returncode})")
    return seen


def cold_table(command: str, runs: int = 5) -> Table:
    times = [cold_start() for _ in range(runs)]
    table = Table(f"cold start of the app (new process, real answerer on content/demo, "
                  f"offscreen, no voice), {runs} runs", command,
                  ["seconds from process start to", "p50", "min", "max"])
    for key, label in (("answerer", "answerer ready (content, encoder)"),
                       ("frame", "first frame drawn")):
        values = [t[key] for t in times]
        table.rows.append([label, f"{statistics.median(values):.2f}", f"{min(values):.2f}",
                           f"{max(values):.2f}"])
    return table
