"""Settings: one TOML file plus command-line overrides, as a tree of frozen dataclasses.

Every setting has a default and a ``doc`` (a test checks it). ``kiosk settings`` prints them
all as a commented TOML file a technician can start from.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

from kiosk.errors import SettingsError

log = logging.getLogger(__name__)


def setting(default: Any, doc: str) -> Any:
    """A dataclass field with its default and the one line that documents it."""
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class QaSettings:
    """How the answerer decides between answering, asking "which one?" and declining."""

    answer_probability: float = setting(
        0.0, "Least probability (0-1) the answer scorer must give the best answer for the kiosk to "
        "say it; 0: the value fitted with the scorer (`kiosk calibrate` fits one on your "
        "questions). Higher: fewer wrong answers, more 'I don't know'."
    )
    clarify_probability: float = setting(
        0.0, "Least probability each of two works needs for the kiosk to ask 'which one do you "
        "mean?' instead of answering; 0: the value fitted with the scorer."
    )
    name_match: float = setting(
        0.6, "Least share (0-1) of a title's words found in the question to say it names the work."
    )
    fuzzy_ratio: int = setting(
        84, "Least similarity (0-100) for a misspelled word to count as a name's word (7+ letters)."
    )
    suggestions: int = setting(3, "How many suggested questions or choices to offer (2-3).")


RETIRED = {
    "qa": {"answer_threshold", "fact_threshold", "faq_threshold", "passage_threshold",
           "other_exhibit_threshold", "decline_margin", "clarify_margin", "out_of_scope_margin",
           "title_by_meaning"},
}
"""Settings earlier versions read: ignored with a warning (the answer scorer replaced them)."""


@dataclass(frozen=True)
class KioskSettings:
    """This kiosk's place in the museum."""

    room: str = setting(
        "", "The room this kiosk stands in, as the content writes it (e.g. \"Salle 2\"): 'who "
        "painted this?' with no conversation yet is about its work (a choice if it has several)."
    )


@dataclass(frozen=True)
class SessionSettings:
    """The conversation with one visitor."""

    language: str = setting(
        "", "Language a new visit starts in (fr, en, es...); empty: the pack's default language."
    )
    idle_reset_s: float = setting(
        90.0, "Seconds without interaction after which the visit is forgotten (touchscreen app)."
    )


@dataclass(frozen=True)
class ModelSettings:
    """Which installed models the kiosk uses."""

    encoder: str = setting(
        "use-multilingual-v3-int8",
        "Catalog id of the question encoder (see `kiosk models list`), or several separated by "
        "commas: the answer scorer weighs each one's evidence. It ships weights for "
        "'use-multilingual-v3-int8' (the default: a few ms a question), "
        "'e5-multilingual-small-q4' and 'use-multilingual-v3-int8,e5-multilingual-small-q4' (more "
        "right answers on new content, but ~35-65 ms a question on 2 x86 cores: over the answer "
        "budget past a few hundred works; see docs/ANSWERER.md).",
    )
    threads: int = setting(1, "CPU threads the encoder may use (1 leaves a core for audio and UI).")


@dataclass(frozen=True)
class AsrSettings:
    """Speech recognition."""

    engine: str = setting(
        "whisper-base", "Catalog id of the recognizer for every language not in "
        "engine_by_language (`kiosk models list` shows the speech recognizers).")
    engine_by_language: str = setting(
        "", "Recognizer per language, e.g. \"fr=vosk-small-fr, es=vosk-small-es\"; a language "
        "not listed uses `engine`. A model that is not installed stops the kiosk at start-up.")
    vosk_grammar: bool = setting(
        True, "Bias Vosk toward the content's words (titles, artists, rooms, curated questions);"
        " words outside it are heard as unknown.")
    whisper_pause_ms: float = setting(
        250.0, "Silence after which Whisper starts decoding what was said, while the "
        "end-pointer still waits (a speech restart drops that guess).")
    whisper_window: str = setting(
        "short", "\"short\": Whisper hears the question plus whisper_pad_s of silence (about 2-5× "
        "faster on a question; a decode that loops is done again the other way); \"full\": "
        "every question padded to Whisper's 30 s window (`bench/asr.py --windows`).")
    whisper_pad_s: float = setting(
        3.0, "Silence added after a question in the short window, in seconds.")
    whisper_n_best: int = setting(
        1, "Hypotheses Whisper keeps for the name repair to choose from (above 1: beam search, "
        "slower).")
    threads: int = setting(2, "CPU threads Whisper may use.")
    beam_size: int = setting(1, "Whisper beam size: 1 is fastest; 5 is a little more accurate.")
    detect_language: bool = setting(
        False, "Detect the spoken language (slower) instead of using the visit's language.")
    repair_names: bool = setting(
        True, "Put back the names of works, artists and places that the recogniser misheard, "
        "using the content's own names, before a spoken question is answered (captions still "
        "show what was heard). Off: the answerer reads the transcript as heard.")
    whisper_hotwords: int = setting(
        0, "How many content names (titles, artists) to pass to Whisper as hotwords; 0 = none "
        "(measured: with Whisper base they made it repeat names that were never said).")


