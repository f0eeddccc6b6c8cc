"""When each word is heard, for a synthesiser that does not say (SVOX Pico).

The words are timed from the audio itself: the voiced part of the clip (leading and trailing
silence trimmed) is shared among the words by their length — syllables (vowel groups, per
language), consonants, and a longer last word before a punctuation mark — and the pauses heard
in it (the voice stops at commas and full stops) are matched to the text's punctuation by
dynamic programming, so the phrase after a pause starts when the voice starts again.

Against the true starts found in Pico's audio (tests/test_pico.py says how), on the demo pack:
the weights below were chosen on 48 sentences of its descriptions, where they are off by 64–73
ms a word on average; on 120 sentences of its answers, held out, by 65–91 ms (en, fr, es),
within 186–295 ms for 95 % of words. Words spread evenly over the clip are off by 249–331 ms,
syllables over the voiced part, pauses ignored, by 175–188 ms.

Pure numpy; no engine is imported here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from kiosk.audio.wav import RATE
from kiosk.ports import Samples

FRAME_S = 0.01
"""Loudness is measured on 10 ms frames."""

SILENCE_DB = 40.0
"""A frame this far below the clip's loudest frame is silent (Pico's pauses are 40 dB down or
more, digital silence in French; the quiet consonants of a word 25–35 dB down)."""

MIN_PAUSE_S = 0.15
"""Silences shorter than this are inside words (the closure before a p, t or k), not pauses."""

WORD_WEIGHT = 0.25
"""Time a word takes besides its syllables and consonants, in syllables."""

CONSONANT_WEIGHT = 0.3
"""Time each consonant letter takes, in syllables."""

FINAL_WEIGHT = 1.0
"""Extra time of the word before a punctuation mark or at the end (the voice slows down
there), in syllables."""

UNMATCHED_COST = 0.08
"""What leaving a pause, or a punctuation mark, unmatched costs in the alignment (as a share
of the speech time)."""

_WORD = re.compile(r"\w+(?:['’\-]\w+)*")
_BREAK = re.compile(r"[,;:.!?…—–()«»\"“”]")
_VOWELS = {
    "fr": "aeiouyàâäéèêëîïôöùûüÿœæ",
    "en": "aeiouy",
    "es": "aeiouáéíóúü",
    "de": "aeiouyäöü",
    "it": "aeiouàèéìíòóù",
}
_STRONG_ES = set("aeoáéóíú")
"""Spanish vowels that stay separate syllables when side by side (hiatus)."""


def words(text: str) -> list[tuple[int, int]]:
    """``(first character, end character)`` of each word of ``text``."""
    return [m.span() for m in _WORD.finditer(text)]


def syllables(word: str, lang: str) -> float:
    """About how many syllables ``word`` has when said in ``lang`` (a digit: two; per-language
    digit weights were tried and did no better)."""
    word = word.lower()
    digits = sum(ch.isdigit() for ch in word)
    vowels = _VOWELS.get(lang, _VOWELS["en"])
    groups = re.findall(f"[{vowels}]+", word)
    count = len(groups)
    if lang == "es":
        count += sum(a in _STRONG_ES and b in _STRONG_ES
                     for group in groups for a, b in zip(group, group[1:], strict=False))
    elif lang == "fr" and count > 1 and re.search(r"[^aeiouy]es?$", word):
        count -= 1  # a silent final e: "peinture", "femmes"
    elif lang == "en" and count > 1 and re.search(r"[^aeiouyl]e$", word):
        count -= 1  # "made", "hope"
    return max(count, 1 if not digits else 0) + 2 * digits


def consonants(word: str, lang: str) -> int:
    """How many letters of ``word`` are not vowels."""
    vowels = _VOWELS.get(lang, _VOWELS["en"])
    return sum(ch.isalpha() and ch not in vowels for ch in word.lower())


def loudness(audio: Samples) -> np.ndarray:
    """Level of each 10 ms frame in dB below full scale."""
    step = int(RATE * FRAME_S)
    frames = audio[:len(audio) // step * step].reshape(-1, step).astype(np.float64)
    return np.asarray(10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12))


def voiced(audio: Samples) -> tuple[float, float, list[tuple[float, float]]]:
    """``(start s, end s, pauses)``: where the voice starts and ends, and the silences
    (``(start s, end s)``, at least ``MIN_PAUSE_S``) in between."""
    level = loudness(audio)
    if len(level) == 0:
        return 0.0, 0.0, []
    loud = np.flatnonzero(level > level.max() - SILENCE_DB)
    first, last = int(loud[0]), int(loud[-1]) + 1
    pauses, run_start = [], None
    for i in range(first, last + 1):
        silent = i < last and level[i] <= level.max() - SILENCE_DB
        if silent and run_start is None:
            run_start = i
        elif not silent and run_start is not None:
            if (i - run_start) * FRAME_S >= MIN_PAUSE_S:
                pauses.append((run_start * FRAME_S, i * FRAME_S))
            run_start = None
    return first * FRAME_S, last * FRAME_S, pauses


def word_times(text: str, audio: Samples, lang: str) -> tuple[tuple[float, int, int], ...]:
    """``(start s, first character, end character)`` of each word of ``text`` in ``audio``."""
    spans = words(text)
    if not spans:
        return ()
    start, end, pauses = voiced(audio)
    breaks = [bool(_BREAK.search(text[spans[i][1]:spans[i + 1][0]]))
              for i in range(len(spans) - 1)]
    weights = [syllables(text[a:b], lang) + WORD_WEIGHT
               + CONSONANT_WEIGHT * consonants(text[a:b], lang)
               + (FINAL_WEIGHT if i == len(spans) - 1 or breaks[i] else 0.0)
               for i, (a, b) in enumerate(spans)]
    out: list[tuple[float, int, int]] = []
    first, t0 = 0, start
    for last, pause_start, pause_end in [*_align(weights, breaks, start, end, pauses),
                                          (len(spans) - 1, end, end)]:
        segment = range(first, last + 1)
        total = sum(weights[i] for i in segment)
        done = 0.0
        for i in segment:
            out.append((round(t0 + (pause_start - t0) * done / total, 3), *spans[i]))
            done += weights[i]
        first, t0 = last + 1, pause_end
    return tuple(out)


def _align(weights: Sequence[float], breaks: Sequence[bool], start: float, end: float,
           pauses: Sequence[tuple[float, float]]) -> list[tuple[int, float, float]]:
    """``(word index, pause start, pause end)`` of each pause heard between two words, by
    dynamic programming (in order; a pause near a punctuation mark is preferred)."""
    speech = (end - start) - sum(b - a for a, b in pauses)
    if speech <= 0 or not pauses or not breaks:
        return []
    total = sum(weights)
    predicted, done = [], 0.0
    for w in weights[:-1]:
        done += w
        predicted.append(speech * done / total)  # speech time at the end of each word
    heard, gone = [], 0.0
    for a, b in pauses:
        heard.append(a - start - gone)  # speech time before each pause
        gone += b - a
    n, m = len(predicted), len(heard)
    # cost[i][j]: best cost of placing the first j pauses after the first i word ends
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    step: list[list[int]] = [[0] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            here = cost[i][j]
            if here == inf:
                continue
            if i < n:  # word end i: no pause
                skip = here + (UNMATCHED_COST if breaks[i] else 0.0)
                if skip < cost[i + 1][j]:
                    cost[i + 1][j], step[i + 1][j] = skip, 0
            if j < m:  # pause j inside a word
                drop = here + UNMATCHED_COST
                if drop < cost[i][j + 1]:
                    cost[i][j + 1], step[i][j + 1] = drop, 1
            if i < n and j < m:  # pause j after word i
                pair = here + abs(predicted[i] - heard[j]) / speech \
                    + (0.0 if breaks[i] else UNMATCHED_COST / 2)
                if pair < cost[i + 1][j + 1]:
                    cost[i + 1][j + 1], step[i + 1][j + 1] = pair, 2
    anchors: list[tuple[int, float, float]] = []
    i, j = n, m
    while i > 0 or j > 0:
        move = step[i][j]
        if move == 2:
            anchors.append((i - 1, *pauses[j - 1]))
            i, j = i - 1, j - 1
        elif move == 1:
            j -= 1
        else:
            i -= 1
    return anchors[::-1]
