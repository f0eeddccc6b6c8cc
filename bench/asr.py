"""Speech recognition on real speech: word error rate and time per utterance, per language.

    .venv/bin/python bench/asr.py            # Whisper base, beam 1 and 5, language fixed
    .venv/bin/python bench/asr.py --detect   # also with the language detected
    .venv/bin/python bench/asr.py --hotwords 40   # also with the demo pack's names as hotwords

Reads ../shared/eval/audio (FLEURS en/fr/es read speech, LibriSpeech/leopard sentences, the
rhasspy questions). Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jiwer  # noqa: E402
import numpy as np  # noqa: E402

from kiosk.asr.whisper import load_whisper  # noqa: E402
from kiosk.audio.wav import read_wav  # noqa: E402
from kiosk.paths import DataDir, resolve_data_dir  # noqa: E402

AUDIO = ROOT.parent / "shared" / "eval" / "audio"


def words(text: str) -> str:
    """Lowercase, punctuation out (FLEURS transcripts are written that way)."""
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detect", action="store_true", help="also detect the language")
    parser.add_argument("--hotwords", type=int, default=0,
                        help="also run with this many demo-pack names as Whisper hotwords")
    args = parser.parse_args()
    if not AUDIO.is_dir():
        print(f"no outside audio at {AUDIO}: nothing to measure")
        return
    clips = [c for c in json.loads((AUDIO / "manifest.json").read_text()) if c.get("transcript")]
    audio = {c["file"]: read_wav(AUDIO / c["file"]) for c in clips}
    data = DataDir(resolve_data_dir())
    runs = [(1, False, 0), (5, False, 0)] + ([(1, True, 0)] if args.detect else []) \
        + ([(1, False, args.hotwords)] if args.hotwords else [])
    names: list[str] = []
    if args.hotwords:
        from kiosk.asr.vocabulary import phrases
        from kiosk.content.loader import read_pack

        names = phrases(read_pack(ROOT / "content" / "demo"), args.hotwords)
    print(f"$ .venv/bin/python bench/asr.py{' --detect' if args.detect else ''}")
    print(f"{len(clips)} clips with transcripts, {sum(len(a) for a in audio.values()) / 16000:.0f}"
          " s of speech; Whisper base int8, 2 threads\n")
    print(f"{'beam':>4} {'hot':>3} {'language':<9} {'lang':<4} {'clips':>5} {'WER':>7} "
          f"{'audio s':>8} {'mean s':>7} {'p95 s':>6} {'RTF':>5} {'detected right':>14}")
    for beam, detect, hot in runs:
        recognizer = load_whisper(data, beam_size=beam)
        recognizer.transcribe(audio[clips[0]["file"]], "en")  # warm-up
        for lang in ("en", "fr", "es"):
            rows = [c for c in clips if c["lang"] == lang]
            refs, hyps, secs, right = [], [], [], 0
            for clip in rows:
                start = time.perf_counter()
                heard = recognizer.transcribe(audio[clip["file"]], None if detect else lang,
                                              names[:hot])
                secs.append(time.perf_counter() - start)
                refs.append(words(clip["transcript"]))
                hyps.append(words(heard.text))
                right += heard.lang == lang
            length = sum(len(audio[c["file"]]) for c in rows) / 16000
            print(f"{beam:>4} {hot:>3} {'detected' if detect else 'fixed':<9} {lang:<4} "
                  f"{len(rows):>5} "
                  f"{jiwer.wer(refs, hyps) * 100:>6.1f}% {length:>8.1f} "
                  f"{np.mean(secs):>7.2f} {np.percentile(secs, 95):>6.2f} "
                  f"{sum(secs) / length:>5.2f} {right:>9}/{len(rows)}")
    print("\nWER: jiwer over lowercased words without punctuation; RTF: seconds of computing per"
          " second of speech.")


if __name__ == "__main__":
    main()