@dataclass(frozen=True)
class AudioSettings:
    """Microphone, speakers and end-pointing."""

    input_device: str = setting("", "Microphone name or index (`python -m sounddevice`); "
                                "empty: the system default.")
    output_device: str = setting("", "Speakers name or index; empty: the system default.")
    vad_threshold: float = setting(0.5, "Speech probability (0-1) above which a frame is speech.")
    trailing_silence_ms: float = setting(
        700.0, "Silence after speech that ends a question, in milliseconds.")
    max_utterance_s: float = setting(12.0, "A question is cut after this many seconds.")
    no_speech_s: float = setting(
        6.0, "Seconds of listening without speech before the kiosk says it heard nothing.")


@dataclass(frozen=True)
class SpeechSettings:
    """Speech synthesis (SVOX Pico through py-nanotts, or espeak-ng through pyttsx3)."""

    engine: str = setting(
        "pico", "Voice: \"pico\" (SVOX Pico: clear French, English, Spanish; German, Italian "
        "too; espeak-ng says any other language, and a text Pico fails on) or \"espeak\" "
        "(espeak-ng for everything).")
    pico_voices: str = setting(
        "", "Pico voice per language when not the default (fr-FR, en-US, es-ES, de-DE, "
        "it-IT), e.g. \"en=en-GB\".")
    rate: int = setting(165, "Speaking rate in words per minute.")
    volume: float = setting(1.0, "Speech volume, 0-1.")
    timeout_s: float = setting(
        10.0, "Seconds a sentence may take to synthesise before the worker is restarted.")
    slow_factor: float = setting(
        0.75, "Speaking rate when a visitor asks for slower speech (a share of `rate`).")

    def __post_init__(self) -> None:
        if self.engine not in ("pico", "espeak"):
            raise SettingsError(f"[speech] engine must be \"pico\" or \"espeak\", got "
                                f"{self.engine!r} — fix the settings file")
        self.voice_map()

    def voice_map(self) -> dict[str, str]:
        """``pico_voices`` as ``{language: voice}``."""
        out = {}
        for part in self.pico_voices.replace(";", ",").split(","):
            if not part.strip():
                continue
            lang, eq, voice = part.partition("=")
            if not eq or not lang.strip() or not voice.strip():
                raise SettingsError(f"[speech] pico_voices: {part.strip()!r} — write "
                                    "LANG=VOICE, e.g. \"en=en-GB\"")
            out[lang.strip()] = voice.strip()
        return out


@dataclass(frozen=True)
class ContentSettings:
    """Content versions on this kiosk (`kiosk content sync`)."""

    trusted_keys: str = setting(
        "", "Ed25519 public keys (files from `kiosk content keygen`, comma-separated) whose "
        "signatures the kiosk accepts; when any is set, unsigned bundles are refused.")
    keep: int = setting(3, "Old content versions kept on disk besides the current one.")
    max_file_mb: float = setting(200.0, "Largest single file a bundle may hold, in MB.")
    max_total_mb: float = setting(2000.0, "Largest total size of a bundle, in MB.")


@dataclass(frozen=True)
class InsightsSettings:
    """What visitors asked (never audio, no identifiers)."""

    enabled: bool = setting(True, "Log each turn (time, language, question text, outcome).")
    retention_days: int = setting(
        90, "Days a logged turn is kept; older ones are deleted automatically.")


