"""Every unit in deploy/systemd passes ``systemd-analyze verify`` with no warning at all.

The units name /opt/kiosk/.venv/bin/kiosk (and /usr/bin/cage), which do not exist here:
a copy with those paths pointed at an existing binary is verified, so that a missing
executable is the only thing forgiven. Also what the units promise (watchdog, notify, the
app's environment) is checked against what the app reads."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
ABSENT = ("/opt/kiosk/.venv/bin/kiosk", "/usr/bin/cage")
ANALYZE = shutil.which("systemd-analyze")


def runnable_copy(unit: Path, into: Path) -> Path:
    text = unit.read_text(encoding="utf-8")
    for path in ABSENT:
        text = text.replace(path, shutil.which("true") or "/bin/true")
    copy = into / unit.name  # the same name: verify checks names in Conflicts= etc.
    copy.write_text(text, encoding="utf-8")
    return copy


def verify(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run([ANALYZE, "verify", *map(str, paths)], capture_output=True,
                          text=True, timeout=120)


def parse(unit: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.read_text(encoding="utf-8"))
    return parser


def test_units_exist() -> None:
    names = {u.name for u in UNITS}
    assert {"kiosk.service", "kiosk-cage.service", "kiosk-headless.service",
            "kiosk-content-sync.service"} <= names


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_unit_verifies_without_warnings(unit: Path, tmp_path: Path) -> None:
    result = verify([runnable_copy(unit, tmp_path)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stderr


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
def test_verify_does_complain(tmp_path: Path) -> None:
    """The check above can fail: a misspelt key and the real /opt path are both reported."""
    unit = tmp_path / "kiosk.service"
    unit.write_text((ROOT / "deploy/systemd/kiosk.service").read_text().replace(
        "WatchdogSec=", "WatchDogSec="), encoding="utf-8")
    result = verify([unit])
    assert "WatchDogSec" in result.stderr
    assert "/opt/kiosk/.venv/bin/kiosk" in result.stderr


@pytest.mark.parametrize("name", ["kiosk.service", "kiosk-cage.service",
                                  "kiosk-headless.service"])
def test_app_units_promise_what_the_app_does(name: str) -> None:
    service = parse(ROOT / "deploy/systemd" / name)["Service"]
    assert service["Type"] == "notify"
    assert int(service["WatchdogSec"]) >= 20  # the app pings every WatchdogSec/2
    assert service["Restart"] == "always" and service["User"] == "kiosk"
    env = " ".join(line for line in (ROOT / "deploy/systemd" / name).read_text().splitlines()
                   if line.startswith("Environment="))
    assert "KIOSK_DATA_DIR=/var/lib/kiosk" in env and "KIOSK_SYSTEM=1" in env
    assert service["ReadWritePaths"] == "/var/lib/kiosk"
    assert service["NoNewPrivileges"] == "yes" and service["PrivateTmp"] == "yes"
    assert "kiosk run" in service["ExecStart"]


def test_console_unit_lets_the_app_reach_screen_touch_and_sound() -> None:
    text = (ROOT / "deploy/systemd/kiosk.service").read_text()
    service = parse(ROOT / "deploy/systemd/kiosk.service")["Service"]
    assert service["NotifyAccess"] == "main" and "SDL_VIDEODRIVER=kmsdrm" in text
    assert set(service["SupplementaryGroups"].split()) == {"audio", "video", "render", "input"}
    allowed = [line.split("=", 1)[1] for line in text.splitlines()
               if line.startswith("DeviceAllow=")]
    assert {"char-drm rw", "char-alsa rw", "char-input r"} <= set(allowed)
    assert "PrivateDevices" not in text.replace("PrivateDevices= is not used", "")
    assert service["ProtectSystem"] == "strict" and service["ProtectHome"] == "yes"
