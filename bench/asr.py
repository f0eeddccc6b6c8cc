"""Speech recognition on real speech: word error rate and time per utterance, per language.

    .venv/bin/python bench/asr.py            # Whisper base, beam 1 and 5, language fixed
    .venv/bin/python bench/asr.py --detect   # also with the language detected
    .venv/bin/python bench/asr.py --hotwords 40   # also with the demo pack's names as hotwords
    .venv/bin/python bench/asr.py --windows  # short window: padding x WER x time x loops
    .venv/bin/python bench/asr.py --windows --half tune   # the half the settings were chosen on

Reads ../shared/eval/audio (FLEURS en/fr/es read speech, LibriSpeech/leopard sentences, the
rhasspy questions). ``--windows`` also makes short museum questions with SVOX Pico
(py-nanotts) when it is installed. Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jiwer  # noqa: E402
import numpy as np  # noqa: E402

from kiosk.asr.whisper import WhisperRecognizer, load_whisper, looping  # noqa: E402
from kiosk.audio.wav import RATE, read_wav  # noqa: E402
from kiosk.paths import DataDir, resolve_data_dir  # noqa: E402

AUDIO = ROOT.parent / "shared" / "eval" / "audio"
LANGS = ("en", "fr", "es")
PADS = (0.5, 1.0, 2.0, 3.0, 4.0)

QUESTIONS = {
    "en": ["Who painted the water lilies?", "When was this painting made?",
           "Where are the toilets?", "What time does the museum close?",
           "Is there a cafe in the museum?", "Tell me more about this statue.",
           "How old is this vase?", "Can I take photos here?",
           "Which room has the impressionists?", "What is this made of?"],
    "fr": ["Qui a peint les nymphéas ?", "Quand ce tableau a-t-il été peint ?",
           "Où sont les toilettes ?", "À quelle heure ferme le musée ?",
           "Y a-t-il un café dans le musée ?", "Parlez-moi de cette statue.",
           "Quel âge a ce vase ?", "Est-ce que je peux prendre des photos ?",
           "Dans quelle salle sont les impressionnistes ?", "En quoi est-ce fait ?"],
    "es": ["¿Quién pintó los nenúfares?", "¿Cuándo se pintó este cuadro?",
           "¿Dónde están los baños?", "¿A qué hora cierra el museo?",
           "¿Hay una cafetería en el museo?", "Háblame de esta estatua.",
           "¿Qué edad tiene este jarrón?", "¿Puedo hacer fotos aquí?",
           "¿En qué sala están los impresionistas?", "¿De qué está hecho esto?"],
}
"""Short questions of the kind a visitor asks, said by Pico for the ``--windows`` table."""

PICO_VOICES = {"en": "en-US", "fr": "fr-FR", "es": "es-ES"}
GUESS_SILENCE_S = 0.25
"""Silence after a Pico question: what a stream's guess sees (``asr.whisper_pause_ms``)."""


def words(text: str) -> str:
    """Lowercase, punctuation out (FLEURS transcripts are written that way)."""
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def half(name: str) -> str:
    """``tune`` or ``held-out``, from a hash of the clip's name: fixed before any result."""
    return "tune" if hashlib.sha256(name.encode()).digest()[0] % 2 == 0 else "held-out"


Clip = dict[str, Any]
"""file, lang, transcript, audio (16 kHz floats), set (real or pico)."""


def real_clips() -> list[Clip]:
    """The outside recordings whose transcript is known (not the one guessed from a name)."""
    manifest = json.loads((AUDIO / "manifest.json").read_text())
    return [{**c, "set": "real", "audio": read_wav(AUDIO / c["file"], max_seconds=60.0)}
            for c in manifest if c.get("transcript") and not c["transcript"].startswith("(")]


PICO = """
import base64, json, sys
from py_nanotts import NanoTTS
said = [base64.b64encode(NanoTTS().speak(text, voice=voice)).decode()
        for voice, text in json.load(sys.stdin)]
print(json.dumps(said))
"""
"""Pico in a fresh interpreter: seen here, the same text comes out at another length after
the process has read some WAV files (the engine's output depends on the process's state)."""


def pico_clips() -> list[Clip]:
    """QUESTIONS said by SVOX Pico; none when py-nanotts is not installed."""
    asked = [(lang, i, text) for lang, texts in QUESTIONS.items() for i, text in enumerate(texts)]
    done = subprocess.run([sys.executable, "-c", PICO], capture_output=True, text=True,
                          input=json.dumps([(PICO_VOICES[lang], t) for lang, _, t in asked]))
    if done.returncode != 0:
        print(f"no Pico questions ({done.stderr.strip().splitlines()[-1:]})")
        return []
    clips = []
    for (lang, i, text), pcm in zip(asked, json.loads(done.stdout), strict=True):
        samples = np.frombuffer(base64.b64decode(pcm), np.int16).astype(np.float32) / 32768
        audio = np.concatenate([samples, np.zeros(int(GUESS_SILENCE_S * RATE), np.float32)])
        clips.append({"file": f"pico/{lang}-{i:02d}", "lang": lang, "transcript": text,
                      "set": "pico", "audio": audio})
    return clips


