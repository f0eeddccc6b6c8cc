"""Whisper (faster-whisper, CTranslate2 int8 on the CPU) behind ``ports.Recognizer``.

The only module that imports faster_whisper. The model is read from the kiosk's data
directory (``kiosk models install whisper-base``); nothing is downloaded.

Two windows. ``full`` is faster-whisper's own path: every utterance padded to Whisper's 30 s,
so a 2 s question costs the encoder as much as 30 s of speech. ``short`` (the default) adds
``pad_s`` of silence only and runs CTranslate2's ``encode``/``generate`` on that (the engine
accepts fewer than 3000 mel frames). Whisper was trained on 30 s windows and, given a short one
and no timestamps, reads the sentence again ("What time is it? What time is it? ..."). So the
short window decodes with timestamps (Whisper then marks where the speech ends and stops), caps
the tokens by the audio's length, and a decode that still repeats a phrase or reaches the cap is
done again with the full window. ``bench/asr.py --windows`` chose the padding and measures all
of it on held-out speech.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from kiosk.audio.wav import RATE
from kiosk.errors import AsrError, ModelError
from kiosk.events import Transcript
from kiosk.models import get_spec, installed_path
from kiosk.paths import DataDir
from kiosk.ports import Samples

if TYPE_CHECKING:
    from kiosk.content.model import Pack
    from kiosk.models import ModelSpec
    from kiosk.paths import DataDir
    from kiosk.settings import AsrSettings

Window = Literal["short", "full"]

TEMPERATURES = (0.0, 0.4)
"""Greedy first, one warmer retry when the text looks like a loop (not Whisper's six: a
visitor is waiting). The full window only; the short one falls back to it instead."""

WINDOW_S = 30.0
"""Whisper's window: what faster-whisper pads every utterance to."""

PAD_S = 3.0
"""Silence added after the utterance in the short window. Chosen on the tune half of
``bench/asr.py --windows``: with timestamps, 2, 3 and 4 s never looped there (0.5 and 1 s did,
mostly on short questions), and 3 s had the lowest word error rate of them at about the same
time."""

TOKENS_PER_S = 8.0
"""Token cap per second of audio (see ``token_cap``)."""

MAX_LENGTH = 448
"""Whisper's text context, prompt included."""

HOP = 160
"""Samples per mel frame."""


