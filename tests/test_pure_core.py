"""The core (pipeline types, QA logic, content schema) imports no engine and needs no model."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "kiosk.events", "kiosk.ports", "kiosk.errors", "kiosk.settings", "kiosk.session",
    "kiosk.pipeline", "kiosk.asr.vocabulary", "kiosk.audio.wav",
    "kiosk.content.schema", "kiosk.content.model", "kiosk.content.loader",
    "kiosk.qa.answerer", "kiosk.qa.index", "kiosk.qa.names", "kiosk.qa.intents",
    "kiosk.qa.text", "kiosk.qa.replies", "kiosk.qa.analysis", "kiosk.qa.sources", "kiosk.qa.scorer",
    "kiosk.qa.policy", "kiosk.qa.lexical", "kiosk.qa.cues", "kiosk.testing", "kiosk.evaluation",
    "kiosk.ui.controller", "kiosk.i18n",
]
ENGINES = ["kivy", "vosk", "faster_whisper", "sounddevice", "pyttsx3", "onnxruntime",
           "onnxruntime_extensions", "ctranslate2", "onnx"]


def test_core_imports_no_engine() -> None:
    code = (
        "import sys\n"
        + "".join(f"sys.modules[{name!r}] = None\n" for name in ENGINES)
        + "".join(f"import {mod}\n" for mod in CORE)
        + "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_blocking_an_engine_really_blocks() -> None:
    """Guard the guard: importing a blocked engine fails, so the test above can fail."""
    code = "import sys\nsys.modules['onnxruntime'] = None\nimport onnxruntime\n"
    result = subprocess.run([sys.executable, "-c", code],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "ImportError" in result.stderr or "ModuleNotFoundError" in result.stderr
