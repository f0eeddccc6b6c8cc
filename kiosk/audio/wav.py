"""Read any PCM WAV a user has into 16 kHz mono floats, and write WAVs (standard library only).

What a file may be is checked from its header before any audio is read: a rate of
``MIN_RATE``–``MAX_RATE`` Hz, at most ``MAX_CHANNELS`` channels and ``[limits] question_audio_s``
of audio, so
a hostile or broken header cannot make the kiosk allocate gigabytes.
"""

from __future__ import annotations

import logging
import os
import wave
from pathlib import Path

import numpy as np

from kiosk import limits
from kiosk.errors import AudioError, shown
from kiosk.ports import Samples

log = logging.getLogger(__name__)

RATE = 16_000
"""The rate every recognizer gets."""

MIN_RATE = 4_000
"""Lowest sample rate read (Hz): below it there is no speech to recognise."""

MAX_RATE = 192_000
"""Highest sample rate read (Hz): the highest that recorders and sound cards use."""

MAX_CHANNELS = 8
"""Most channels read (a surround or multi-microphone recording); they are mixed to mono."""

_DTYPES = {1: np.uint8, 2: np.int16, 4: np.int32}
_BLOCK_FRAMES = 1 << 16
"""Frames read and mixed down at a time, so the file's bytes are never all in memory."""

_CONVERT = "convert it, e.g. `sox IN.wav -r 16000 -c 1 OUT.wav`"


def resample(samples: Samples, rate: int, to: int = RATE) -> Samples:
    """Band-limited resampling of a whole clip (FFT; no aliasing when lowering the rate)."""
    if rate == to or len(samples) == 0:
        return samples.astype(np.float32)
    n = int(round(len(samples) * to / rate))
    if n == 0:  # (a clip of a sample or two: nothing at the new rate)
        return np.zeros(0, dtype=np.float32)
    spectrum = np.fft.rfft(samples)
    keep = min(len(spectrum), n // 2 + 1)
    out = np.fft.irfft(spectrum[:keep], n) * (n / len(samples))
    return out.astype(np.float32)


def read_wav(path: Path | str, max_seconds: float | None = None) -> Samples:
    """The file's audio as 16 kHz mono float32; AudioError saying what to do otherwise (its
    rate, channels, sample size and length are checked from the header before reading).
    ``max_seconds``: default ``[limits] question_audio_s`` (a visitor's question is a few
    seconds; the kiosk speaks sentence by sentence)."""
    if max_seconds is None:
        max_seconds = limits.current().question_audio_s
    try:
        with wave.open(str(path), "rb") as wav:
            rate, frames = wav.getframerate(), _checked_frames(wav, path, max_seconds)
            data, got = _read_mono(wav, frames)
            promised = wav.getnframes()
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise AudioError(f"{path} is a folder, not a WAV file — give the path of a .wav "
                         "file") from None
    except (wave.Error, EOFError) as exc:
        why = str(exc) or "it ends inside its header"
        raise AudioError(f"{path} is not a PCM WAV file ({why}) — {_CONVERT}") from None
    except OSError as exc:
        raise AudioError(f"{path} cannot be read ({exc.strerror or exc}) — check that it is "
                         "a readable file") from None
    if got < promised:
        log.warning("%s holds less audio than its header says (%d of %d frames: cut short, or "
                    "written as a stream) — reading the %.2f s it holds", shown(path), got,
                    promised, got / rate)
    return resample(data, rate)


def _checked_frames(wav: wave.Wave_read, path: Path | str, max_seconds: float) -> int:
    """How many frames to read, once the header's rate, channels, sample size and length are
    known to be safe to read (AudioError otherwise)."""
    width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(f"{path}: its header says {rate} Hz, outside {MIN_RATE}–{MAX_RATE} Hz "
                         f"(damaged or not a recording) — {_CONVERT}")
    if channels > MAX_CHANNELS:
        raise AudioError(f"{path}: its header says {channels} channels, more than "
                         f"{MAX_CHANNELS} (damaged or not a recording) — {_CONVERT}")
    if width not in (1, 2, 3, 4):
        raise AudioError(f"{path}: {8 * width}-bit samples are not supported — convert to "
                         "16-bit")
    # a header may promise more than the file holds (a streaming writer's placeholder length)
    frames = min(wav.getnframes(), os.path.getsize(path) // (width * channels))
    if frames > max_seconds * rate:
        raise AudioError(f"{path} holds {frames / rate:.0f} s of audio, more than the "
                         f"{max_seconds:.0f} s the kiosk reads — cut it to the question, e.g. "
                         f"`sox IN.wav OUT.wav trim 0 {max_seconds:.0f}`")
    return frames


def _read_mono(wav: wave.Wave_read, frames: int) -> tuple[Samples, int]:
    """Up to ``frames`` frames mixed to mono float32, a block at a time, and how many were
    read (fewer when the file is cut short; a last partial frame is left out)."""
    width, channels = wav.getsampwidth(), wav.getnchannels()
    out = np.empty(frames, dtype=np.float32)
    got = 0
    while got < frames:
        raw = wav.readframes(min(_BLOCK_FRAMES, frames - got))
        n = len(raw) // (width * channels)
        if n == 0:
            break
        out[got:got + n] = _mono(raw[: n * width * channels], width, channels)
        got += n
    return out[:got], got


def _mono(raw: bytes, width: int, channels: int) -> Samples:
    """Whole frames of PCM bytes as mono float32 in [-1, 1]."""
    if width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
        ints = (b[:, 0].astype(np.int32) | b[:, 1].astype(np.int32) << 8
                | b[:, 2].astype(np.int32) << 16)
        data = np.where(ints >= 1 << 23, ints - (1 << 24), ints).astype(np.float32) / (1 << 23)
    else:
        data = np.frombuffer(raw, dtype=_DTYPES[width]).astype(np.float32)
        data = (data - 128) / 128 if width == 1 else data / float(1 << (8 * width - 1))
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    return data.astype(np.float32, copy=False)


def write_wav(path: Path, samples: Samples, rate: int = RATE) -> None:
    """Write mono float samples as a 16-bit PCM WAV."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    if Path(path).is_dir():  # (wave.open would fail, then complain again on collection)
        raise AudioError(f"{shown(path)} is a folder — give a file name, e.g. {shown(path)}/"
                         "answer.wav")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())
