"""Screenshots of every screen of the real app, for the README and for checking layouts.

    .venv/bin/python scripts/screenshots.py                 # the README set → docs/screenshots/
    .venv/bin/python scripts/screenshots.py --sizes /tmp/s  # also 1024×600 … 1080×1920, large text

The app runs in SDL's offscreen window over content/demo with the real answerer (the installed
encoder); the microphone, the recognizer and the speaker are the fakes of ``kiosk.testing``,
held at a chosen moment so that the listening screen shows a level and a partial caption and
the answer screen is caught mid-caption. Each screen is reached by tapping its button, as a
visitor would. Files are named ``<screen>-<lang>-<orientation>.png``.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

import kiosk.ui.harness as harness  # before anything imports Kivy
from kiosk.audio.wav import RATE
from kiosk.paths import DataDir, resolve_data_dir
from kiosk.settings import InsightsSettings, Settings
from kiosk.testing import EnergyVad, SamplesMicrophone, ScriptedRecognizer, WordSpeaker
from kiosk.ui.launch import build_kiosk

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "content" / "demo"
OUT = ROOT / "docs" / "screenshots"
README_SIZES = {"landscape": (800, 480), "portrait": (480, 800)}
CHECK_SIZES = {"1024x600": (1024, 600), "1280x800": (1280, 800), "1920x1080": (1920, 1080),
               "1080x1920": (1080, 1920), "800x480": (800, 480), "480x800": (480, 800)}
EXHIBIT = "the-starry-night"
QUESTIONS = {
    # screen: {lang: question} — questions from content/demo that give that kind of reply
    "answer": {"en": "tell me about the starry night", "fr": "parlez-moi de la nuit étoilée",
               "es": "háblame de la noche estrellada"},
    # (an artist with two works: the scorer asks "which one?" for these two; in Spanish it
    # declines "háblame de Monet" today — see docs/ANSWERER.md)
    "clarify": {"en": "tell me about the Monet", "fr": "parle-moi de Monet",
                "es": "háblame de Monet"},
    "unknown": {"en": "what is the wifi password", "fr": "quel est le mot de passe du wifi",
                "es": "cuál es la contraseña del wifi"},
}


class Gate:
    """A point where a fake holds still until released (so a screen can be photographed)."""

    def __init__(self) -> None:
        self.armed = False
        self.reached = threading.Event()
        self._go = threading.Event()

    def arm(self) -> None:
        self.armed = True
        self.reached.clear()
        self._go.clear()

    def hold(self) -> None:
        if self.armed:
            self.reached.set()
            self._go.wait(30)
            self.armed = False

    def release(self) -> None:
        self.armed = False
        self._go.set()


class HeldMicrophone(SamplesMicrophone):
    """Speech-loud noise, held after ``hold_s`` seconds while the gate is armed."""

    def __init__(self, gate: Gate, hold_s: float = 1.3) -> None:
        noise = np.random.default_rng(0).normal(0, 0.12, int(2.4 * RATE)).astype(np.float32)
        super().__init__(noise, silence_s=1.5)
        self.gate, self.hold_s = gate, hold_s

    def chunks(self) -> Iterator[np.ndarray]:
        for index, chunk in enumerate(super().chunks()):
            yield chunk
            if (index + 1) / 10 >= self.hold_s:
                self.gate.hold()


class HeldSpeaker(WordSpeaker):
    """Tells words like ``WordSpeaker``; held at ``share`` of the text while the gate is armed."""

    def __init__(self, gate: Gate, share: float = 0.45) -> None:
        super().__init__()
        self.gate, self.share = gate, share

    def say(self, text: str, lang: str, on_word: Callable[[int, int], None] | None = None,
            ) -> bool:
        def told(start: int, end: int) -> None:
            if on_word is not None:
                on_word(start, end)
            if end >= self.share * len(text):
                self.gate.hold()
        return super().say(text, lang, told)


class Tour:
    """The real kiosk in the offscreen window, taken through every screen."""

    def __init__(self, size: tuple[int, int]) -> None:
        running = build_kiosk(Settings(insights=InsightsSettings(enabled=False)),
                              DataDir(resolve_data_dir()), CONTENT, voice=False, speak=False)
        self.controller = controller = running.controller
        self.mic_gate, self.speech_gate = Gate(), Gate()
        self.recognizer = ScriptedRecognizer([])
        controller.pipeline.speaker = HeldSpeaker(self.speech_gate)
        controller.pipeline.recognizer = self.recognizer
        controller.listen = lambda: (HeldMicrophone(self.mic_gate), EnergyVad())
        self.kiosk = harness.OffscreenKiosk(controller, images=running.kiosk.root, size=size)
        self.kiosk.app.voice = True

    def start(self, lang: str, size: tuple[int, int]) -> None:
        """A new visit in ``lang`` on a ``size`` window."""
        self.kiosk.resize(*size)
        self.controller.reset()
        self.kiosk.settle()
        self.kiosk.tap(self.kiosk.ids("languages").children[
            list(reversed(self.controller.languages)).index(lang)])
        self.kiosk.wait(lambda: self.kiosk.app.lang == lang)

    def spoken_turn(self, question: str, lang: str, hold_listening: bool = False,
                    hold_answer: bool = False) -> None:
        """Tap to talk, "say" ``question``; stop on the listening or answer screen if asked."""
        k, c = self.kiosk, self.controller
        self.recognizer.script.append((question, lang))
        if hold_listening:
            self.mic_gate.arm()
        button = k.ids("talk") if k.screen.name in ("attract", "exhibit") else k.ids("another")
        k.tap(button)
        if hold_listening:
            k.wait(lambda: self.mic_gate.reached.is_set() and k.screen.name == "listening"
                   and len(c.view.partial.split()) >= 3)
            k.frames(4)
            return
        self.finish_turn(hold_answer)

    def finish_turn(self, hold_answer: bool) -> None:
        k, c = self.kiosk, self.controller
        if hold_answer:
            self.speech_gate.arm()
        self.mic_gate.release()
        if hold_answer:
            k.wait(lambda: self.speech_gate.reached.is_set() and c.view.said > 0
                   and k.screen.name == c.view.screen.value)
            k.frames(4)
        else:
            k.settle()

    def release(self) -> None:
        self.mic_gate.release()
        self.speech_gate.release()
        self.kiosk.settle()

    def preferences(self, large_text: bool, high_contrast: bool) -> None:
        self.controller.set_preference("large_text", large_text)
        self.controller.set_preference("high_contrast", high_contrast)
        self.kiosk.wait(lambda: not self.kiosk.app._scheduled)
        self.kiosk.frames(3)

    def scenes(self, lang: str, size: tuple[int, int]) -> Iterator[str]:
        """Walk every screen; yields each screen's name while it is on show."""
        k = self.kiosk
        self.start(lang, size)
        yield "attract"
        self.spoken_turn(QUESTIONS["answer"][lang], lang, hold_listening=True)
        yield "listening"
        self.finish_turn(hold_answer=True)
        yield "answer"
        self.preferences(True, True)
        yield "answer-access"
        self.preferences(False, False)
        self.release()
        self.start(lang, size)  # a new visit: no work in mind, so the question is ambiguous
        self.spoken_turn(QUESTIONS["clarify"][lang], lang)
        yield "clarify"
        self.spoken_turn(QUESTIONS["unknown"][lang], lang)
        yield "unknown"
        k.tap(k.ids("browse"))
        k.settle()
        yield "browse"
        card = next(w for w in k.ids("grid").children if w.exhibit_id == EXHIBIT)
        k.ids("scroll").scroll_to(card, animate=False)
        k.frames(3)
        k.tap(card)
        k.settle()
        yield "exhibit"

    def screenshot(self, path: Path) -> Path:
        """The window's content as a PNG, drawn into its own framebuffer (SDL's offscreen
        window keeps the framebuffer of its first size, so reading it back after a resize
        gives garbage)."""
        self.kiosk.frames(3)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.kiosk.app.root.export_to_png(str(path))
        return path

    def close(self) -> None:
        self.release()
        self.kiosk.close()