def baseline(args: argparse.Namespace, clips: list[Clip], data: DataDir) -> None:
    runs = [(1, False, 0), (5, False, 0)] + ([(1, True, 0)] if args.detect else []) \
        + ([(1, False, args.hotwords)] if args.hotwords else [])
    names: list[str] = []
    if args.hotwords:
        from kiosk.asr.vocabulary import phrases
        from kiosk.content.loader import read_pack

        names = phrases(read_pack(ROOT / "content" / "demo"), args.hotwords)
    print(f"{'beam':>4} {'hot':>3} {'language':<9} {'lang':<4} {'clips':>5} {'WER':>7} "
          f"{'audio s':>8} {'mean s':>7} {'p95 s':>6} {'RTF':>5} {'detected right':>14}")
    for beam, detect, hot in runs:
        recognizer = load_whisper(data, beam_size=beam, window=args.window)
        recognizer.transcribe(clips[0]["audio"], "en")  # warm-up
        for lang in LANGS:
            rows = [c for c in clips if c["lang"] == lang]
            refs, hyps, secs, right = [], [], [], 0
            for clip in rows:
                start = time.perf_counter()
                heard = recognizer.transcribe(clip["audio"], None if detect else lang,
                                              names[:hot])
                secs.append(time.perf_counter() - start)
                refs.append(words(clip["transcript"]))
                hyps.append(words(heard.text))
                right += heard.lang == lang
            length = sum(len(c["audio"]) for c in rows) / RATE
            print(f"{beam:>4} {hot:>3} {'detected' if detect else 'fixed':<9} {lang:<4} "
                  f"{len(rows):>5} "
                  f"{jiwer.wer(refs, hyps) * 100:>6.1f}% {length:>8.1f} "
                  f"{np.mean(secs):>7.2f} {np.percentile(secs, 95):>6.2f} "
                  f"{sum(secs) / length:>5.2f} {right:>9}/{len(rows)}")


# -- the short window ----------------------------------------------------------------------

Config = tuple[str, float, bool]
"""window, padding in seconds (short), timestamps."""


def configure(recognizer: WhisperRecognizer, config: Config, detect: bool) -> None:
    recognizer.window, recognizer.pad_s, recognizer.timestamps = config  # type: ignore[assignment]
    recognizer.detect_window = config[0] if detect else "short"  # type: ignore[assignment]


def label(config: Config) -> str:
    window, pad, stamps = config
    return "full 30 s" if window == "full" else f"pad {pad:g} s{' ts' if stamps else ''}"


def measure(recognizer: WhisperRecognizer, clips: list[Clip], configs: list[Config],
            detect: bool) -> dict[Config, list[dict[str, Any]]]:
    """Every clip through every config in turn (so a busy machine slows them alike)."""
    out: dict[Config, list[dict[str, Any]]] = {c: [] for c in configs}
    for n, clip in enumerate(clips, 1):
        print(f"\r  {n}/{len(clips)} {clip['file']:<32}", end="", file=sys.stderr, flush=True)
        for config in configs:
            configure(recognizer, config, detect)
            fallbacks = recognizer.fallbacks
            start = time.perf_counter()
            heard = recognizer.transcribe(clip["audio"], None if detect else clip["lang"])
            out[config].append({"clip": clip, "s": time.perf_counter() - start,
                                "text": heard.text, "lang": heard.lang,
                                "fell_back": recognizer.fallbacks > fallbacks})
    print("\r" + " " * 40 + "\r", end="", file=sys.stderr)
    return out


def wer(rows: list[dict[str, Any]], lang: str | None = None) -> str:
    chosen = [r for r in rows if lang in (None, r["clip"]["lang"])]
    if not chosen:
        return "-"
    error = jiwer.wer([words(r["clip"]["transcript"]) for r in chosen],
                      [words(r["text"]) for r in chosen])
    return f"{error * 100:.1f}"


