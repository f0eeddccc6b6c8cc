"""The recognizer for each language, as the settings say, behind one ``StreamingRecognizer``.

Every model a language needs is loaded at start-up: a missing one stops the kiosk with the
`kiosk models install …` line to run. There is no silent fallback to another engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kiosk.content.model import Pack
from kiosk.engines import engine_for
from kiosk.errors import SettingsError
from kiosk.events import Transcript
from kiosk.models import get_spec
from kiosk.paths import DataDir
from kiosk.ports import RecognizerStream, Samples, StreamingRecognizer
from kiosk.settings import AsrSettings


def engine_map(asr: AsrSettings, languages: Iterable[str]) -> dict[str, str]:
    """Language → catalog id of its recognizer, for the languages the kiosk serves."""
    chosen: dict[str, str] = {}
    for item in asr.engine_by_language.replace(";", ",").split(","):
        if not item.strip():
            continue
        lang, sep, model_id = item.partition("=")
        if not sep or not lang.strip() or not model_id.strip():
            raise SettingsError(f"asr.engine_by_language: {item.strip()!r} — write LANG=MODEL, "
                                "e.g. \"fr=vosk-small-fr, es=vosk-small-es\"")
        chosen[lang.strip()] = model_id.strip()
    return {lang: chosen.get(lang, asr.engine) for lang in languages}


class Recognizers:
    """Routes each utterance to its language's recognizer; detection needs ``default``."""

    def __init__(self, by_lang: dict[str, StreamingRecognizer],
                 default: StreamingRecognizer) -> None:
        self.by_lang = by_lang
        self.default = default

    def _for(self, lang: str | None) -> StreamingRecognizer:
        return self.by_lang.get(lang, self.default) if lang else self.default

    def transcribe(self, audio: Samples, lang: str | None = None,
                   hotwords: Sequence[str] = ()) -> Transcript:
        return self._for(lang).transcribe(audio, lang, hotwords)

    def stream(self, lang: str | None = None,
               hotwords: Sequence[str] = ()) -> RecognizerStream:
        return self._for(lang).stream(lang, hotwords)


def load_recognizers(asr: AsrSettings, data: DataDir, pack: Pack,
                     languages: Iterable[str]) -> Recognizers:
    """Load every model the languages need (once each); ModelError names the install line."""
    wanted = engine_map(asr, languages)
    loaded: dict[tuple[str, str], StreamingRecognizer] = {}
    by_lang: dict[str, StreamingRecognizer] = {}

    def load(model_id: str, lang: str) -> StreamingRecognizer:
        spec = get_spec(model_id)
        engine = engine_for(spec, "speech-recognizer")
        key = (model_id, lang if engine.per_language else "")
        if key not in loaded:
            loaded[key] = engine.open()(data, spec, key[1], pack, asr)
        return loaded[key]

    for lang, model_id in wanted.items():
        by_lang[lang] = load(model_id, lang)
    return Recognizers(by_lang, load(asr.engine, pack.museum.default_language))
