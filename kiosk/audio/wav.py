"""Read any PCM WAV a user has into 16 kHz mono floats, and write WAVs (standard library only)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from kiosk.errors import AudioError
from kiosk.ports import Samples

RATE = 16_000
"""The rate every recognizer gets."""

_DTYPES = {1: np.uint8, 2: np.int16, 4: np.int32}


def resample(samples: Samples, rate: int, to: int = RATE) -> Samples:
    """Band-limited resampling of a whole clip (FFT; no aliasing when lowering the rate)."""
    if rate == to or len(samples) == 0:
        return samples.astype(np.float32)
    n = int(round(len(samples) * to / rate))
    spectrum = np.fft.rfft(samples)
    keep = min(len(spectrum), n // 2 + 1)
    out = np.fft.irfft(spectrum[:keep], n) * (n / len(samples))
    return out.astype(np.float32)


def read_wav(path: Path) -> Samples:
    """The file's audio as 16 kHz mono float32; AudioError saying what to do otherwise."""
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except (wave.Error, EOFError) as exc:
        raise AudioError(f"{path} is not a PCM WAV file ({exc}) — convert it, e.g. "
                         "`sox IN.mp3 -r 16000 -c 1 OUT.wav`") from None
    if width == 3:
        raw = np.frombuffer(frames, dtype=np.uint8).reshape(-1, 3)
        ints = (raw[:, 0].astype(np.int32) | raw[:, 1].astype(np.int32) << 8
                | raw[:, 2].astype(np.int32) << 16)
        data = np.where(ints >= 1 << 23, ints - (1 << 24), ints).astype(np.float32) / (1 << 23)
    elif width in _DTYPES:
        ints = np.frombuffer(frames, dtype=_DTYPES[width]).astype(np.float32)
        data = (ints - 128) / 128 if width == 1 else ints / float(1 << (8 * width - 1))
    else:
        raise AudioError(f"{path}: {8 * width}-bit samples are not supported — convert to 16-bit")
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    return resample(data.astype(np.float32), rate)


def write_wav(path: Path, samples: Samples, rate: int = RATE) -> None:
    """Write mono float samples as a 16-bit PCM WAV."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())
