"""Reading the WAV files users have (any rate, mono/stereo, 8/16/24/32-bit) into 16 kHz mono."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from kiosk.audio.wav import RATE, read_wav, resample, write_wav
from kiosk.errors import AudioError


def tone(rate: int, seconds: float = 0.5, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write(path: Path, frames: bytes, rate: int, width: int, channels: int) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return path


def peak_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.argmax(spectrum) * RATE / len(samples))


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
def test_any_rate_becomes_16k_with_the_same_pitch(tmp_path: Path, rate: int) -> None:
    pcm = (tone(rate) * 32767).astype("<i2").tobytes()
    samples = read_wav(write(tmp_path / "t.wav", pcm, rate, 2, 1))
    assert len(samples) == pytest.approx(RATE * 0.5, abs=2)
    assert peak_hz(samples) == pytest.approx(440, abs=3)


def test_stereo_8_24_32_bit(tmp_path: Path) -> None:
    mono = tone(RATE)
    stereo = np.repeat((mono * 32767).astype("<i2"), 2).tobytes()
    assert np.allclose(read_wav(write(tmp_path / "s.wav", stereo, RATE, 2, 2)), mono, atol=1e-3)
    u8 = ((mono * 127) + 128).astype(np.uint8).tobytes()
    assert np.allclose(read_wav(write(tmp_path / "u8.wav", u8, RATE, 1, 1)), mono, atol=2e-2)
    i32 = (mono.astype(np.float64) * 2**31).astype("<i4")
    assert np.allclose(read_wav(write(tmp_path / "i32.wav", i32.tobytes(), RATE, 4, 1)), mono,
                       atol=1e-4)
    i24 = (mono.astype(np.float64) * 2**23).astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]
    assert np.allclose(read_wav(write(tmp_path / "i24.wav", i24.tobytes(), RATE, 3, 1)), mono,
                       atol=1e-4)


def test_round_trip_and_errors(tmp_path: Path) -> None:
    write_wav(tmp_path / "o.wav", tone(RATE))
    assert np.allclose(read_wav(tmp_path / "o.wav"), tone(RATE), atol=1e-4)
    (tmp_path / "x.wav").write_text("not audio")
    with pytest.raises(AudioError, match="is not a PCM WAV file .* convert it"):
        read_wav(tmp_path / "x.wav")
    with pytest.raises(AudioError, match="no such file"):
        read_wav(tmp_path / "missing.wav")
    assert resample(np.zeros(0, np.float32), 44100).shape == (0,)


def test_a_missing_microphone_is_one_clear_line() -> None:
    """The real sounddevice path: an unknown device name gives an AudioError saying what to do."""
    from kiosk.audio.devices import Microphone, Speakers

    try:
        import sounddevice  # noqa: F401
    except OSError:
        pytest.skip("PortAudio is not installed")
    mic = Microphone("no-such-microphone-xyz")
    with pytest.raises(AudioError, match=r"no microphone no-such-microphone-xyz .* plug one in"):
        mic.open()
    mic.close()
    with pytest.raises(AudioError, match=r"no speakers no-such-speakers .* audio output"):
        Speakers("no-such-speakers").play(np.zeros(1600, dtype=np.float32))
