"""The kiosk's two voices, SVOX Pico and espeak-ng, side by side in French, English, Spanish.

    .venv/bin/python bench/tts.py                          # the table
    .venv/bin/python bench/tts.py --spectrogram DIR        # and a PNG per engine in DIR

For each language and engine, through the kiosk's own synthesisers (``PicoSynth``,
``EspeakSynth``; default rate and volume, each in its worker):

- WER: six museum sentences (below) are said, then transcribed by the kiosk's Whisper base with
  the language fixed; jiwer over the six, words normalised as in bench/asr.py (``words``).
- first audio: time from asking for a three-sentence answer to having its first sentence's
  audio (``spoken_sentences``), worker warm; median of 5.
- RTF: synthesis time / audio length, over the six sentences (lower is faster).
- words timed: share of the text's words that have a caption time.

``--spectrogram DIR`` writes ``DIR/<engine>.png``: the three-sentence answer in each language,
its spectrogram with the caption times of its words marked. Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jiwer  # noqa: E402
import numpy as np  # noqa: E402

from bench.asr import words  # noqa: E402
from kiosk.audio.wav import RATE  # noqa: E402
from kiosk.tts.espeak import EspeakSynth  # noqa: E402
from kiosk.tts.pico import PicoSynth  # noqa: E402
from kiosk.tts.timing import words as word_spans  # noqa: E402

LANGS = ("fr", "en", "es")

SENTENCES = {
    "fr": ["Regardez la lumière qui tombe sur le visage de la jeune femme.",
           "Le peintre broyait lui-même ses couleurs dans son atelier.",
           "La salle des sculptures se trouve au premier étage, après le café.",
           "Cette œuvre est entrée au musée grâce au don d'une collectionneuse.",
           "Les visites guidées partent toutes les heures devant l'accueil.",
           "Au fond du tableau, on devine une ville sous la brume du matin."],
    "en": ["Look at the light falling on the young woman's face.",
           "The painter ground his own colours in his studio.",
           "The sculpture gallery is on the first floor, past the café.",
           "This work came to the museum as the gift of a collector.",
           "Guided tours leave every hour from the front desk.",
           "In the background you can make out a town in the morning mist."],
    "es": ["Fíjese en la luz que cae sobre el rostro de la joven.",
           "El pintor molía él mismo sus colores en el taller.",
           "La sala de esculturas está en la primera planta, después de la cafetería.",
           "Esta obra llegó al museo gracias a la donación de una coleccionista.",
           "Las visitas guiadas salen cada hora desde la recepción.",
           "Al fondo del cuadro se adivina una ciudad bajo la niebla de la mañana."],
}
"""Sentences of the kind the kiosk says (written for this bench; no numbers, which Whisper
writes as digits)."""

ANSWERS = {lang: " ".join(s[:3]) for lang, s in SENTENCES.items()}
"""A three-sentence answer per language: the first three sentences."""


def measure(synth: Any, whisper: Any, lang: str) -> dict[str, float]:
    synth.synthesize("Bonjour.", lang)  # the worker is up
    refs, hyps, spent, audio_s, timed, total = [], [], 0.0, 0.0, 0, 0
    for sentence in SENTENCES[lang]:
        start = time.perf_counter()
        spoken = synth.speak(sentence, lang)
        spent += time.perf_counter() - start
        audio_s += len(spoken.audio) / RATE
        timed += len(spoken.words)
        total += len(word_spans(sentence))
        refs.append(words(sentence))
        hyps.append(words(whisper.transcribe(spoken.audio, lang).text))
    firsts = []
    for _ in range(5):
        start = time.perf_counter()
        next(iter(synth.spoken_sentences(ANSWERS[lang], lang)))
        firsts.append(time.perf_counter() - start)
    return {"wer": jiwer.wer(refs, hyps), "first_ms": statistics.median(firsts) * 1000,
            "rtf": spent / audio_s, "timed": timed / total}


def spectrogram(synth: Any, engine: str, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(LANGS), 1, figsize=(14, 3.2 * len(LANGS)))
    for ax, lang in zip(axes, LANGS, strict=True):
        text = ANSWERS[lang]
        pieces, marks, at = [], [], 0.0
        for _sentence, spoken in synth.spoken_sentences(text, lang):
            pieces.append(spoken.audio)
            marks += [(at + t, text[a:b]) for t, a, b in spoken.words]
            at += len(spoken.audio) / RATE
        audio = np.concatenate(pieces)
        dither = np.random.default_rng(0).normal(0, 1e-6, len(audio))  # log(0): no white gaps
        ax.specgram(audio + dither, NFFT=512, Fs=RATE, noverlap=384, cmap="magma", vmin=-120)
        for t, word in marks:
            ax.axvline(t, color="cyan", linewidth=0.6, alpha=0.8)
            ax.text(t, RATE / 2 * 0.97, word, color="white", fontsize=6, rotation=90,
                    va="top")
        ax.set_ylabel(f"{lang}: Hz")
        ax.set_xlim(0, len(audio) / RATE)
    axes[-1].set_xlabel("seconds (lines: when each caption word is shown)")
    fig.suptitle(f"{engine}: the same three-sentence answer")
    fig.tight_layout()
    path = out / f"{engine}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spectrogram", type=Path, metavar="DIR",
                        help="also write DIR/<engine>.png: the answer's spectrogram")
    args = parser.parse_args()
    from kiosk.asr.whisper import load_whisper
    from kiosk.paths import DataDir, resolve_data_dir

    whisper = load_whisper(DataDir(resolve_data_dir()))
    whisper.transcribe(np.zeros(RATE, np.float32), "en")  # warm-up
    engines: dict[str, EspeakSynth | PicoSynth] = {"espeak-ng": EspeakSynth(),
                                                   "pico": PicoSynth()}
    print("| language | engine | WER | first audio ms | RTF | words timed |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    try:
        for lang in LANGS:
            for name, synth in engines.items():
                m = measure(synth, whisper, lang)
                print(f"| {lang} | {name} | {m['wer']:.2f} | {m['first_ms']:.0f} | "
                      f"{m['rtf']:.3f} | {m['timed']:.0%} |", flush=True)
        if args.spectrogram:
            args.spectrogram.mkdir(parents=True, exist_ok=True)
            for name, synth in engines.items():
                print(f"wrote {spectrogram(synth, name, args.spectrogram)}")
    finally:
        for synth in engines.values():
            synth.close()


if __name__ == "__main__":
    main()
