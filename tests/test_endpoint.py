"""End-pointing logic on scripted speech probabilities (pure; the real VAD is tested live)."""

from __future__ import annotations

import numpy as np

from kiosk.audio.endpoint import EndPointer, Outcome, level

CHUNK = 1600  # 100 ms


def run(ep: EndPointer, pattern: list[float]) -> tuple[Outcome | None, int]:
    """Push 100 ms chunks whose samples hold their chunk number; 1 prob per 512 samples."""
    fed = 0
    outcome = None
    for i, p in enumerate(pattern):
        chunk = np.full(CHUNK, float(i), dtype=np.float32)
        frames = (fed + CHUNK) // 512 - fed // 512
        fed += CHUNK
        outcome = ep.push(chunk, [p] * frames)
        if outcome:
            return outcome, i
    return outcome, len(pattern)


def test_utterance_ends_after_trailing_silence_and_keeps_a_pre_roll() -> None:
    ep = EndPointer(trailing_silence_ms=500, pre_roll_ms=300)
    outcome, at = run(ep, [0.0] * 20 + [0.9] * 10 + [0.0] * 10)
    assert outcome is Outcome.UTTERANCE
    assert at == 34  # the fifth silent chunk brings 500 ms of silence
    first_chunk = ep.audio()[0]
    assert 16 <= first_chunk <= 17  # ~300 ms before speech started at chunk 20


def test_nothing_heard_and_maximum_length() -> None:
    outcome, at = run(EndPointer(no_speech_s=2), [0.1] * 40)
    assert outcome is Outcome.NOTHING and at == 19
    outcome, at = run(EndPointer(max_utterance_s=3), [0.0] * 5 + [0.9] * 100)
    assert outcome is Outcome.UTTERANCE and at < 40


def test_short_clicks_do_not_start_speech() -> None:
    ep = EndPointer(no_speech_s=3, start_ms=250)
    outcome, _ = run(ep, [0.0, 0.9, 0.0] * 10)  # 100 ms bursts, shorter than start_ms
    assert outcome is Outcome.NOTHING and not ep.started


def test_level_meter() -> None:
    assert level(np.zeros(100, dtype=np.float32)) == 0.0
    assert level(np.ones(100, dtype=np.float32)) == 1.0
    assert 0.4 < level(np.full(100, 0.05, dtype=np.float32)) < 0.7
