"""The `kiosk` command as curators use it, with the real encoder, and with no network at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import DEMO

pytestmark = pytest.mark.models

NO_NETWORK = textwrap.dedent("""\
    import socket

    class _NoNetwork(socket.socket):
        def connect(self, *args, **kwargs):
            raise RuntimeError("network access attempted: " + repr(args))
        connect_ex = connect

    def _refuse(*args, **kwargs):
        raise RuntimeError("network access attempted: " + repr(args))

    socket.socket = _NoNetwork
    socket.create_connection = _refuse
    socket.getaddrinfo = _refuse
""")


def kiosk(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
          ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *args], capture_output=True,
                          text=True, input=stdin, env={**os.environ, **(env or {})}, timeout=300)


def test_ask_json(encoder: object) -> None:
    result = kiosk("ask", "--content", str(DEMO), "--json", "qui a peint la laitière ?")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "answer"
    assert data["got"] == "the-milkmaid"
    assert "Vermeer" in data["text"]
    assert data["lang"] == "fr" and data["answer_lang"] == "fr"
    assert data["source"]["kind"] == "fact" and data["source"]["detail"] == "artist"
    assert 0 < data["confidence"] <= 1
    assert 2 <= len(data["suggestions"]) <= 3


def test_interactive_prompt_keeps_the_conversation(encoder: object) -> None:
    result = kiosk("ask", "--content", str(DEMO), "--lang", "en",
                   stdin="who painted the starry night\nwhen was it painted\n:quit\n")
    assert result.returncode == 0, result.stderr
    assert "Vincent van Gogh" in result.stdout
    assert "1889" in result.stdout


def test_ask_with_sockets_disabled(encoder: object, tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(NO_NETWORK)
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    probe = subprocess.run([sys.executable, "-c", "import socket; socket.create_connection("
                            "('127.0.0.1', 9))"], capture_output=True, text=True,
                           env={**os.environ, **env}, timeout=300)
    assert "network access attempted" in probe.stderr  # the guard is really in place
    result = kiosk("ask", "--content", str(DEMO), "--json", "¿dónde están los baños?", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["got"] == "toilets"


def test_missing_model_is_one_clear_line(tmp_path: Path) -> None:
    result = kiosk("--data-dir", str(tmp_path), "ask", "--content", str(DEMO), "hello")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "run `kiosk models install use-multilingual-v3-int8`" in result.stderr


@pytest.mark.slow
def test_build_then_ask_the_bundle(encoder: object, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    build = kiosk("content", "build", str(DEMO), "-o", str(out))
    assert build.returncode == 0, build.stderr
    assert "27 exhibits" in build.stdout
    again = kiosk("content", "build", str(DEMO), "-o", str(tmp_path / "again"))
    ids = [json.loads((p / "manifest.json").read_text())["id"] for p in (out, tmp_path / "again")]
    assert again.returncode == 0 and ids[0] == ids[1]
    result = kiosk("ask", "--content", str(out), "--json", "where is the night watch")
    assert json.loads(result.stdout)["got"] == "the-night-watch"
    assert "3" in json.loads(result.stdout)["text"]


def test_ask_says_the_answer_into_a_wav(encoder: object, tmp_path: Path) -> None:
    import shutil
    import wave

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    out = tmp_path / "answer.wav"
    result = kiosk("ask", "--content", str(DEMO), "--lang", "es", "--say", str(out),
                   "¿dónde están los baños?")
    assert result.returncode == 0, result.stderr
    with wave.open(str(out)) as wav:
        assert wav.getframerate() == 16_000 and wav.getnchannels() == 1
        assert wav.getnframes() / 16_000 > 2.0