@dataclass(frozen=True)
class UiSettings:
    """The touchscreen app (`kiosk run`)."""

    fullscreen: bool = setting(True, "Full screen, borderless, no cursor (off with --windowed).")
    admin_pin: str = setting(
        "2468", "PIN of the admin screen (long-press the top-left corner); change it.")
    admin_hold_s: float = setting(
        3.0, "Seconds the top-left corner must be held to open the admin screen.")
    rotation: int = setting(
        0, "Turn the picture by 0, 90, 180 or 270 degrees (a portrait screen mounted sideways)"
        "; touches are turned with it.")
    blank_from: str = setting(
        "", "Time the screen goes black each day, \"HH:MM\" (e.g. \"19:00\"); empty: never. "
        "A touch wakes it; on a Raspberry Pi the display is also switched off.")
    blank_until: str = setting(
        "", "Time the screen wakes by itself, \"HH:MM\" (e.g. \"09:30\"; earlier than "
        "blank_from means the next morning); set with blank_from.")
    touch: str = setting(
        "hidinput", "How the full-screen kiosk on the console reads the touchscreen: hidinput "
        "or mtdev (Kivy reads /dev/input/event* itself, multitouch), or sdl (touches arrive "
        "from SDL as a mouse, one finger). Under cage or a desktop SDL is always used.")
    image_cache_mb: float = setting(
        64.0, "Memory for the works' images already shown, in MB (decoded no larger than the "
        "screen; the least recently shown leave first).")


@dataclass(frozen=True)
class StudioSettings:
    """The curators' studio (`kiosk studio PACK`): a local web page over a content pack."""

    password: str = setting(
        "", "Password the browser asks for (any user name); needed to serve beyond this "
        "computer (--host), and asked on this computer too when set.")
    sign_keys: str = setting(
        "", "Private key files (from `kiosk content keygen`, comma-separated, relative to the "
        "settings file) that publications may be signed with; the browser sees only names.")
    output: str = setting(
        "", "Default folder publications are written to (relative to the settings file); "
        "empty: PACK-published beside the pack.")
    send_folder: str = setting(
        "", "A Syncthing folder that sends bundles to the kiosks, offered as a destination "
        "(relative to the settings file).")
    image_mb: float = setting(20.0, "Largest image a curator may upload, in MB (at most 20).")
    archive_mb: float = setting(200.0, "Largest insights archive a curator may upload, in MB.")


@dataclass(frozen=True)
class LimitSettings:
    """Input sizes no museum comes near: past them an input is refused in one line."""

    file_mb: float = setting(
        2.0, "Largest content file (YAML) read, in MB; the demo's largest is 13 KB.")
    exhibit_files: int = setting(10_000, "Most exhibit files a pack may hold.")
    values_per_file: int = setting(
        100_000, "Most values (texts, numbers, lists, field names) in one content file.")
    entries_per_list: int = setting(
        2_000, "Most entries in one list of a content file (FAQ entries, Q&A pairs, phrasings).")
    short_text_chars: int = setting(
        500, "Longest title, name, artist, date, room, question, alias or tag, in characters.")
    long_text_chars: int = setting(
        20_000, "Longest description, answer or reply in one language, in characters.")
    question_chars: int = setting(
        500, "Longest question read; a longer one is cut at a word boundary and answered.")
    question_audio_s: float = setting(
        60.0, "Longest recording read as a question (`kiosk ask --audio`), in seconds.")
    image_megapixels: float = setting(
        50.0, "Largest image decoded, in megapixels (it is reduced to the screen as it is read).")
    import_rows: int = setting(20_000, "Most rows `kiosk content import` reads from one CSV.")
    report_days: int = setting(
        3_660, "Longest span of days a visitor report covers; turns dated outside it are counted "
        "apart (a kiosk without a battery clock may log wrong dates).")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if not getattr(self, f.name) > 0:
                raise SettingsError(f"[limits] {f.name} must be above 0, got "
                                    f"{getattr(self, f.name)!r} — fix the settings file")