def window_table(results: dict[Config, list[dict[str, Any]]], title: str,
                 detect: bool) -> None:
    full = next(c for c in results if c[0] == "full")
    print(f"\n{title}")
    print(f"{'window':<11} {'clips':>5} {'WER en':>7} {'fr':>6} {'es':>6} {'all':>6} "
          f"{'p50 s':>6} {'p95 s':>6} {'x full':>6} {'loops':>5} "
          + ("lang right" if detect else "same words as full"))
    for config, rows in results.items():
        secs = [r["s"] for r in rows]
        speedup = np.median([f["s"] / r["s"] for f, r in zip(results[full], rows,
                                                                  strict=True)])
        same = sum(words(r["text"]) == words(f["text"]) for f, r in zip(results[full], rows,
                                                                      strict=True))
        right = sum(r["lang"] == r["clip"]["lang"] for r in rows)
        print(f"{label(config):<11} {len(rows):>5} "
              + " ".join(f"{wer(rows, lang):>6}" for lang in LANGS)
              + f" {wer(rows):>6} {np.percentile(secs, 50):>6.2f} "
              f"{np.percentile(secs, 95):>6.2f} {speedup:>6.1f} "
              f"{sum(r['fell_back'] for r in rows):>5} "
              + (f"{right:>6}/{len(rows)}" if detect else f"{same:>10}/{len(rows)}"))


def token_rates(recognizer: WhisperRecognizer, rows: list[dict[str, Any]]) -> str:
    """Tokens per second of audio that the full window's transcripts needed (+2 timestamps)."""
    rates = [(len(recognizer._tokenizer(r["clip"]["lang"]).encode(" " + r["text"])) + 2)
             / (len(r["clip"]["audio"]) / RATE) for r in rows]
    return f"p50 {np.median(rates):.1f}, p95 {np.percentile(rates, 95):.1f}, max {max(rates):.1f}"


def windows(args: argparse.Namespace, clips: list[Clip], data: DataDir) -> None:
    recognizer = load_whisper(data, beam_size=1)
    recognizer.transcribe(clips[0]["audio"], "en")  # warm-up
    configs: list[Config] = [("full", 0.0, False)] \
        + [("short", pad, stamps) for pad in PADS for stamps in (False, True)]
    halves = ["tune", "held-out"] if args.half == "both" else [args.half]
    for which in halves:
        for kind in ("real", "pico"):
            chosen = [c for c in clips if c["set"] == kind and half(c["file"]) == which]
            if not chosen:
                continue
            results = measure(recognizer, chosen, configs, detect=False)
            seconds = sorted(len(c["audio"]) / RATE for c in chosen)
            window_table(results, f"{which} half, {kind} speech: {len(chosen)} clips of "
                         f"{seconds[0]:.1f}-{seconds[-1]:.1f} s, language fixed", False)
            loops_in_full = sum(looping(r["text"]) for r in results[configs[0]])
            print(f"tokens per second of audio in the full window's text: "
                  f"{token_rates(recognizer, results[configs[0]])}; "
                  f"full-window texts the loop guard flags: {loops_in_full}")
        if args.detect:
            chosen = [c for c in clips if half(c["file"]) == which]
            detecting = [("full", 0.0, False)] + [("short", pad, True) for pad in PADS]
            window_table(measure(recognizer, chosen, detecting, detect=True),
                         f"{which} half, all speech: {len(chosen)} clips, language detected",
                         True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detect", action="store_true", help="also detect the language")
    parser.add_argument("--hotwords", type=int, default=0,
                        help="also run with this many demo-pack names as Whisper hotwords")
    parser.add_argument("--window", choices=("short", "full"), default="short",
                        help="the window of the beam/detect/hotwords table")
    parser.add_argument("--windows", action="store_true",
                        help="instead: the short window's padding, timestamps and loop guard "
                             "against the full window, on the tune and held-out halves")
    parser.add_argument("--half", choices=("tune", "held-out", "both"), default="both",
                        help="with --windows: which half of the clips")
    args = parser.parse_args()
    if not AUDIO.is_dir():
        print(f"no outside audio at {AUDIO}: nothing to measure")
        return
    clips = real_clips()
    data = DataDir(resolve_data_dir())
    flags = " ".join(a for a in sys.argv[1:])
    print(f"$ .venv/bin/python bench/asr.py {flags}".rstrip())
    print(f"{len(clips)} clips with transcripts, {sum(len(c['audio']) for c in clips) / RATE:.0f}"
          " s of speech; Whisper base int8, 2 threads\n")
    if args.windows:
        windows(args, clips + pico_clips(), data)
        print("\nWER %: jiwer over lowercased words without punctuation; p50/p95: seconds per "
              "utterance; x full: median of (full window's time / this time), clip by clip, "
              "run side by side; loops: short decodes the guard sent back to the full window.")
        return
    baseline(args, clips, data)
    print("\nWER: jiwer over lowercased words without punctuation; RTF: seconds of computing per"
          " second of speech.")


if __name__ == "__main__":
    main()
