"""Speech synthesis: real espeak-ng through pyttsx3 in a worker, and its watchdog."""

from __future__ import annotations

import shutil
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiosk.errors import SpeechError
from kiosk.tts.espeak import EspeakSynth

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed")


def hang(conn: Connection) -> None:
    """A worker that takes requests and never answers (the Pi 4 hang)."""
    while True:
        conn.recv()
        time.sleep(3600)


def die(conn: Connection) -> None:
    """A worker that dies on its first request."""
    conn.recv()
    raise SystemExit(1)


@pytest.fixture
def synth() -> Any:
    s = EspeakSynth()
    yield s
    s.close()


@needs_espeak
def test_speaks_each_language(synth: EspeakSynth) -> None:
    for lang, text in [("fr", "La Laitière est une œuvre de Johannes Vermeer."),
                       ("en", "The Milkmaid is by Johannes Vermeer."),
                       ("es", "La lechera es obra de Johannes Vermeer.")]:
        audio = synth.synthesize(text, lang)
        assert 1.0 < len(audio) / 16_000 < 6.0, lang
        assert float(np.abs(audio).max()) > 0.1, lang
    assert synth.restarts == 0


@needs_espeak
def test_long_answers_come_sentence_by_sentence(synth: EspeakSynth) -> None:
    parts = list(synth.sentences("First sentence here. Then a second one! And a third?", "en"))
    assert [p[0] for p in parts] == ["First sentence here.", "Then a second one!",
                                     "And a third?"]
    assert all(len(p[1]) > 8000 for p in parts)


def test_watchdog_gives_up_on_a_hung_worker_with_a_clear_error() -> None:
    synth = EspeakSynth(timeout_s=0.5, target=hang)
    try:
        with pytest.raises(SpeechError, match="speech synthesis hung twice"):
            synth.synthesize("hello", "en")
        assert synth.restarts == 2
    finally:
        synth.close()


def test_watchdog_restarts_a_dead_worker(tmp_path: Path) -> None:
    synth = EspeakSynth(timeout_s=2, target=die)
    try:
        with pytest.raises(SpeechError):
            synth.synthesize("hello", "en")
        assert synth.restarts == 2  # restarted once, died again, reported
    finally:
        synth.close()


@needs_espeak
@pytest.mark.models
def test_spoken_answer_is_understood_by_whisper(synth: EspeakSynth, data_dir: Any) -> None:
    """Round trip: the kiosk's own voice, heard by its own recognizer."""
    import jiwer

    from kiosk.asr.whisper import load_whisper
    from kiosk.errors import ModelError

    try:
        whisper = load_whisper(data_dir)
    except ModelError as exc:
        pytest.skip(str(exc))
    text = "The toilets are on the ground floor next to the cloakroom."
    heard = whisper.transcribe(synth.synthesize(text, "en"), "en").text
    clean = [" ".join(t.lower().replace(".", "").replace(",", "").split()) for t in (text, heard)]
    assert jiwer.wer(clean[0], clean[1]) <= 0.3, heard


@needs_espeak
def test_many_utterances_in_a_row_are_never_empty(synth: EspeakSynth) -> None:
    """Seen here: an utterance's end landing on the next one saved it empty (a 44-byte WAV)."""
    texts = [("fr", "Bonjour tout le monde."), ("en", "The toilets are downstairs."),
             ("es", "Es obra de Vermeer.")]
    lengths = [len(synth.synthesize(text, lang)) / 16_000 for lang, text in texts * 10]
    assert min(lengths) > 0.5, lengths
