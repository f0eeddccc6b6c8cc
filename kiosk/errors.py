"""The kiosk's one error tree.

    KioskError(message)          each class has a ``code`` (the name after the dash)
     ├── SettingsError - settings   a bad settings file or --set override
     ├── ContentError  - content    a content pack, bundle or content version that cannot be used
     ├── ModelError    - model      a model missing, damaged, not in the catalog or of no engine
     ├── AudioError    - audio      the microphone or the speakers (unplugged, busy, none)
     ├── AsrError      - asr        speech recognition failed on an utterance
     ├── SpeechError   - speech     speech synthesis failed or hung
     └── DisplayError  - display    no screen to open (``kiosk run`` without --headless)

Every message is one line a person can act on: "what is wrong — what to do" (the CLI prints it
after ``kiosk:`` and exits 2; the app shows it calmly and keeps serving). Third-party exceptions
are translated at the adapter boundary (``raise ... from exc``).
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def shown(text: object) -> str:
    """``text`` safe to print on one line of a terminal: control characters (a newline, an
    ANSI escape, a right-to-left override) written as escapes, so that a file or museum name
    cannot forge a line such as "kiosk: now serving bundle …"."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))


class KioskError(Exception):
    """Base of every error the kiosk raises on purpose."""

    code = "kiosk"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        """The message on one line, whatever names it holds: control characters, a newline
        included, escaped (``shown``)."""
        return shown(self.message)


class SettingsError(KioskError):
    code = "settings"


class ContentError(KioskError):
    code = "content"


class ModelError(KioskError):
    code = "model"


class AudioError(KioskError):
    code = "audio"


class AsrError(KioskError):
    code = "asr"


class SpeechError(KioskError):
    code = "speech"


class DisplayError(KioskError):
    code = "display"
