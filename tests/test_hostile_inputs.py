"""Hostile and broken input — a WAV file, a question, an image — costs bounded memory and time
and gives one clear line, never a traceback. Every input is made here, in ``tmp_path``."""

from __future__ import annotations

import logging
import os
import resource
import struct
import subprocess
import sys
import threading
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiosk.audio.wav import RATE, read_wav
from kiosk.content import images
from kiosk.errors import AudioError, ModelError
from kiosk.events import Question
from kiosk.qa.answerer import admitted
from kiosk.settings import LimitSettings
from kiosk.ui.pictures import Pictures, decode
from tests.conftest import DEMO

MAX_SECONDS = LimitSettings().question_audio_s
MAX_QUESTION_CHARS = LimitSettings().question_chars

MEMORY_LIMIT = 2 << 30
"""Address space a child ``kiosk`` may use (RLIMIT_AS): the red team's inputs took 1.7–10 GB."""


def kiosk(*args: str | bytes, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """``kiosk ARGS`` in a child limited to ``MEMORY_LIMIT`` of address space."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    return subprocess.run([sys.executable, "-m", "kiosk.cli", *args], capture_output=True,
                          preexec_fn=limit, timeout=timeout, env={**os.environ})


def one_line(stderr: bytes) -> str:
    """The child's stderr, checked to be one line and no traceback."""
    text = stderr.decode("utf-8", "replace")
    assert "Traceback" not in text and text.count("\n") == 1, text
    return text.strip()


# -- WAV files ---------------------------------------------------------------------------------


def wav(path: Path, rate: int, frames: int = 0, width: int = 2, channels: int = 1,
        data: bytes | None = None) -> Path:
    """A PCM WAV whose header says ``rate``, ``channels``, ``width`` and ``frames``, whatever
    the audio after it (``data``; silence of that length by default)."""
    size = frames * width * channels
    body = bytes(size) if data is None else data
    frame = width * channels
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * frame % 2**32, frame, 8 * width)
    path.write_bytes(b"RIFF" + struct.pack("<I", 36 + len(body)) + b"WAVE"
                     + b"fmt " + struct.pack("<I", len(fmt)) + fmt
                     + b"data" + struct.pack("<I", size) + body)
    return path


def speech(seconds: float, rate: int = RATE) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2").tobytes()


