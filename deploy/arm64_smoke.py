"""The arm64 smoke test: run by deploy/test-arm64.sh inside an emulated arm64 Debian root.

One line per step with its wall time; exit status 1 if any step failed. Steps: the platform
(must be aarch64), imports, the ONNX question encoder answering a demo question through the real
answerer, the TinyDB content store, pyttsx3/espeak-ng voices and a WAV, the Korean Vosk model
(loading, and recognising an espeak-ng Korean utterance), one Kivy offscreen frame (PNG).

    python deploy/arm64_smoke.py --out DIR [--content PACK] [--any-arch]

Needs KIOSK_DATA_DIR with the encoder and vosk-ko installed (`kiosk models install`), and
KIOSK_CATALOG when the package is not run from a checkout. ``--any-arch`` lets it run on the
host too (to try the script itself quickly).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

# before anything imports Kivy: no display, no argument parsing, no console log
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="arm64-kivy-"))

QUESTION = "who painted the milkmaid"
FR_QUESTION = "qui a peint la laitière ?"
TTS_TEXT = "The Milkmaid was painted by Johannes Vermeer, around 1658."
KO_TEXT = "안녕하세요 감사합니다"
MIN_WAV_BYTES = 44 + 2 * 2205
ENCODER = "use-multilingual-v3-int8"
VOSK_KO = "vosk-ko"

failed: list[str] = []
state: dict[str, Any] = {}
T0 = time.monotonic()


def step(name: str, fn: Callable[[], str], needs: tuple[str, ...] = ()) -> None:
    """Run one step; print ``name  OK|FAIL|SKIP  seconds  detail``."""
    missing = [n for n in needs if n not in state]
    if missing:
        print(f"{name:<34} SKIP  {'':>8}  needs {', '.join(missing)} (failed above)", flush=True)
        failed.append(name)
        return
    start = time.monotonic()
    try:
        detail = fn()
        verdict = "OK  "
    except Exception as exc:  # every failure is reported, then the next step runs
        detail = f"{type(exc).__name__}: {exc}"
        verdict = "FAIL"
        failed.append(name)
        traceback.print_exc(file=sys.stderr)
    print(f"{name:<34} {verdict}  {time.monotonic() - start:7.2f} s  {detail}", flush=True)


def tts_to_wav(engine: Any, text: str, voice: str, path: Path) -> Path:
    """pyttsx3's save_to_file, waiting for the utterance to finish and a non-empty file (the
    gotchas kiosk/tts/espeak.py documents)."""
    finished: list[bool] = state.setdefault("tts_finished", [])
    if not state.get("tts_connected"):
        engine.connect("finished-utterance", lambda name, completed: finished.append(completed))
        state["tts_connected"] = True
    engine.setProperty("voice", voice)
    for _attempt in range(3):
        finished.clear()
        path.unlink(missing_ok=True)
        with contextlib.redirect_stdout(io.StringIO()):  # pyttsx3 prints "Audio saved to …"
            engine.save_to_file(text, str(path))
            engine.runAndWait()
            deadline = time.monotonic() + 10
            while not finished and time.monotonic() < deadline:
                time.sleep(0.01)
        if path.is_file() and path.stat().st_size > MIN_WAV_BYTES:
            return path
    raise RuntimeError(f"espeak-ng wrote no audio for {text!r} ({voice}) three times")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for PNG, WAVs, bundle")
    parser.add_argument("--content", type=Path,
                        default=Path(__file__).resolve().parent / "content" / "demo",
                        help="content pack (default: content/demo next to this script)")
    parser.add_argument("--any-arch", action="store_true", help="do not require aarch64")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    print(f"arm64 smoke test — {time.strftime('%Y-%m-%d %H:%M:%S')}; content {args.content}",
          flush=True)

    def platform_step() -> str:
        machine = platform.machine()
        libc = "-".join(platform.libc_ver())
        detail = f"{machine}, Python {platform.python_version()}, {libc}, {sys.executable}"
        if machine != "aarch64" and not args.any_arch:
            raise RuntimeError(f"not aarch64: {detail}")
        return detail
    step("python/platform", platform_step)

    # -- imports, one line each ---------------------------------------------------------------
    def importer(module: str, dist: str | None) -> Callable[[], str]:
        def run() -> str:
            from importlib.metadata import version
            mod = __import__(module, fromlist=["_"])
            where = Path(getattr(mod, "__file__", "") or "?").parent
            return f"{version(dist) if dist else ''} {where}".strip()
        return run

    for module, dist in (("numpy", "numpy"), ("onnxruntime", "onnxruntime"),
                         ("onnxruntime_extensions", "onnxruntime-extensions"),
                         ("tinydb", "tinydb"), ("ruamel.yaml", "ruamel.yaml"),
                         ("jsonschema", "jsonschema"), ("rapidfuzz", "rapidfuzz"),
                         ("cryptography", "cryptography"), ("pyttsx3", "pyttsx3"),
                         ("vosk", "vosk"), ("kivy", "Kivy"), ("kiosk", "gallery-kiosk"),
                         ("kiosk.runtime", None), ("kiosk.content.store", None),
                         ("kiosk.asr.vosk", None), ("kiosk.tts.espeak", None)):
        step(f"import {module}", importer(module, dist))

    from kiosk.paths import DataDir, resolve_data_dir

    data = DataDir(resolve_data_dir())

    # -- the question encoder and the real answerer ------------------------------------------
    def encoder_step() -> str:
        import onnxruntime as ort

        from kiosk.qa.encoder import load_encoder
        state["encoder"] = load_encoder(data, ENCODER)
        return f"{ENCODER}, onnxruntime {ort.__version__} {ort.get_available_providers()}"
    step("encoder load (ONNX + extensions)", encoder_step)

    def encode_step() -> str:
        vec = state["encoder"].encode([QUESTION])
        return f"1 question → {vec.shape[1]}-d vector, norm {float((vec[0] ** 2).sum()):.3f}"
    step("encoder: encode 1 question", encode_step, ("encoder",))

    bundle = out / "bundle"

    def build_step() -> str:
        from kiosk.content import bundle as bundles
        manifest = bundles.build(args.content, bundle, state["encoder"])
        state["bundle"] = bundle
        counts = manifest["counts"]
        return (f"{args.content.name}: {counts['exhibits']} exhibits, {counts['faq']} faq, "
                f"{counts['texts']} texts encoded → {bundle}")
    step("content build (encode every text)", build_step, ("encoder",))

    def tinydb_step() -> str:
        from kiosk.content.store import TinyDbStore
        store = TinyDbStore(state["bundle"])
        museum = store.museum().get("name", {}).get("en", "?")
        titles = [e.get("title", {}).get("en", e.get("id")) for e in store.exhibits()]
        if "The Milkmaid" not in titles:
            raise RuntimeError(f"The Milkmaid not among the exhibits {titles[:5]}…")
        return (f"{museum!r}: {len(store.exhibits())} exhibits, "
                f"{len(store.faq())} faq, {len(store.units())} units, vectors "
                f"{tuple(store.vectors().shape)}")
    step("TinyDB content load (TinyDbStore)", tinydb_step, ("bundle",))

    def answerer_step() -> str:
        from kiosk.runtime import open_answerer
        from kiosk.settings import load_settings
        answerer, content = open_answerer(load_settings(None), data, state["bundle"],
                                          encoder=state["encoder"])
        state["answerer"] = answerer
        return f"{content.label}: {len(content.units)} texts"
    step("open_answerer (verify + load bundle)", answerer_step, ("bundle",))

    def ask(text: str, lang: str, key: str) -> Callable[[], str]:
        def run() -> str:
            from kiosk.events import Question
            answer = state["answerer"].answer(Question(text, lang))
            state[key] = answer
            if "Vermeer" not in answer.text:
                raise RuntimeError(f"no Vermeer in the answer ({answer.kind}): {answer.text!r}")
            return (f"{answer.kind.value} ({answer.confidence:.2f}, {answer.exhibit_id}): "
                    f"{answer.text[:90]!r}")
        return run
    step(f"ask {QUESTION!r}", ask(QUESTION, "en", "answer"), ("answerer",))
    step(f"ask {FR_QUESTION!r}", ask(FR_QUESTION, "fr", "answer_fr"), ("answerer",))

    # -- speech synthesis ---------------------------------------------------------------------
    def voices_step() -> str:
        import pyttsx3
        engine = pyttsx3.init("espeak")
        state["tts"] = engine
        ids = [v.id for v in engine.getProperty("voices")]
        wanted = ["gmw/en-us", "roa/fr", "roa/es", "ko"]
        missing = [w for w in wanted if w not in ids and f"{w.split('/')[-1]}" not in ids]
        if missing:
            raise RuntimeError(f"voices missing: {missing} (of {len(ids)})")
        return f"{len(ids)} espeak-ng voices, incl. {', '.join(wanted)}"
    step("pyttsx3 voices (espeak-ng)", voices_step)

    def wav_step() -> str:
        from kiosk.audio.wav import read_wav
        path = tts_to_wav(state["tts"], TTS_TEXT, "gmw/en-us", out / "tts-en.wav")
        seconds = len(read_wav(path)) / 16000
        return f"{path.name}: {path.stat().st_size} bytes, {seconds:.2f} s of speech"
    step("pyttsx3 → WAV (en)", wav_step, ("tts",))

    def worker_step() -> str:
        from kiosk.tts.espeak import EspeakSynth
        synth = EspeakSynth(timeout_s=120)
        try:
            samples = synth.synthesize("Qui a peint La Laitière ?", "fr")
        finally:
            synth.close()
        return f"kiosk's worker process (spawn): {len(samples) / 16000:.2f} s of fr speech"
    if os.environ.get("ARM64_MODE", "binfmt") == "explicit":
        print(f"{'EspeakSynth (kiosk TTS worker)':<34} SKIP  {'':>8}  no binfmt_misc: an "
              "emulated process cannot start another", flush=True)
    else:
        step("EspeakSynth (kiosk TTS worker)", worker_step)

    # -- Vosk ----------------------------------------------------------------------------------
    def vosk_step() -> str:
        from importlib.metadata import version

        from kiosk.asr.vosk import VoskRecognizer
        from kiosk.models import get_spec, installed_dir
        folder = installed_dir(data, get_spec(VOSK_KO))
        state["vosk"] = VoskRecognizer(folder, "ko", VOSK_KO)
        return f"vosk {version('vosk')}, {VOSK_KO} from {folder}"
    step("Vosk load vosk-ko", vosk_step)

    def ko_step() -> str:
        from kiosk.audio.wav import read_wav
        path = tts_to_wav(state["tts"], KO_TEXT, "ko", out / "tts-ko.wav")
        audio = read_wav(path)
        start = time.monotonic()
        heard = state["vosk"].transcribe(audio).text
        took = time.monotonic() - start
        if not heard.strip():
            raise RuntimeError("Vosk heard nothing")
        return (f"espeak-ng said {KO_TEXT!r} ({len(audio) / 16000:.2f} s) → Vosk heard "
                f"{heard!r} in {took:.2f} s")
    step("Vosk recognise espeak-ng ko", ko_step, ("vosk", "tts"))

    # -- Kivy: one offscreen frame ------------------------------------------------------------
    def kivy_step() -> str:
        from kivy.config import Config
        Config.set("graphics", "width", "800")
        Config.set("graphics", "height", "480")
        from kivy.base import EventLoop
        from kivy.core.window import Window
        from kivy.graphics.opengl import GL_RENDERER, GL_VERSION, glGetString
        from kivy.uix.boxlayout import BoxLayout
        from kivy.uix.image import Image
        from kivy.uix.label import Label

        EventLoop.ensure_window()
        answer = state.get("answer")
        text = answer.text if answer is not None else "(no answer: see above)"
        root = BoxLayout(orientation="horizontal", padding=16, spacing=16)
        image = args.content / "images" / "the-milkmaid.png"
        if image.is_file():
            root.add_widget(Image(source=str(image), size_hint_x=0.4))
        label = Label(text=f"[b]arm64 smoke test[/b]\n\n{QUESTION}?\n\n{text}",
                      markup=True, font_size=20, halign="left", valign="middle")
        label.bind(size=lambda w, s: setattr(w, "text_size", s))
        root.add_widget(label)
        Window.clearcolor = (0.1, 0.12, 0.16, 1)
        Window.add_widget(root)
        for _ in range(5):
            EventLoop.idle()
        written = Path(Window.screenshot(name=str(out / "kivy-frame.png")))
        target = out / "kivy-frame.png"
        written.replace(target)
        renderer = glGetString(GL_RENDERER)
        version = glGetString(GL_VERSION)
        return (f"{Window.size[0]}×{Window.size[1]} → {target.name} "
                f"({target.stat().st_size} bytes); GL {version.decode()!s} on "
                f"{renderer.decode()!s}")
    step("Kivy offscreen frame → PNG", kivy_step)

    total = time.monotonic() - T0
    if failed:
        print(f"FAILED {len(failed)} step(s) in {total:.1f} s: {', '.join(failed)}", flush=True)
        return 1
    print(f"all steps passed in {total:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