def repeated_phrase(text: str) -> str | None:
    """The phrase a decode says again and again, or None: two or more words said twice in a
    row ("what time is it what time is it"), or one word three times ("la la la"). A visitor
    rarely does that; a Whisper given a short window often does."""
    words = _words(text)
    for n in range(1, len(words) // 2 + 1):
        times = 2 if n > 1 else 3
        for i in range(len(words) - n * times + 1):
            phrase = words[i:i + n]
            if all(words[i + k * n:i + (k + 1) * n] == phrase for k in range(1, times)):
                return " ".join(phrase)
    return None


def distinct(texts: Sequence[str]) -> tuple[str, ...]:
    """The texts that differ in their words (not only in case or punctuation), in order."""
    seen: dict[str, str] = {}
    for text in texts:
        seen.setdefault(" ".join(_words(text)), text)
    return tuple(t for key, t in seen.items() if key)


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


def compression_ratio(text: str) -> float:
    """Whisper's loop measure: how well the text compresses (faster-whisper retries above 2.4)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def max_length(prompt: int, cap: int) -> int:
    """CTranslate2's ``max_length`` that lets Whisper write ``cap`` tokens after a prompt of
    this many: it writes at most half of ``max_length`` (Whisper's own rule) and at most
    ``max_length`` less the prompt but its last token. (Prompt + cap, which faster-whisper
    passes for ``max_new_tokens``, about halves the cap.)"""
    return min(MAX_LENGTH, max(2 * cap, prompt - 1 + cap))


def looping(text: str) -> bool:
    """Whether a short-window decode went round in circles (then the full window decides)."""
    return repeated_phrase(text) is not None or compression_ratio(text) > 2.4


class WhisperRecognizer:
    """Transcribes whole utterances; the language is fixed by the session or detected."""

    def __init__(self, model_dir: Path, threads: int = 2, beam_size: int = 1,
                 max_tokens: int = 200, pause_ms: float = 250, window: Window = "short",
                 pad_s: float = PAD_S, tokens_per_s: float = TOKENS_PER_S,
                 timestamps: bool = True, loop_guard: bool = True,
                 detect_window: Window = "short", n_best: int = 1) -> None:
        if window not in ("short", "full") or detect_window not in ("short", "full"):
            raise ModelError(f"unknown Whisper window '{window}'/'{detect_window}' — use "
                             "'short' or 'full'")
        if n_best < 1 or pad_s < 0:
            raise ModelError(f"Whisper needs n_best >= 1 and pad_s >= 0 (got {n_best}, "
                             f"{pad_s}) — fix the ASR settings")
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ModelError(f"faster-whisper is not installed ({exc}) — run `make setup`") \
                from exc
        try:
            self._model = WhisperModel(str(model_dir), device="cpu", compute_type="int8",
                                       cpu_threads=threads, local_files_only=True)
        except Exception as exc:  # CTranslate2 raises plain RuntimeError/ValueError
            raise ModelError(f"cannot load Whisper from {model_dir}: {exc} — reinstall it with "
                             "`kiosk models install whisper-base`") from exc
        self.beam_size = beam_size
        self.pause_ms = pause_ms
        """Silence after which a stream starts decoding what was said (a guess)."""
        self.max_tokens = max_tokens
        """A cap on the words of one utterance (a question is short; it stops runaway loops)."""
        self.window: Window = window
        """``short``: the utterance plus ``pad_s`` of silence; ``full``: padded to 30 s."""
        self.pad_s = pad_s
        """Silence added after the utterance in the short window, in seconds."""
        self.tokens_per_s = tokens_per_s
        """Tokens allowed per second of audio (``token_cap``)."""
        self.timestamps = timestamps
        """Short window: decode with timestamps, so Whisper marks where the speech ends."""
        self.loop_guard = loop_guard
        """Short window: a decode that repeats a phrase or reaches the cap is done again with
        the full window (off: kept as it is; for the bench and the tests)."""
        self.detect_window: Window = detect_window
        """The window used to detect the language when none is given."""
        self.n_best = n_best
        """Hypotheses kept in ``Transcript.alternatives`` (beam search when above 1; the
        full window then runs through ``encode``/``generate`` too, without the warmer retry)."""
        self.fallbacks = 0
        """Short decodes that looped and were done again with the full window (for the bench)."""
        self._tokenizers: dict[str, Any] = {}

    def token_cap(self, seconds: float) -> int:
        """Tokens an utterance this long may need. Measured on the tune half of
        ``bench/asr.py --windows`` (the full window's texts, two timestamps added): read
        speech at most 6.0 tokens per second of audio (p95 5.8), 1.6-3.4 s synthetic
        questions at most 7.4 (p95 6.7); 10 + 8 a second leaves room for both. Seen here:
        Whisper base looping on synthetic speech ("5, 5, 5, …", "la la la …") up to the cap;
        a cap by length stops that early (and a short-window decode that reaches it is done
        again with the full window)."""
        return max(16, min(self.max_tokens, int(10 + self.tokens_per_s * seconds)))

    def transcribe(self, audio: Samples, lang: str | None = None,
                   hotwords: Sequence[str] = ()) -> Transcript:
        seconds = len(audio) / RATE
        try:
            if self.window == "short" and seconds + self.pad_s <= WINDOW_S \
                    and (lang is not None or self.detect_window == "short"):
                heard = self._decode(audio, lang, hotwords, self.pad_s, self.loop_guard)
                if heard is not None:
                    return heard
                self.fallbacks += 1
            if self.n_best > 1 and seconds <= WINDOW_S:
                full = self._decode(audio, lang, hotwords, None, guard=False)
                assert full is not None
                return full
            return self._full(audio, lang, hotwords)
        except AsrError:
            raise
        except Exception as exc:  # the engine's own errors, translated here
            raise AsrError(f"Whisper failed on this audio: {exc}") from exc

    def _full(self, audio: Samples, lang: str | None, hotwords: Sequence[str]) -> Transcript:
        """faster-whisper's own path: the 30 s window, temperature fallback."""
        words = ", ".join(hotwords) or None
        prompt = len(self._model.get_prompt(self._tokenizer(lang or "en"), [],
                                            without_timestamps=True, hotwords=words))
        segments, info = self._model.transcribe(
            audio, language=lang, beam_size=self.beam_size, hotwords=words,
            condition_on_previous_text=False, without_timestamps=True, vad_filter=False,
            max_new_tokens=max_length(prompt, self.token_cap(len(audio) / RATE)) - prompt,
            temperature=TEMPERATURES)
        text = " ".join(s.text.strip() for s in segments).strip()
        return Transcript(text=text, lang=info.language,
                          language_probability=float(info.language_probability),
                          audio_s=len(audio) / RATE)

    def _decode(self, audio: Samples, lang: str | None, hotwords: Sequence[str],
                pad_s: float | None, guard: bool) -> Transcript | None:
        """One encode and one generate on ``audio`` plus ``pad_s`` of silence (None: up to
        30 s); None when ``guard`` and the text loops or reaches the cap."""
        seconds = len(audio) / RATE
        frames = int(WINDOW_S * RATE / HOP)
        pad = frames * HOP - len(audio) if pad_s is None else int(pad_s * RATE)
        padded = np.concatenate([audio.astype(np.float32), np.zeros(max(0, pad), np.float32)])
        features = self._model.feature_extractor(padded)[:, :frames]
        encoded = self._model.encode(features)
        model = self._model.model
        probability = 1.0
        if lang is None:
            token, probability = model.detect_language(encoded)[0][0]
            lang = token[2:-2]
        tokenizer = self._tokenizer(lang)
        timestamps = self.timestamps and pad_s is not None
        prompt = self._model.get_prompt(tokenizer, [], without_timestamps=not timestamps,
                                        hotwords=", ".join(hotwords) or None)
        cap = self.token_cap(seconds)
        width = max(self.beam_size, self.n_best)
        result = model.generate(
            encoded, [prompt], beam_size=width, num_hypotheses=min(self.n_best, width),
            max_length=max_length(len(prompt), cap), suppress_blank=True,
            suppress_tokens=self._suppressed(tokenizer))[0]
        texts = [tokenizer.decode(ids).strip() for ids in result.sequences_ids]
        if guard and (len(result.sequences_ids[0]) >= cap or looping(texts[0])):
            return None
        alternatives = distinct(texts) if self.n_best > 1 else ()
        return Transcript(text=texts[0], lang=lang, language_probability=float(probability),
                          audio_s=seconds, alternatives=alternatives)

    def _tokenizer(self, lang: str) -> Any:
        if lang not in self._tokenizers:
            from faster_whisper.tokenizer import Tokenizer

            try:
                self._tokenizers[lang] = Tokenizer(self._model.hf_tokenizer,
                                                   self._model.model.is_multilingual,
                                                   task="transcribe", language=lang)
            except ValueError as exc:
                raise AsrError(f"Whisper cannot transcribe language '{lang}' — use a language "
                               "code Whisper knows (en, fr, es, …)") from exc
        return self._tokenizers[lang]

    @staticmethod
    def _suppressed(tokenizer: Any) -> list[int]:
        from faster_whisper.transcribe import get_suppressed_tokens

        return list(get_suppressed_tokens(tokenizer, [-1]) or [])

    def stream(self, lang: str | None = None, hotwords: Sequence[str] = ()) -> WhisperStream:
        """An utterance fed as it is spoken (see ``WhisperStream``)."""
        return WhisperStream(self, lang, hotwords, self.pause_ms)


class WhisperStream:
    """One utterance for Whisper, which only decodes whole utterances: when the visitor
    pauses, the words so far are decoded at once, in the background, while the end-pointer
    is still waiting to be sure the question is over. If the visitor goes on, that guess is
    dropped; if not, the transcript is ready (or nearly) when the end-pointer fires.
    """

    def __init__(self, recognizer: WhisperRecognizer, lang: str | None,
                 hotwords: Sequence[str], pause_ms: float) -> None:
        self._recognizer = recognizer
        self._lang = lang
        self._hotwords = tuple(hotwords)
        self._pause = int(pause_ms * RATE / 1000)
        self._chunks: list[Samples] = []
        self._samples = 0
        self._silence = 0
        self._heard_speech = False
        self._guess_at = -1
        """How many samples the running or finished guess covers (-1: none)."""
        self._guess: Transcript | BaseException | None = None
        self._thread: threading.Thread | None = None
        self._shown = False
        self.guesses = 0
        """How many background decodes were started (for the bench)."""

    def feed(self, samples: Samples, speech: bool = True) -> str | None:
        self._chunks.append(samples)
        self._samples += len(samples)
        if speech:
            self._heard_speech = True
            self._silence = 0
            self._guess_at = -1  # the visitor goes on: any guess is stale
            self._shown = False
        else:
            self._silence += len(samples)
        idle = self._thread is None or not self._thread.is_alive()
        if self._heard_speech and self._silence >= self._pause and self._guess_at < 0 and idle:
            self._start_guess()
            idle = False
        if self._guess_at >= 0 and idle and not self._shown \
                and isinstance(self._guess, Transcript):
            self._shown = True
            return self._guess.text  # the caption, while the end-pointer is still waiting
        return None

    def _start_guess(self) -> None:
        audio = np.concatenate(self._chunks)
        self._guess_at = len(audio)
        self._guess = None
        self.guesses += 1

        def run() -> None:
            try:
                self._guess = self._recognizer.transcribe(audio, self._lang, self._hotwords)
            except BaseException as exc:  # handed to finish(), which re-raises it
                self._guess = exc

        self._thread = threading.Thread(target=run, name="whisper-guess", daemon=True)
        self._thread.start()

    def finish(self) -> Transcript:
        if self._thread is not None:
            self._thread.join()
        audio_s = self._samples / RATE
        if self._guess_at >= 0 and self._guess is not None:
            if isinstance(self._guess, BaseException):
                raise self._guess
            # only silence came after the guess's audio: it is the transcript
            return replace(self._guess, audio_s=audio_s)
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
        return self._recognizer.transcribe(audio, self._lang, self._hotwords)


def load_whisper(data: DataDir, model_id: str = "whisper-base", threads: int = 2,
                 beam_size: int = 1, pause_ms: float = 250, *, window: Window = "short",
                 pad_s: float = PAD_S, n_best: int = 1) -> WhisperRecognizer:
    """The installed Whisper model; ModelError naming the install command when missing."""
    spec = get_spec(model_id)
    if spec.role != "speech-recognizer":
        raise ModelError(f"model '{model_id}' is a {spec.role}, not a speech recognizer — "
                         "fix asr.whisper_model in the settings")
    for f in spec.files:
        installed_path(data, spec, f.name)
    return WhisperRecognizer(data.model_dir(spec.id), threads=threads, beam_size=beam_size,
                             pause_ms=pause_ms, window=window, pad_s=pad_s, n_best=n_best)


def open_engine(data: DataDir, spec: ModelSpec, lang: str, pack: Pack,
                asr: AsrSettings) -> WhisperRecognizer:
    """The registry's loader (``kiosk.engines``): one Whisper for every language."""
    if asr.whisper_window not in ("short", "full"):
        raise ModelError(f"[asr] whisper_window is {asr.whisper_window!r} — use \"short\" or "
                         "\"full\" in the settings")
    window: Window = "short" if asr.whisper_window == "short" else "full"
    return load_whisper(data, spec.id, asr.threads, asr.beam_size, asr.whisper_pause_ms,
                        window=window, pad_s=asr.whisper_pad_s, n_best=asr.whisper_n_best)