@dataclass(frozen=True)
class Settings:
    """The whole kiosk's settings."""

    kiosk: KioskSettings = field(default_factory=KioskSettings)
    qa: QaSettings = field(default_factory=QaSettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    models: ModelSettings = field(default_factory=ModelSettings)
    asr: AsrSettings = field(default_factory=AsrSettings)
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    content: ContentSettings = field(default_factory=ContentSettings)
    insights: InsightsSettings = field(default_factory=InsightsSettings)
    studio: StudioSettings = field(default_factory=StudioSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)


T = TypeVar("T")


def _build(cls: type[T], data: Mapping[str, Any], where: str) -> T:
    hints = get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    retired = RETIRED.get(where.rsplit("[", 1)[-1].rstrip("]"), set())
    for key, raw in data.items():
        if key in retired and key not in known:
            log.warning("%s: setting '%s' is no longer used (the answer scorer replaced it) — "
                        "remove it; `kiosk calibrate` fits the answer_probability", where, key)
            continue
        if key not in known:
            raise SettingsError(
                f"{where}: unknown setting '{key}' — known here: {', '.join(sorted(known))}"
            )
        kind = hints[key]
        if dataclasses.is_dataclass(kind):
            if not isinstance(raw, Mapping):
                raise SettingsError(f"{where}: '{key}' must be a table [{key}]")
            values[key] = _build(kind, raw, f"{where} [{key}]")  # type: ignore[arg-type]
            continue
        values[key] = _coerce(raw, kind, f"{where}: '{key}'")
    return cls(**values)


def _coerce(raw: Any, kind: Any, where: str) -> Any:
    if isinstance(kind, types.GenericAlias) or kind not in (bool, int, float, str):
        return raw
    if kind is bool and isinstance(raw, str):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
    try:
        if kind is float and isinstance(raw, (int, float, str)) and not isinstance(raw, bool):
            value = float(raw)
            if math.isfinite(value):  # (nan compares false with every limit: never allowed)
                return value
        if kind is int and isinstance(raw, (int, str)) and not isinstance(raw, bool):
            return int(raw)
        if kind is str and isinstance(raw, str):
            return raw
        if kind is bool and isinstance(raw, bool):
            return raw
    except ValueError:
        pass
    raise SettingsError(f"{where} must be a {kind.__name__}, got {raw!r}")


def parse_override(text: str) -> tuple[list[str], str]:
    """Split ``qa.answer_threshold=0.6`` into (["qa", "answer_threshold"], "0.6")."""
    if "=" not in text:
        raise SettingsError(
            f"--set {text!r}: write it as SECTION.NAME=VALUE, e.g. qa.suggestions=2")
    key, value = text.split("=", 1)
    return key.strip().split("."), value.strip()


def load_settings(path: Path | None = None, overrides: list[str] | None = None) -> Settings:
    """Read the TOML file (if any) and apply ``SECTION.NAME=VALUE`` overrides on top."""
    data: dict[str, Any] = {}
    where = "settings"
    if path is not None:
        where = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"{path}: no such settings file — check --settings") from None
        except UnicodeDecodeError:
            raise SettingsError(f"{path}: not UTF-8 text — save it as UTF-8") from None
        except OSError as exc:
            raise SettingsError(f"{path}: cannot be read ({exc.strerror}) — give a settings "
                                "file with --settings") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: not valid TOML ({exc}) — fix the file") from None
    for text in overrides or []:
        keys, value = parse_override(text)
        node = data
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return _build(Settings, data, where)


def default_settings_path() -> Path | None:
    """``KIOSK_SETTINGS`` if set, else /etc/kiosk/settings.toml when it exists."""
    env = os.environ.get("KIOSK_SETTINGS")
    if env:
        return Path(env)
    system = Path("/etc/kiosk/settings.toml")
    return system if system.exists() else None


def describe(settings: Settings | None = None) -> str:
    """Every setting as a commented TOML document (the technician's reference)."""
    settings = settings or Settings()
    lines = ["# Gallery kiosk settings. Every value shown is the default."]
    for top in dataclasses.fields(settings):
        section = getattr(settings, top.name)
        lines += ["", f"[{top.name}]", f"# {type(section).__doc__}"]
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            shown = (
                f'"{value}"' if isinstance(value, str) else str(value).lower()
                if isinstance(value, bool) else repr(value)
            )
            lines += [f"# {f.metadata['doc']}", f"{f.name} = {shown}"]
    return "\n".join(lines) + "\n"
