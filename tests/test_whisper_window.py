"""Whisper's short window: the same words as the full 30 s window on clean speech, a guard
that sends a looping decode back to the full window, the token cap, n-best alternatives, and
the stream's guess. Real model on real recordings (../shared/eval); speed is in bench/asr.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiosk.asr.whisper import PAD_S, TOKENS_PER_S, distinct, looping, repeated_phrase
from kiosk.audio.wav import RATE, read_wav
from kiosk.paths import DataDir
from tests.conftest import SHARED_EVAL, whisper_or_skip

KNOBS = {"window": "short", "pad_s": PAD_S, "timestamps": True, "loop_guard": True,
         "n_best": 1, "tokens_per_s": TOKENS_PER_S, "detect_window": "short"}
"""The recognizer's defaults, set again before each test (the model is loaded once)."""


def words(text: str) -> list[str]:
    import re

    return re.sub(r"[^\w\s']", " ", text.lower()).split()


# -- the loop detector, on text ---------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "What time is it? What time is it? What time is it?",
    "Who painted this? Who painted this?",
    "la la la",
    "5, 5, 5, 5, 5",
    "Jean-Carlos a perdu le contrôle. Jean-Carlos a perdu le contrôle. Jean-Carlos a",
])
def test_a_repeated_phrase_is_a_loop(text: str) -> None:
    assert repeated_phrase(text) is not None and looping(text)


@pytest.mark.parametrize("text", [
    "What time is it?", "Is it very very old?", "No, no, it is by Monet.",
    "Who painted the water lilies?", "¿Dónde están los baños?", "",
])
def test_a_question_is_not_a_loop(text: str) -> None:
    assert not looping(text)


def test_no_outside_transcript_looks_like_a_loop() -> None:
    """The detector costs time when it is wrong (the full window runs): never on real text."""
    manifest = SHARED_EVAL / "audio" / "manifest.json"
    if not manifest.is_file():
        pytest.skip(f"outside evaluation material not found at {SHARED_EVAL}")
    texts = [c["transcript"] for c in json.loads(manifest.read_text()) if c.get("transcript")]
    assert len(texts) > 30
    assert [t for t in texts if looping(t)] == []


def test_alternatives_differ_in_their_words() -> None:
    assert distinct(["What time is it?", "what time is it", "What time is it ?",
                     "Watt time is it?", ""]) == ("What time is it?", "Watt time is it?")


# -- the real model ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def loaded(data_dir: DataDir) -> Any:
    return whisper_or_skip(data_dir)


@pytest.fixture
def whisper(loaded: Any) -> Any:
    for name, value in KNOBS.items():
        setattr(loaded, name, value)
    return loaded


def clip(shared_eval: Path, name: str) -> np.ndarray:
    return read_wav(shared_eval / "audio" / name, max_seconds=60.0)


CLEAN = [("rhasspy/what_time_is_it.wav", "en"), ("rhasspy/whats_the_date_today.wav", "en"),
         ("fleurs/fleurs-en-004.wav", "en"), ("fleurs/fleurs-fr-005.wav", "fr"),
         ("fleurs/fleurs-es-006.wav", "es")]


@pytest.mark.models
@pytest.mark.realdata
def test_short_window_hears_what_the_full_window_hears(whisper: Any, shared_eval: Path) -> None:
    import jiwer

    short, full = [], []
    for name, lang in CLEAN:
        audio = clip(shared_eval, name)
        whisper.window = "short"
        short.append(" ".join(words(whisper.transcribe(audio, lang).text)))
        whisper.window = "full"
        full.append(" ".join(words(whisper.transcribe(audio, lang).text)))
    assert all(short), short
    assert jiwer.wer(full, short) <= 0.1, list(zip(full, short, strict=True))
    assert short[0] == "what time is it"