def optimise(path: Path) -> None:
    """A 256-colour PNG: a third of the size, no visible change on these flat screens."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT,
                                              dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def shoot(tour: Tour, out: Path, langs: list[str], sizes: dict[str, tuple[int, int]],
          also_large: bool, optimised: bool) -> list[Path]:
    written = []
    for label, size in sizes.items():
        for lang in langs:
            for large in ([False, True] if also_large else [False]):
                for scene in tour.scenes(lang, size):
                    if large and scene != "answer-access":
                        tour.preferences(True, False)
                    suffix = "-large" if large and scene != "answer-access" else ""
                    path = tour.screenshot(out / f"{scene}-{lang}-{label}{suffix}.png")
                    if large and scene != "answer-access":
                        tour.preferences(False, False)
                    if optimised:
                        optimise(path)
                    written.append(path)
                    print(path.relative_to(out.parent) if out.is_relative_to(ROOT) else path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where the README set goes")
    parser.add_argument("--langs", default="en,fr", help="comma-separated (en, fr, es)")
    parser.add_argument("--sizes", type=Path, metavar="DIR",
                        help="also render every size, large text off and on, into DIR")
    args = parser.parse_args(argv)
    langs = [lang.strip() for lang in args.langs.split(",") if lang.strip()]
    started = time.monotonic()
    tour = Tour(README_SIZES["landscape"])
    try:
        written = shoot(tour, args.out, langs, README_SIZES, also_large=False, optimised=True)
        if args.sizes:
            written += shoot(tour, args.sizes, langs, CHECK_SIZES, also_large=True,
                             optimised=False)
    finally:
        tour.close()
    print(f"{len(written)} screenshots in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
