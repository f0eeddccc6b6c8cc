"""Any WAV header a file may hold — rates, channels, sample sizes and lengths that lie — gives
either 16 kHz samples of at most a minute or one AudioError line, within bounded memory
(hypothesis: 300 headers; the crafted cases are in ``test_hostile_inputs.py``)."""

from __future__ import annotations

import struct
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.audio.wav import read_wav
from kiosk.errors import AudioError


def header(rate: int, channels: int, width: int, nframes_claim: int, fmt: int = 1) -> bytes:
    """A RIFF/WAVE header with these fields, as any program could write it."""
    block = channels * width
    fmt_chunk = struct.pack("<HHIIHH", fmt, channels, rate, (rate * block) & 0xFFFFFFFF,
                            block & 0xFFFF, (8 * width) & 0xFFFF)
    data_len = nframes_claim * block
    return (b"RIFF" + struct.pack("<I", (36 + data_len) & 0xFFFFFFFF) + b"WAVE"
            + b"fmt " + struct.pack("<I", 16) + fmt_chunk
            + b"data" + struct.pack("<I", data_len & 0xFFFFFFFF))

@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rate=st.one_of(st.integers(4_000, 192_000), st.integers(0, 2**32 - 1)),
       channels=st.one_of(st.integers(1, 8), st.integers(0, 65535)),
       width=st.one_of(st.integers(1, 4), st.integers(0, 8)),
       claim=st.one_of(st.integers(0, 5_000_000), st.integers(0, 2**30)),
       body=st.binary(max_size=4096), fmt=st.sampled_from([1, 1, 1, 3, 0xFFFE]))
def test_any_header_is_samples_or_one_audio_error(
        tmp_path_factory: pytest.TempPathFactory, rate: int, channels: int, width: int,
        claim: int, body: bytes, fmt: int) -> None:
    path = tmp_path_factory.mktemp("w") / "q.wav"
    path.write_bytes(header(rate, channels, width, claim, fmt) + body)
    tracemalloc.start()
    try:
        out = read_wav(path)
        assert out.dtype == np.float32 and len(out) <= 60 * 16000 + 1
    except AudioError as exc:
        assert "\n" not in str(exc)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 64 << 20
