"""The guides stay true: every `kiosk` command the curators' and technicians' guides show in a
shell block runs as written (on a copy of the demo pack named as the guide names it), unless it
needs hardware or files this machine does not have, listed below with the reason."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDES = [ROOT / "docs" / "CURATORS.md", ROOT / "docs" / "TECHNICIANS.md"]
NOT_RUN = {
    "kiosk listen": "needs a microphone (tests/test_listen.py runs it through a virtual one)",
    "kiosk run": "takes the screen, or the microphone with --headless (tests/test_ui_app.py "
                 "runs it offscreen)",
    "kiosk models install": "fetches wheels or needs the official zips (tests/test_models*.py)",
    "kiosk content sync": "a USB stick or a Syncthing folder, and it changes what this machine "
                          "serves (tests/test_content_sync.py, tests/test_syncthing.py)",
    "kiosk content rollback": "changes what this machine serves (tests/test_content_sync.py)",
    "kiosk content import-csv": "a museum's own export (tests/test_import_csv.py)",
    "kiosk studio": "serves until stopped (tests/test_studio_app.py, tests/test_studio_browser.py)",
    "kiosk content build content/my-museum": "a museum's own pack, not in the repository",
}
pytestmark = [pytest.mark.models, pytest.mark.slow]


def shown_commands(guide: Path) -> list[str]:
    """The `kiosk …` lines of the guide's shell blocks, comments cut."""
    text = guide.read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"```(?:sh|bash)\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("kiosk "):
                out.append(line)
    return out


def questions_example() -> str:
    """The curators' guide's example questions file."""
    text = GUIDES[0].read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", text, re.S)
                 if b.lstrip().startswith("- {q:"))
    return block


def test_the_guides_show_commands() -> None:
    for guide in GUIDES:
        assert len(shown_commands(guide)) >= 5, guide


def test_every_command_the_guides_show_runs(tmp_path: Path) -> None:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    shutil.copytree(ROOT / "content" / "demo", tmp_path / "my-pack")
    shutil.copytree(ROOT / "content" / "demo", tmp_path / "content" / "demo")
    (tmp_path / "my-questions.yaml").write_text(questions_example(), encoding="utf-8")
    kiosk = Path(sys.executable).parent / "kiosk"
    settings = tmp_path / "settings.toml"  # the defaults, whatever this machine's /etc holds
    settings.write_text("# defaults\n", encoding="utf-8")
    env = {**os.environ, "KIOSK_SETTINGS": str(settings)}
    ran, results = [], []
    for guide in GUIDES:
        for line in shown_commands(guide):
            if any(line.startswith(prefix) for prefix in NOT_RUN):
                continue
            args = shlex.split(line)
            if args[:2] == ["kiosk", "calibrate"]:  # needs 40 questions: the demo's tune split
                args[-1] = str(ROOT / "tests" / "data" / "dev" / "demo-tune.yaml")
            if "--audio" in args and not (tmp_path / "question.wav").exists():
                # a spoken question: the kiosk's own voice asking it
                subprocess.run([str(kiosk), "ask", "--content", "my-pack", "--say",
                                "question.wav", "who painted the milkmaid"], cwd=tmp_path,
                               env=env, capture_output=True, timeout=300, check=True)
            (tmp_path / "out").mkdir(exist_ok=True)
            done = subprocess.run([str(kiosk), *args[1:]], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, input="", timeout=600)
            ran.append(line)
            results.append((line, done.returncode, (done.stdout + done.stderr)[-400:]))
    failed = [r for r in results if r[1] != 0]
    assert not failed, failed
    assert len(ran) >= 12, ran