@pytest.mark.models
@pytest.mark.realdata
def test_the_guard_sends_a_looping_decode_to_the_full_window(whisper: Any,
                                                            shared_eval: Path) -> None:
    """Without timestamps and with 1 s of padding Whisper base reads "What time is it?" again
    and again; the guard sees it and the full window answers."""
    audio = clip(shared_eval, "rhasspy/what_time_is_it.wav")
    whisper.timestamps, whisper.pad_s, whisper.loop_guard = False, 1.0, False
    looped = whisper.transcribe(audio, "en").text
    assert looping(looped) and len(words(looped)) >= 8, looped
    whisper.loop_guard = True
    before = whisper.fallbacks
    heard = whisper.transcribe(audio, "en")
    assert words(heard.text) == ["what", "time", "is", "it"]
    assert whisper.fallbacks == before + 1


@pytest.mark.models
@pytest.mark.realdata
@pytest.mark.parametrize("window", ["short", "full"])
def test_the_token_cap_holds_in_both_windows(whisper: Any, shared_eval: Path,
                                             window: str) -> None:
    """10.6 s of read speech (~40 tokens) with a cap of 16 tokens: cut at the cap, not at
    half of it (CTranslate2 writes at most half its ``max_length``)."""
    audio = clip(shared_eval, "fleurs/fleurs-en-000.wav")
    whisper.window, whisper.loop_guard = window, False
    whole = words(whisper.transcribe(audio, "en").text)
    whisper.tokens_per_s = 0.5
    cap = whisper.token_cap(len(audio) / RATE)
    assert cap == 16
    cut = words(whisper.transcribe(audio, "en").text)
    assert cap // 2 < len(cut) <= cap < len(whole)
    assert cut == whole[:len(cut)]


@pytest.mark.models
@pytest.mark.realdata
@pytest.mark.parametrize("window", ["short", "full"])
def test_n_best_gives_distinct_alternatives(whisper: Any, shared_eval: Path,
                                            window: str) -> None:
    """A racing driver's name read in French: the hypotheses spell it differently."""
    audio = clip(shared_eval, "fleurs/fleurs-fr-005.wav")
    whisper.window, whisper.n_best = window, 4
    heard = whisper.transcribe(audio, "fr")
    assert heard.alternatives[0] == heard.text
    assert len(heard.alternatives) >= 2
    assert len({" ".join(words(a)) for a in heard.alternatives}) == len(heard.alternatives)
    whisper.n_best = 1
    assert whisper.transcribe(audio, "fr").alternatives == ()


@pytest.mark.models
@pytest.mark.realdata
def test_the_short_window_detects_the_language(whisper: Any, shared_eval: Path) -> None:
    for name, lang in CLEAN[2:]:
        assert whisper.transcribe(clip(shared_eval, name)).lang == lang, name


@pytest.mark.models
@pytest.mark.realdata
def test_the_stream_guesses_with_the_short_window(whisper: Any, shared_eval: Path) -> None:
    """A question, a pause (the guess), more speech (the guess is dropped), the end."""
    first = clip(shared_eval, "rhasspy/what_time_is_it.wav")
    second = clip(shared_eval, "rhasspy/whats_the_date_today.wav")
    silence = np.zeros(RATE // 10, np.float32)
    whisper.n_best = 3
    stream = whisper.stream("en")
    captions = []

    def say(audio: np.ndarray) -> None:
        for i in range(0, len(audio), RATE // 10):
            stream.feed(audio[i:i + RATE // 10], True)

    def pause(chunks: int) -> None:
        for _ in range(chunks):
            caption = stream.feed(silence, False)
            if stream._thread is not None:
                stream._thread.join()
            if caption:
                captions.append(caption)

    say(first)
    pause(4)
    assert captions and words(captions[-1]) == ["what", "time", "is", "it"]
    say(second)
    pause(7)
    heard = stream.finish()
    assert stream.guesses == 2
    assert words(heard.text)[-4:] == ["what's", "the", "date", "today"]
    assert heard.alternatives and heard.alternatives[0] == heard.text
    assert heard.audio_s == pytest.approx((len(first) + len(second)) / RATE + 1.1, abs=0.11)