def refused(path: Path, match: str) -> AudioError:
    """read_wav's AudioError for ``path``, checked to be one line and cheap: what a broken
    header says is never allocated."""
    tracemalloc.start()
    try:
        with pytest.raises(AudioError, match=match) as caught:
            read_wav(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "\n" not in str(caught.value) and " — " in str(caught.value)
    assert peak < 5_000_000, f"{peak / 1e6:.0f} MB for a refused file"
    return caught.value


@pytest.mark.parametrize("rate", [0, 1, 3_999, 192_001, 4_000_000_000])
def test_a_rate_outside_the_range_is_refused_from_the_header(tmp_path: Path, rate: int) -> None:
    # 1 Hz over 200,000 frames: resampled to 16 kHz it was 3.2 billion samples (10 GB)
    path = wav(tmp_path / "q.wav", rate, frames=200_000)
    refused(path, rf"its header says {rate} Hz, outside 4000–192000 Hz .* convert it")


def test_more_than_a_questions_length_is_refused_before_reading(tmp_path: Path) -> None:
    seconds = MAX_SECONDS + 1
    path = wav(tmp_path / "long.wav", 8_000, frames=int(8_000 * seconds), width=1)
    refused(path, r"holds 61 s of audio, more than the 60 s the kiosk reads — cut it")
    assert len(read_wav(path, max_seconds=2 * MAX_SECONDS)) == int(RATE * seconds)


def test_a_header_that_lies_about_its_length_costs_what_the_file_holds(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A header promising hours (or a stream writer's placeholder) over a second of audio."""
    path = wav(tmp_path / "q.wav", RATE, frames=0x7FFF_F000 // 2, data=speech(1.0))
    tracemalloc.start()
    try:
        with caplog.at_level(logging.WARNING, logger="kiosk.audio.wav"):
            samples = read_wav(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(samples) == RATE and peak < 20_000_000
    assert [r.getMessage() for r in caplog.records] == [
        f"{path} holds less audio than its header says (16000 of 1073739776 frames: cut "
        "short, or written as a stream) — reading the 1.00 s it holds"]


def test_a_file_cut_mid_frame_gives_its_whole_frames(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pcm = np.repeat(np.frombuffer(speech(0.5), "<i2"), 2).tobytes()  # stereo
    path = wav(tmp_path / "cut.wav", RATE, frames=8_000, channels=2, data=pcm[:-3])
    with caplog.at_level(logging.WARNING, logger="kiosk.audio.wav"):
        samples = read_wav(path)
    assert len(samples) == 7_999
    assert np.allclose(samples, np.frombuffer(speech(0.5), "<i2")[:7_999] / 32768, atol=1e-4)
    assert len(caplog.records) == 1 and "7999 of 8000 frames" in caplog.records[0].getMessage()


def test_what_is_not_a_readable_wav_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "folder.wav").mkdir()
    refused(tmp_path / "folder.wav", r"is a folder, not a WAV file — give the path")
    (tmp_path / "text.wav").write_text("who painted the milkmaid?")
    refused(tmp_path / "text.wav", r"is not a PCM WAV file .* — convert it")
    head = wav(tmp_path / "head.wav", RATE, data=b"").read_bytes()
    (tmp_path / "head.wav").write_bytes(head[:30])  # cut inside its header
    refused(tmp_path / "head.wav", r"not a PCM WAV file \(it ends inside its header\)")
    refused(wav(tmp_path / "many.wav", RATE, frames=10, channels=9),
            r"its header says 9 channels, more than 8")


CLI_WAVS = {
    "1 Hz": (lambda p: wav(p, 1, frames=200_000), "its header says 1 Hz, outside"),
    "0 Hz": (lambda p: wav(p, 0, frames=16_000), "its header says 0 Hz, outside"),
    "61 s": (lambda p: wav(p, 4_000, frames=244_000, width=1), "more than the 60 s"),
    "a folder": (lambda p: p.mkdir(), "is a folder, not a WAV file"),
    "not a WAV": (lambda p: p.write_bytes(b"ID3\x03" + bytes(500)), "is not a PCM WAV file"),
}


@pytest.fixture(scope="module")
def recognizer_installed() -> None:
    from kiosk.models import get_spec
    from kiosk.models.files import installed_dir
    from kiosk.paths import DataDir, resolve_data_dir
    from kiosk.settings import Settings

    try:
        installed_dir(DataDir(resolve_data_dir()), get_spec(Settings().asr.engine))
    except ModelError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"the speech recognizer is not installed ({exc})")


@pytest.mark.models
@pytest.mark.parametrize("case", CLI_WAVS)
def test_kiosk_ask_audio_refuses_a_broken_wav_in_one_line(
        recognizer_installed: None, tmp_path: Path, case: str) -> None:
    make, expected = CLI_WAVS[case]
    path = tmp_path / "question.wav"
    make(path)
    result = kiosk("ask", "--content", str(DEMO), "--audio", str(path))
    line = one_line(result.stderr)
    assert result.returncode == 2 and line.startswith(f"kiosk: {path}") and expected in line
    assert result.stdout == b""


@pytest.mark.slow  # recognises the second of audio: ~7 s
@pytest.mark.models
def test_kiosk_ask_audio_answers_a_file_cut_mid_frame(
        recognizer_installed: None, tmp_path: Path) -> None:
    path = wav(tmp_path / "cut.wav", RATE, frames=16_000, data=speech(1.0)[:-1])
    result = kiosk("ask", "--content", str(DEMO), "--audio", str(path))
    line = one_line(result.stderr)
    assert result.returncode == 0 and "holds less audio than its header says (15999 of " \
        "16000 frames" in line
    assert "s of audio" in result.stdout.decode()


# -- questions ---------------------------------------------------------------------------------


def test_a_long_question_is_cut_at_a_word_boundary(caplog: pytest.LogCaptureFixture) -> None:
    short = Question("who painted the milkmaid?", "en")
    assert admitted(short) is short
    exact = Question("a" * MAX_QUESTION_CHARS, "en")
    assert admitted(exact) is exact
    text = "who painted the milkmaid " * 1000
    with caplog.at_level(logging.WARNING, logger="kiosk.qa.answerer"):
        cut = admitted(Question(text, "en"))
    assert len(cut.text) <= MAX_QUESTION_CHARS and text.startswith(cut.text)
    assert cut.text.endswith("milkmaid") and cut.lang == "en"
    assert [r.getMessage() for r in caplog.records] == [
        f"a question of 25000 characters was cut to its first {len(cut.text)} (the answerer "
        "reads at most 500, [limits] question_chars) — ask it in fewer words"]
    unspaced = admitted(Question("絵" * 2000, "ja")).text  # no spaces: cut at the cap
    assert unspaced == "絵" * MAX_QUESTION_CHARS


def test_bytes_that_are_not_utf8_reach_the_answerer_as_replacement_characters() -> None:
    question = admitted(Question("who painted \udcff the milkmaid", "en"))
    assert question.text == "who painted \ufffd the milkmaid"
    question.text.encode("utf-8")


@pytest.mark.models
def test_kiosk_ask_answers_a_huge_question_within_bounds(encoder: Any) -> None:
    question = "who painted the milkmaid and why does the bread shine so " * 2_000  # < 128 kB
    result = kiosk("ask", "--content", str(DEMO), "--lang", "en", question)
    line = one_line(result.stderr)
    assert result.returncode == 0, line
    assert line.startswith(f"a question of {len(question)} characters was cut to its first ")
    assert "Vermeer" in result.stdout.decode()


def test_kiosk_ask_refuses_a_question_that_is_not_utf8_in_one_line() -> None:
    result = kiosk(b"ask", b"--content", str(DEMO).encode(), b"who painted \xff the milkmaid")
    assert result.returncode == 2 and result.stdout == b""
    assert one_line(result.stderr) == (
        "kiosk: the question is not UTF-8 text (byte 0xff at character 13) — set the terminal "
        "to UTF-8 (e.g. LANG=C.UTF-8) and type it again")


# -- images --------------------------------------------------------------------------------------


def png(path: Path, width: int, height: int, bits: int = 1) -> Path:
    """A striped greyscale PNG of any size, written a row at a time (a few kB on disk)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))

    row = b"\0" + (bytes(range(256)) * width)[: (width * bits + 7) // 8]
    pack = zlib.compressobj(9)
    pixels = b"".join(pack.compress(row) for _ in range(height)) + pack.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bits, 0, 0, 0, 0))
                     + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))
    return path


def decoding_peak_mb(path: Path, side: int) -> tuple[str, float]:
    """``decode(path, side)`` in a child process: what it gave, and the memory it took."""
    code = ("import resource, sys\n"
            "from kiosk.ui.pictures import decode\n"
            "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "try:\n"
            "    print(decode(sys.argv[1], int(sys.argv[2])).size)\n"
            "except Exception as exc:\n"
            "    print(type(exc).__name__, exc)\n"
            "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)\n")
    result = subprocess.run([sys.executable, "-c", code, str(path), str(side)],
                            capture_output=True, text=True, timeout=120, check=True)
    shown, peak = result.stdout.splitlines()
    return shown, float(peak)


def test_a_picture_over_the_pixel_limit_is_refused_from_its_header(tmp_path: Path) -> None:
    huge = png(tmp_path / "huge.png", 12_000, 12_000)  # decoded whole, it took 1.7 GB
    shown, peak_mb = decoding_peak_mb(huge, 480)
    assert shown == ("DecompressionBombError too many pixels to decode safely: 12000×12000 is "
                     "144 megapixels, the kiosk decodes at most 50 ([limits] image_megapixels)")
    assert peak_mb < 50
    assert images.check(huge) == (shown.removeprefix("DecompressionBombError "), (0, 0))


def test_a_picture_just_under_the_limit_is_shown_reduced(tmp_path: Path) -> None:
    side = int(images.max_pixels() ** 0.5)  # 7071 × 7071, 8 bits: 50 MB as the file has it
    shown, peak_mb = decoding_peak_mb(png(tmp_path / "big.png", side, side, bits=8), 480)
    assert shown == "(480, 480)", peak_mb
    assert peak_mb < 120  # the file's own pixels once, not copies of them (it was 4×)


class Now:
    """Runs what ``Pictures`` hands to the UI thread at once, on its worker (no texture is
    made for a picture that is refused, so no window is needed)."""

    def __call__(self, call: Any) -> None:
        call()


def test_the_touchscreen_shows_no_picture_and_logs_one_line(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    huge = png(tmp_path / "huge.png", 12_000, 12_000)
    bomb = png(tmp_path / "bomb.png", 18_000, 18_000)  # past Pillow's own limit too
    pictures = Pictures(schedule=Now())
    got: list[Any] = []
    arrived = threading.Event()

    def done(texture: Any) -> None:
        got.append(texture)
        arrived.set()

    try:
        with caplog.at_level(logging.WARNING, logger="kiosk.ui.pictures"):
            for path in (huge, bomb):
                arrived.clear()
                assert pictures.get(str(path), 480, done) is None
                assert arrived.wait(60)
                assert pictures.get(str(path), 480, done) is None  # not tried again
    finally:
        pictures.close()
    assert got == [None, None] and pictures.decoded == 0
    assert [r.getMessage() for r in caplog.records] == [
        f"image {huge} cannot be shown (too many pixels to decode safely: 12000×12000 is 144 "
        "megapixels, the kiosk decodes at most 50 ([limits] image_megapixels)) — replace it "
        "with a copy about 2000 pixels wide",
        f"image {bomb} cannot be shown (too many pixels to decode safely) — replace it with a "
        "copy about 2000 pixels wide"]


def test_the_bomb_limit_is_still_pillows_beyond_it(tmp_path: Path) -> None:
    from PIL import Image

    with pytest.raises(Image.DecompressionBombError):
        decode(str(png(tmp_path / "bomb.png", 18_000, 18_000)), 480)
