"""Voice turn latency on real speech, the streaming pipeline beside a sequential baseline.

    .venv/bin/python bench/voice.py

For each clip (real recorded speech from ../shared/eval/audio, then 1.5 s of silence), fed in
100 ms chunks as a microphone would: the end-pointer's wait after the end of speech (audio
time), then recognition, answering and synthesis (computing time).
- streaming (the kiosk): the answer's first sentence is synthesised and played first;
- sequential baseline: the whole answer is synthesised before anything plays.
Also: cold start to ready and peak memory with every model loaded. Prints tables only.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from kiosk.asr.whisper import load_whisper  # noqa: E402
from kiosk.audio.endpoint import EndPointer, Outcome  # noqa: E402
from kiosk.audio.vad import SileroVad  # noqa: E402
from kiosk.audio.wav import read_wav  # noqa: E402
from kiosk.paths import DataDir, resolve_data_dir  # noqa: E402
from kiosk.runtime import open_answerer  # noqa: E402
from kiosk.session import Session  # noqa: E402
from kiosk.settings import Settings  # noqa: E402
from kiosk.tts.espeak import EspeakSynth  # noqa: E402

AUDIO = ROOT.parent / "shared" / "eval" / "audio"
CHUNK = 1600


def clips() -> list[tuple[str, str]]:
    manifest = json.loads((AUDIO / "manifest.json").read_text())
    chosen = [m for m in manifest if m["file"].startswith(("rhasspy/", "leopard/"))]
    for lang in ("en", "fr", "es"):
        chosen += [m for m in manifest if m["file"].startswith(f"fleurs/fleurs-{lang}")][:3]
    return [(m["file"], m["lang"]) for m in chosen]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def cold_start() -> float:
    """Seconds from a new process to every model loaded and one answer ready."""
    code = ("import time; t=time.perf_counter();"
            "from pathlib import Path;"
            "from kiosk.settings import Settings; from kiosk.paths import DataDir,"
            " resolve_data_dir; from kiosk.runtime import open_answerer;"
            "from kiosk.asr.whisper import load_whisper; from kiosk.audio.vad import SileroVad;"
            "from kiosk.tts.espeak import EspeakSynth; from kiosk.events import Question;"
            "d=DataDir(resolve_data_dir()); a,_=open_answerer(Settings(), d, Path('content/demo'));"
            "w=load_whisper(d); v=SileroVad(); s=EspeakSynth(); s.synthesize('ready','en');"
            "a.answer(Question('who painted the milkmaid','en')); s.close();"
            "print(time.perf_counter()-t)")
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1]) if out.stdout else time.perf_counter() - start


def main() -> None:
    if not AUDIO.is_dir():
        print(f"no outside audio at {AUDIO}: nothing to measure")
        return
    settings = Settings()
    data = DataDir(resolve_data_dir())
    answerer, content = open_answerer(settings, data, ROOT / "content" / "demo")
    whisper = load_whisper(data)
    vad = SileroVad()
    synth = EspeakSynth()
    synth.synthesize("warm up", "en")
    rows = []
    print("$ .venv/bin/python bench/voice.py\n")
    print(f"{'clip':<32} {'lang':<4} {'speech s':>8} {'wait ms':>7} {'asr ms':>6} "
          f"{'answer':>6} {'1st synth':>9} {'all synth':>9}  streaming  sequential")
    for name, lang in clips():
        audio = read_wav(AUDIO / name)
        stream = np.concatenate([audio, np.zeros(24_000, dtype=np.float32)])
        vad.reset()
        ep = EndPointer(trailing_silence_ms=settings.audio.trailing_silence_ms)
        fired_at = None
        for i in range(0, len(stream), CHUNK):
            chunk = stream[i:i + CHUNK]
            if ep.push(chunk, vad.feed(chunk)) is Outcome.UTTERANCE:
                fired_at = (i + len(chunk)) / 16_000
                break
        if fired_at is None:
            print(f"{name:<32} {lang:<4} (no utterance detected)")
            continue
        wait_ms = max(0.0, (fired_at - len(audio) / 16_000) * 1000)
        t = time.perf_counter()
        heard = whisper.transcribe(ep.audio(), lang)
        asr_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        answer = Session(lang, [lang]).ask(answerer, heard.text, lang)
        answer_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        next(iter(synth.sentences(answer.text, answer.lang)))
        first_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        synth.synthesize(answer.text, answer.lang)
        all_ms = (time.perf_counter() - t) * 1000
        streaming = wait_ms + asr_ms + answer_ms + first_ms
        sequential = wait_ms + asr_ms + answer_ms + all_ms
        rows.append((streaming, sequential, wait_ms, asr_ms))
        print(f"{name:<32} {lang:<4} {len(audio) / 16_000:>8.1f} {wait_ms:>7.0f} {asr_ms:>6.0f} "
              f"{answer_ms:>6.1f} {first_ms:>9.0f} {all_ms:>9.0f}  {streaming:>9.0f}"
              f"  {sequential:>10.0f}")
    synth.close()
    s = [r[0] for r in rows]
    q = [r[1] for r in rows]
    print(f"\nend of speech → first answer audio, {len(rows)} clips (ms):")
    print(f"{'':<12} {'p50':>6} {'p95':>6}")
    print(f"{'streaming':<12} {pct(s, 50):>6.0f} {pct(s, 95):>6.0f}   budget (Whisper base) ≤ 2000")
    print(f"{'sequential':<12} {pct(q, 50):>6.0f} {pct(q, 95):>6.0f}   "
          f"ratio sequential/streaming p50 {pct(q, 50) / pct(s, 50):.2f}×")
    print(f"of which the end-pointer's silence wait: p50 {pct([r[2] for r in rows], 50):.0f} ms;"
          f" recognition p50 {pct([r[3] for r in rows], 50):.0f} ms")
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this process with encoder, Whisper, VAD loaded: {peak_self:.0f} MB "
          "(+ the espeak worker process, a few MB); budget ≤ 700 MB")
    print(f"cold start to ready (new process: content, encoder, Whisper, VAD, speech): "
          f"{cold_start():.1f} s; budget ≤ 8 s")


if __name__ == "__main__":
    main()
