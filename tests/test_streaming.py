"""Recognition while the visitor speaks: partial captions, Whisper's guess during the
end-pointer's wait, word captions while the answer is spoken, a microphone that goes away,
and the Vosk adapter for real (the Korean model from PyPI, Korean said by espeak-ng)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiosk.asr.whisper import WhisperStream
from kiosk.audio.wav import RATE, read_wav
from kiosk.errors import AudioError, ModelError
from kiosk.events import AnswerKind, EventType, PipelineEvent, Transcript
from kiosk.paths import DataDir
from kiosk.pipeline import Pipeline
from kiosk.session import Session
from kiosk.settings import AsrSettings
from kiosk.testing import FakeSpeakers, SamplesMicrophone, ScriptedRecognizer
from tests.conftest import DATA, DEMO

KO_PACK = DATA / "packs" / "ko-small"
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed")


def espeak(tmp_path: Path, voice: str, text: str) -> np.ndarray:
    wav = tmp_path / "said.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "140", "-w", str(wav), text],
                   check=True, timeout=300)
    return read_wav(wav)


def spoken_turn(answerer: Any, session: Session, recognizer: Any, audio: np.ndarray,
                lang: str) -> tuple[Any, list[PipelineEvent], FakeSpeakers]:
    """One voice turn through the real VAD and espeak-ng, into fake speakers."""
    from kiosk.audio.vad import SileroVad
    from kiosk.tts.espeak import EspeakSynth
    from kiosk.tts.speaker import EspeakSpeaker

    events: list[PipelineEvent] = []
    synth = EspeakSynth()
    speakers = FakeSpeakers()
    try:
        pipeline = Pipeline(answerer, session, recognizer, listener=events.append,
                            speaker=EspeakSpeaker(synth, speakers))
        turn = pipeline.ask_by_voice(SamplesMicrophone(audio), SileroVad(), lang)
    finally:
        synth.close()
    return turn, events, speakers


# -- Whisper's guess (logic, with a recognizer that records what it was given) --------------

class CountingRecognizer:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def transcribe(self, audio: Any, lang: str | None = None,
                   hotwords: Sequence[str] = ()) -> Transcript:
        self.calls.append(round(len(audio) / RATE, 1))
        return Transcript(f"guess {len(self.calls)}", lang or "en", audio_s=len(audio) / RATE)


def feed(stream: WhisperStream, speech: bool, chunks: int) -> list[str]:
    shown = []
    for _ in range(chunks):
        caption = stream.feed(np.zeros(RATE // 10, np.float32), speech)
        if stream._thread is not None:
            stream._thread.join()  # let the background guess land before the next chunk
        if caption:
            shown.append(caption)
    return shown


def test_whisper_guesses_while_the_end_pointer_waits() -> None:
    recognizer = CountingRecognizer()
    stream = WhisperStream(recognizer, "en", (), pause_ms=250)  # type: ignore[arg-type]
    assert feed(stream, True, 10) == []
    assert feed(stream, False, 5) == ["guess 1"]  # shown as a caption before the end
    assert stream.finish().text == "guess 1"
    assert recognizer.calls == [1.3]  # 1 s of speech + 0.3 s of pause; decoded once


def test_whisper_guess_is_dropped_when_the_visitor_goes_on() -> None:
    recognizer = CountingRecognizer()
    stream = WhisperStream(recognizer, "en", (), pause_ms=250)  # type: ignore[arg-type]
    feed(stream, True, 10)
    feed(stream, False, 3)  # a pause mid-question: a guess starts
    feed(stream, True, 5)  # ... but the question goes on
    feed(stream, False, 7)
    transcript = stream.finish()
    assert transcript.text == "guess 2" and recognizer.calls == [1.3, 2.1]
    assert transcript.audio_s == pytest.approx(2.5)


def test_whisper_stream_without_a_pause_decodes_at_the_end() -> None:
    recognizer = CountingRecognizer()
    stream = WhisperStream(recognizer, "en", (), pause_ms=250)  # type: ignore[arg-type]
    feed(stream, True, 8)
    feed(stream, False, 2)  # 200 ms: less than the pause
    assert stream.finish().text == "guess 1" and recognizer.calls == [1.0]


# -- the pipeline with a streaming recognizer, real VAD, real espeak-ng ---------------------

@pytest.fixture(scope="module")
def demo_answerer() -> Any:
    from kiosk.qa.answerer import KioskAnswerer
    from kiosk.runtime import open_content
    from kiosk.testing import HashingEncoder

    encoder = HashingEncoder()
    content = open_content(DEMO, encoder)
    return KioskAnswerer(content.pack, content.units, content.vectors, encoder)


@needs_espeak
def test_partials_then_answer_then_word_captions(demo_answerer: Any, tmp_path: Path) -> None:
    turn, events, speakers = spoken_turn(
        demo_answerer, Session("en", ["fr", "en", "es"]),
        ScriptedRecognizer([("who painted the milkmaid", "en")]),
        espeak(tmp_path, "en-us", "Who painted the Milkmaid?"), "en")
    assert turn is not None
    transcript, answer, timings = turn
    assert answer.kind is AnswerKind.ANSWER and answer.exhibit_id == "the-milkmaid"
    kinds = [e.type for e in events if e.type is not EventType.LEVEL]
    partials = [e.text for e in events if e.type is EventType.PARTIAL_TRANSCRIPT]
    assert partials and partials[-1] == "who painted the milkmaid"
    assert partials == sorted(partials, key=len)  # growing, word by word
    assert kinds.index(EventType.PARTIAL_TRANSCRIPT) < kinds.index(EventType.TRANSCRIPT) \
        < kinds.index(EventType.ANSWER) < kinds.index(EventType.SPEAKING_STARTED) \
        < kinds.index(EventType.CAPTION) < kinds.index(EventType.SPEAKING_DONE)
    spoken = next(e.text for e in events if e.type is EventType.SPEAKING_STARTED)
    captions = [e for e in events if e.type is EventType.CAPTION]
    assert [c.text for c in captions] == [spoken[a:b] for a, b in (c.span for c in captions)]
    assert [c.span for c in captions] == sorted(c.span for c in captions)
    said = " ".join(c.text for c in captions)
    assert said.split() == [w for w in spoken.replace(".", " ").replace(",", " ").split()
                            if any(ch.isalnum() for ch in w)][:len(said.split())]
    assert len(captions) >= len(spoken.split()) - 2  # every word, give or take punctuation
    assert speakers.played and "end_of_speech_to_voice" in timings


@needs_espeak
def test_a_microphone_that_goes_away_is_an_error_and_the_next_turn_works(
        demo_answerer: Any, tmp_path: Path) -> None:
    from kiosk.audio.vad import SileroVad

    events: list[PipelineEvent] = []
    recognizer = ScriptedRecognizer([("where are the toilets", "en")] * 2)
    pipeline = Pipeline(demo_answerer, Session("en", ["fr", "en", "es"]), recognizer,
                        listener=events.append)
    rng = np.random.default_rng(0)
    noise = (rng.standard_normal(RATE * 2) * 0.01).astype(np.float32)
    with pytest.raises(AudioError, match="unplugged"):
        pipeline.ask_by_voice(SamplesMicrophone(noise, vanish_after_s=1.0), SileroVad(), "en")
    errors = [e.text for e in events if e.type is EventType.ERROR]
    assert len(errors) == 1 and "plug it back in" in errors[0]
    assert not any(e.type is EventType.ANSWER for e in events)  # nothing half-answered
    back = SamplesMicrophone(espeak(tmp_path, "en-us", "Where are the toilets?"))
    turn = pipeline.ask_by_voice(back, SileroVad(), "en")  # plugged back in
    assert turn is not None and turn[1].source.ref == "toilets"


# -- Vosk for real: the Korean model --------------------------------------------------------

@pytest.fixture(scope="module")
def vosk_ko(data_dir: DataDir) -> Path:
    from kiosk.models import get_spec, installed_dir

    try:
        return installed_dir(data_dir, get_spec("vosk-ko"))
    except ModelError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"vosk-ko not installed ({exc})")


@pytest.fixture(scope="module")
def ko_pack() -> Any:
    from kiosk.content.loader import read_pack

    return read_pack(KO_PACK)


@pytest.mark.models
@needs_espeak
def test_vosk_streams_partials_and_the_grammar_brings_the_title(vosk_ko: Path, ko_pack: Any,
                                                                tmp_path: Path) -> None:
    from kiosk.asr.vocabulary import words_for
    from kiosk.asr.vosk import VoskRecognizer

    recognizer = VoskRecognizer(vosk_ko, "ko", "vosk-ko", words_for(ko_pack, "ko"))
    assert recognizer.dynamic_graph and recognizer.grammar is not None
    audio = espeak(tmp_path, "ko", "모나리자는 누가 그렸나요")
    stream = recognizer.stream("ko")
    partials = [p for i in range(0, len(audio), RATE // 10)
                if (p := stream.feed(audio[i:i + RATE // 10]))]
    transcript = stream.finish()
    assert len(partials) >= 2  # captions while the question is being said
    assert "모나리자" in transcript.text.split()
    assert transcript.lang == "ko" and transcript.audio_s == pytest.approx(len(audio) / RATE)
    assert recognizer.transcribe(audio).text == transcript.text  # same words, whole or chunked


@pytest.mark.models
@needs_espeak
def test_korean_question_answered_through_the_vosk_pipeline(vosk_ko: Path, encoder: Any,
                                                             data_dir: DataDir,
                                                             tmp_path: Path) -> None:
    from kiosk.asr.engines import load_recognizers
    from kiosk.qa.answerer import KioskAnswerer
    from kiosk.runtime import open_content

    content = open_content(KO_PACK, encoder)
    answerer = KioskAnswerer(content.pack, content.units, content.vectors, encoder)
    recognizers = load_recognizers(AsrSettings(engine_by_language="ko=vosk-ko"), data_dir,
                                   content.pack, ["ko"])
    turn, events, speakers = spoken_turn(answerer, Session("ko", ["ko"]), recognizers,
                                         espeak(tmp_path, "ko", "모나리자는 누가 그렸나요"), "ko")
    assert turn is not None
    transcript, answer, _ = turn
    # Vosk's small Korean model hears espeak's voice imperfectly ("모나리자 요하네스 다 누구였"):
    # the kiosk answers about the Mona Lisa, or declines and offers what it knows about her
    about = {answer.exhibit_id, *(s.exhibit_id for s in answer.suggestions)} - {None}
    assert "모나리자" in transcript.text and about == {"mona-lisa"}, (transcript.text, answer)
    assert any(e.type is EventType.PARTIAL_TRANSCRIPT for e in events)
    assert any(e.type is EventType.CAPTION for e in events) and speakers.played


def test_a_missing_vosk_model_stops_start_up_with_the_install_line(tmp_path: Path,
                                                                   ko_pack: Any) -> None:
    from kiosk.asr.engines import load_recognizers

    with pytest.raises(ModelError) as info:
        load_recognizers(AsrSettings(engine_by_language="fr=vosk-small-fr"), DataDir(tmp_path),
                         ko_pack, ["fr"])
    message = str(info.value)
    assert "'fr' uses vosk-small-fr" in message
    assert "kiosk models install vosk-small-fr --from vosk-model-small-fr-0.22.zip" in message
    assert "\n" not in message


def test_engine_by_language_is_checked() -> None:
    from kiosk.asr.engines import engine_map
    from kiosk.errors import SettingsError

    chosen = engine_map(AsrSettings(engine_by_language="fr=vosk-small-fr; es = vosk-small-es"),
                        ["fr", "en", "es"])
    assert chosen == {"fr": "vosk-small-fr", "en": "whisper-base", "es": "vosk-small-es"}
    with pytest.raises(SettingsError, match="write LANG=MODEL"):
        engine_map(AsrSettings(engine_by_language="fr:vosk-small-fr"), ["fr"])


@pytest.mark.models
def test_a_corrupt_vosk_model_is_reported(vosk_ko: Path, tmp_path: Path) -> None:
    from kiosk.asr.vosk import VoskRecognizer

    broken = tmp_path / "vosk-ko"
    for path in vosk_ko.rglob("*"):
        if path.is_file():
            target = broken / path.relative_to(vosk_ko)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    (broken / "am" / "final.mdl").unlink()
    (broken / "am" / "final.mdl").write_bytes(b"not a Kaldi model" * 100)
    with pytest.raises(ModelError, match="cannot load the Vosk model .* reinstall it with "
                                         "`kiosk models install vosk-ko`"):
        VoskRecognizer(broken, "ko", "vosk-ko")
