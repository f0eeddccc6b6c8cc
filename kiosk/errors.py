"""The kiosk's one error tree.

    KioskError(code, message)
     ├── SettingsError   a bad settings file or override
     ├── ContentError    a content pack or bundle that cannot be used
     ├── ModelError      a model missing, corrupt or not in the catalog
     ├── AnswerError     the answering stage failed
     ├── AudioError      microphone or playback (later issues)
     ├── AsrError        speech recognition (later issues)
     └── SpeechError     speech synthesis (later issues)

Every message is one line a person can act on: what is wrong, and what to do.
Third-party exceptions are translated at the adapter boundary (``raise ... from exc``).
"""

from __future__ import annotations


class KioskError(Exception):
    """Base of every error the kiosk raises on purpose."""

    code = "kiosk"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SettingsError(KioskError):
    code = "settings"


class ContentError(KioskError):
    code = "content"


class ModelError(KioskError):
    code = "model"


class AnswerError(KioskError):
    code = "answer"


class AudioError(KioskError):
    code = "audio"


class AsrError(KioskError):
    code = "asr"


class SpeechError(KioskError):
    code = "speech"
