"""`kiosk doctor`: is this kiosk healthy? One small function per check, each returning a
``Check``; a check never raises (an unexpected exception becomes a failed check saying so).

Checks, in order: microphone (present and hearing), speakers, every configured model (sha256;
sizes only with ``quick``), the active content version, disk, memory, CPU temperature,
power/throttling (``vcgencmd``), the clock and what keeps it right, then one question end to
end (answered by the real answerer, said by Pico and by espeak-ng — a line each — and heard
back by the recognizer). ``quick`` (the admin screen) skips the slow ones. Healthy means no
check failed (warnings allowed).

Here: running the checks, their summary and ``run_doctor`` (the CLI verb). ``check`` holds the
``Check`` and ``Probe`` types, ``machine`` the checks of the devices and the machine,
``selftest`` those of the models, the content and the question end to end.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from kiosk.doctor.check import FAIL, MARKS, OK, SKIP, WARN, Check, Probe, failed_check
from kiosk.doctor.machine import (
    check_clock,
    check_disk,
    check_memory,
    check_microphone,
    check_power,
    check_speakers,
    check_temperature,
    check_time_source,
)
from kiosk.doctor.selftest import (
    SPEECH_ENGINES,
    check_answer,
    check_content,
    check_model,
    check_recognition,
    check_speech,
    check_vad,
    configured_models,
)
from kiosk.paths import DataDir
from kiosk.settings import Settings

__all__ = ["FAIL", "MARKS", "OK", "SKIP", "WARN", "Check", "Probe", "as_dict", "check_answer",
           "check_clock", "check_content", "check_disk", "check_memory", "check_microphone",
           "check_model", "check_power", "check_recognition", "check_speakers", "check_speech",
           "check_temperature", "check_time_source", "check_vad", "configured_models",
           "run_checks", "run_doctor", "summary"]


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except Exception as exc:  # a check never raises  # noqa: BLE001
        return failed_check(name, exc)


def run_checks(settings: Settings, data: DataDir, quick: bool = False,
               probe: Probe | None = None) -> list[Check]:
    """Every check, in order (``quick``: no sha256, short listening, no end-to-end)."""
    p = probe or Probe(settings, data, quick=quick)
    out = [_guarded("microphone", lambda: check_microphone(p)),
           _guarded("speakers", lambda: check_speakers(p)),
           _guarded("content", lambda: check_content(p))]
    try:
        ids = configured_models(p)
    except Exception as exc:  # noqa: BLE001 - a bad asr.engine_by_language
        out.append(failed_check("models", exc))
        from kiosk.qa.encoder import encoder_ids

        ids = encoder_ids(settings.models.encoder)
    out += [_guarded(f"model {i}", lambda i=i: check_model(p, i)) for i in ids]  # type: ignore[misc]
    out.append(_guarded("model silero-vad", lambda: check_vad(p)))
    for name, check in (("disk", check_disk), ("memory", check_memory),
                        ("CPU temperature", check_temperature), ("power", check_power),
                        ("clock", check_clock), ("time source", check_time_source)):
        out.append(_guarded(name, lambda check=check: check(p)))  # type: ignore[misc]
    if quick:
        out.append(Check("end-to-end", SKIP, "skipped (--quick)"))
        return out
    out.append(_guarded("end-to-end", lambda: check_answer(p)))
    for engine in ("pico", "espeak"):  # each voice, one line each
        out.append(_guarded(f"speech {SPEECH_ENGINES[engine]}",
                            lambda engine=engine: check_speech(p, engine)))  # type: ignore[misc]
    out.append(_guarded("recognition", lambda: check_recognition(p)))
    return out


def summary(checks: list[Check]) -> str:
    """"healthy" (with the warnings counted) or "N problems"."""
    fails = sum(c.status == FAIL for c in checks)
    warns = sum(c.status == WARN for c in checks)
    if fails:
        return f"{fails} problem{'s' * (fails != 1)}"
    return "healthy" + (f" ({warns} warning{'s' * (warns != 1)})" if warns else "")


def as_dict(checks: list[Check]) -> dict[str, Any]:
    fails = sum(c.status == FAIL for c in checks)
    return {"status": "healthy" if not fails else "unhealthy", "healthy": not fails,
            "summary": summary(checks), "failures": fails,
            "warnings": sum(c.status == WARN for c in checks),
            "checks": [asdict(c) for c in checks]}


def run_doctor(settings: Settings, data: DataDir, as_json: bool = False,
               quick: bool = False) -> int:
    """`kiosk doctor`: print the checks; 0 when healthy (warnings allowed), 1 otherwise."""
    checks = run_checks(settings, data, quick)
    if as_json:
        print(json.dumps({**as_dict(checks), "data_dir": str(data.root), "quick": quick},
                         ensure_ascii=False, indent=2))
    else:
        width = max(len(c.name) for c in checks)
        for c in checks:
            print(c.line(width))
        print(summary(checks))
    return 0 if all(c.status != FAIL for c in checks) else 1
