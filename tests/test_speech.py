"""Spoken questions: the pipeline with a scripted recognizer, and Whisper on real speech."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiosk.errors import ModelError
from kiosk.events import AnswerKind, EventType, PipelineEvent
from kiosk.paths import DataDir
from kiosk.pipeline import Pipeline
from kiosk.qa.answerer import KioskAnswerer
from kiosk.session import Session
from kiosk.testing import HashingEncoder, ScriptedRecognizer
from tests.conftest import DEMO, whisper_or_skip
from tests.packs import make_pack


def test_pipeline_turn_events_and_session(tmp_path: Path) -> None:
    from kiosk.content.loader import read_pack
    from kiosk.qa.index import build_units, encode_units

    pack = read_pack(make_pack(tmp_path))
    enc = HashingEncoder()
    units = build_units(pack)
    answerer = KioskAnswerer(pack, units, encode_units(units, enc), enc)
    events: list[PipelineEvent] = []
    recognizer = ScriptedRecognizer([("who painted the milkmaid", "en"),
                                     ("what year is it from", "en")])
    pipeline = Pipeline(answerer, Session("fr", ["fr", "en", "es"]), recognizer,
                        listener=events.append, detect_language=True)
    audio = np.zeros(16_000, dtype=np.float32)
    transcript, answer, timings = pipeline.ask_audio(audio)
    assert transcript.text == "who painted the milkmaid"
    assert answer.exhibit_id == "the-milkmaid" and "Vermeer" in answer.text
    assert [e.type for e in events] == [EventType.TRANSCRIPT, EventType.ANSWER]
    assert set(timings) == {"asr", "repair", "answer"}
    _, follow, _ = pipeline.ask_audio(audio)  # the follow-up keeps the conversation
    assert follow.exhibit_id == "the-milkmaid" and "1658" in follow.text
    assert pipeline.session.language == "en"
    assert recognizer.heard == [1.0, 1.0]


def test_missing_whisper_model_says_what_to_run(tmp_path: Path) -> None:
    from kiosk.asr.whisper import load_whisper

    with pytest.raises(ModelError, match=r"kiosk models install whisper-base"):
        load_whisper(DataDir(tmp_path))


# -- the real Whisper model -----------------------------------------------------------------

def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


@pytest.fixture(scope="module")
def whisper(data_dir: DataDir) -> Any:
    return whisper_or_skip(data_dir)


@pytest.mark.slow
@pytest.mark.models
@pytest.mark.realdata
def test_word_error_rate_on_real_speech(whisper: Any, shared_eval: Path) -> None:
    """FLEURS read speech (CC BY 4.0) in each language: loose floors; exact figures in bench/."""
    import jiwer

    from kiosk.audio.wav import read_wav

    manifest = json.loads((shared_eval / "audio" / "manifest.json").read_text())
    floors = {"en": 0.25, "es": 0.25, "fr": 0.45}
    for lang, floor in floors.items():
        clips = [m for m in manifest if m["lang"] == lang and m["file"].startswith("fleurs/")]
        assert len(clips) >= 5
        refs, hyps = [], []
        for clip in clips[:6]:
            transcript = whisper.transcribe(read_wav(shared_eval / "audio" / clip["file"]), lang)
            refs.append(_words(clip["transcript"]))
            hyps.append(_words(transcript.text))
        wer = jiwer.wer(refs, hyps)
        assert wer <= floor, (lang, wer, list(zip(refs, hyps, strict=True)))


@pytest.mark.models
@pytest.mark.realdata
def test_spoken_question_from_a_real_recording(whisper: Any, shared_eval: Path,
                                                encoder: Any) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "ask", "--content", str(DEMO), "--json", "--lang",
         "en", "--audio", str(shared_eval / "audio" / "rhasspy" / "what_time_is_it.wav")],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert _words(data["transcript"]) == "what time is it"
    assert data["detected_language"] == "en"
    assert set(data["timings_ms"]) == {"read", "asr", "repair", "answer"}
    assert data["audio_s"] == pytest.approx(2.0, abs=0.5)


@pytest.mark.models
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
@pytest.mark.parametrize(("voice", "lang", "question", "expect"), [
    ("en-us", "en", "Where are the toilets?", "toilets"),
    ("es", "es", "¿Dónde está El beso?", "the-kiss"),
])
def test_synthetic_spoken_question_is_answered(whisper: Any, encoder: Any, demo: Any,
                                               tmp_path: Path,
                                               voice: str, lang: str, question: str,
                                               expect: str) -> None:
    from kiosk.audio.wav import read_wav

    wav = tmp_path / "q.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "140", "-w", str(wav), question],
                   check=True, timeout=300)
    answerer = KioskAnswerer(demo.pack, demo.units, demo.vectors, encoder)
    pipeline = Pipeline(answerer, Session("fr", ["fr", "en", "es"]), whisper)
    transcript, answer, _ = pipeline.ask_audio(read_wav(wav), lang)
    assert answer.kind is AnswerKind.ANSWER, transcript
    assert answer.source.ref == expect


@pytest.mark.models
def test_a_damaged_whisper_model_is_reported(data_dir: DataDir, tmp_path: Path) -> None:
    from kiosk.asr.whisper import load_whisper

    source = data_dir.model_dir("whisper-base")
    if not (source / "model.bin").exists():
        pytest.skip("Whisper not installed")
    damaged = DataDir(tmp_path)
    shutil.copytree(source, damaged.model_dir("whisper-base"))
    with (damaged.model_dir("whisper-base") / "model.bin").open("r+b") as fh:
        fh.truncate(1000)
    with pytest.raises(ModelError, match="is damaged .*kiosk models install whisper-base"):
        load_whisper(damaged)
    (damaged.model_dir("whisper-base") / "model.bin").unlink()
    shutil.copy(source / "model.bin", damaged.model_dir("whisper-base") / "model.bin")
    config = damaged.model_dir("whisper-base") / "config.json"
    config.write_bytes(b"{" * config.stat().st_size)  # same size, not JSON
    with pytest.raises(ModelError, match="cannot load Whisper .* reinstall it"):
        load_whisper(damaged)


@pytest.mark.models
def test_tokens_are_capped_by_the_length_of_the_audio(whisper: Any) -> None:
    # a 2 s question may have ~26 tokens, not 200: a looping decode stops early
    assert whisper.token_cap(2.0) == 26
    assert whisper.token_cap(0.2) == 16
    assert whisper.token_cap(60.0) == whisper.max_tokens
