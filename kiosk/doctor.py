"""`kiosk doctor`: is this kiosk healthy? One small function per check, each returning a
``Check``; a check never raises (an unexpected exception becomes a failed check saying so).

Checks, in order: microphone (present and hearing), speakers, every configured model (sha256;
sizes only with ``quick``), the active content version, disk, memory, CPU temperature,
power/throttling (``vcgencmd``), the clock and what keeps it right, then one question end to
end (answered by the real answerer, said by espeak-ng, heard back by the recognizer). ``quick``
(the admin screen) skips the slow ones. Healthy means no check failed (warnings allowed).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kiosk.errors import KioskError
from kiosk.paths import DataDir
from kiosk.ports import Microphone
from kiosk.settings import Settings

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
MARKS = {OK: "✓", WARN: "!", FAIL: "✗", SKIP: "-"}
MB = 1 << 20
DISK_WARN, DISK_FAIL = 1024 * MB, 200 * MB
MEMORY_BUDGET, MEMORY_FAIL = 700 * MB, 200 * MB
"""The kiosk's peak memory with every model loaded (DESIGN budgets), and the least to run."""
TEMP_WARN, TEMP_FAIL = 70.0, 80.0
"""°C; a Raspberry Pi starts throttling at 80 °C."""
EARLIEST = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
"""No clock can rightly be earlier: this software did not exist."""
FAR_YEARS = 10
"""A clock more than this many years after the content's build is wrong."""
WHO_PAINTED = {"en": "Who painted {}?", "fr": "Qui a peint {} ?", "es": "¿Quién pintó {}?"}
THROTTLE_BITS = {0: "under-voltage now", 1: "CPU frequency capped now", 2: "throttled now",
                 3: "soft temperature limit now", 16: "under-voltage since boot",
                 17: "frequency capped since boot", 18: "throttled since boot",
                 19: "soft temperature limit since boot"}
"""`vcgencmd get_throttled` bits (Raspberry Pi documentation)."""


@dataclass(frozen=True)
class Check:
    """The result of one check."""

    name: str
    """What was checked ("microphone", "model whisper-base", …)."""
    status: str
    """ok, warn, fail or skip."""
    detail: str
    """What was found, in one line."""
    fix: str = ""
    """What to do about it (warn and fail), in one line."""

    def line(self, width: int = 22) -> str:
        fix = f" — {self.fix}" if self.fix and self.status in (WARN, FAIL) else ""
        return f"{MARKS[self.status]} {self.name:<{width}} {self.detail}{fix}"


@dataclass
class Probe:
    """What the checks look at; tests and the admin screen replace parts of it."""

    settings: Settings
    data: DataDir
    quick: bool = False
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    root: Path = Path("/")
    """Where /sys and /proc are (a fake tree in tests)."""
    listen: Callable[[], tuple[Microphone, Any]] | None = None
    """The running kiosk's own microphone (admin screen): used and left open."""
    in_app: bool = False
    """Running inside the kiosk: its own memory counts as available to it."""
    serving: Path | None = None
    """The content the running kiosk was given with ``--content`` (instead of the installed
    version)."""
    found: dict[str, Any] = field(default_factory=dict)
    """What one check leaves for the next (content, answerer, the question asked)."""


def _split(message: str) -> tuple[str, str]:
    """A kiosk message "what is wrong — what to do" as (detail, fix)."""
    detail, _, fix = message.partition(" — ")
    return detail, fix


def _failed(name: str, exc: BaseException) -> Check:
    if isinstance(exc, KioskError):
        return Check(name, FAIL, *_split(str(exc)))
    return Check(name, FAIL, f"the check itself failed: {type(exc).__name__}: {exc}",
                 "report this line to the kiosk's maintainers")


def _run(command: list[str]) -> str | None:
    """A command's output, or None when it is absent or fails."""
    if shutil.which(command[0]) is None:
        return None
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


# -- devices ---------------------------------------------------------------------------------
def check_microphone(p: Probe) -> Check:
    """Open the microphone and listen (1 s; 0.3 s with quick); warn when perfectly silent."""
    from kiosk.audio.devices import Microphone as DeviceMicrophone
    from kiosk.audio.endpoint import level
    from kiosk.errors import AudioError

    device = p.settings.audio.input_device or "(default)"
    mic: Microphone = p.listen()[0] if p.listen else DeviceMicrophone(
        p.settings.audio.input_device)
    listen_s, heard, peak = (0.3 if p.quick else 1.0), 0.0, 0.0
    try:
        mic.start()
        mic.drain()
        for chunk in mic.chunks():
            heard += len(chunk) / 16000
            peak = max(peak, level(chunk))
            if heard >= listen_s:
                break
    except AudioError as exc:
        if "device -1" in str(exc):  # PortAudio sees no input device at all
            return Check("microphone", FAIL, "no input device", "plug in the USB microphone; "
                         "`python -m sounddevice` lists devices (set audio.input_device)")
        return Check("microphone", FAIL, *_split(str(exc)))
    finally:
        if p.listen is None:
            mic.close()
    what = f"{device}: level {peak:.2f} over {heard:.1f} s"
    if peak == 0.0:
        return Check("microphone", WARN, f"{what} — perfectly silent",
                     "check that it is not muted (`alsamixer`, capture) and is the right device")
    return Check("microphone", OK, what)


def check_speakers(p: Probe) -> Check:
    """Open the speakers and play 0.1 s of silence (nothing is heard)."""
    import numpy as np

    from kiosk.audio.devices import Speakers
    from kiosk.errors import AudioError

    try:
        Speakers(p.settings.audio.output_device).play(np.zeros(1600, dtype=np.float32))
    except AudioError as exc:
        if "device -1" in str(exc):
            return Check("speakers", FAIL, "no output device", "plug in the speakers (or the "
                         "HDMI/USB audio); set audio.output_device (`python -m sounddevice`)")
        return Check("speakers", FAIL, *_split(str(exc)))
    return Check("speakers", OK, f"{p.settings.audio.output_device or '(default)'}: present")


# -- models and content ------------------------------------------------------------------------
def configured_models(p: Probe) -> list[str]:
    """Catalog ids the settings use: the encoder and each language's recognizer."""
    from kiosk.asr.engines import engine_map

    languages = p.found.get("languages") or ["fr", "en", "es"]
    asr = engine_map(p.settings.asr, languages)
    return list(dict.fromkeys([p.settings.models.encoder, p.settings.asr.engine, *asr.values()]))


def check_model(p: Probe, model_id: str) -> Check:
    """Every file of the model present, at its size and (unless quick) its sha256."""
    from kiosk import models

    name = f"model {model_id}"
    spec = models.get_spec(model_id)
    target, command = p.data.model_dir(model_id), models.install_command(spec)
    files = {f.name: (f.size, f.sha256) for f in spec.files}
    if spec.source.get("kind") == "archive":
        try:
            recorded = json.loads((target / models.MANIFEST).read_text(encoding="utf-8"))
            files = {n: (f["size"], f["sha256"]) for n, f in recorded["files"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            files = {}
    if not files or not any((target / n).exists() for n in files):
        return Check(name, FAIL, f"not installed in {p.data.models}", f"run `{command}`")
    for rel, (size, sha) in files.items():
        path = target / rel
        if not path.is_file() or path.stat().st_size != size:
            return Check(name, FAIL, f"{rel} is missing or the wrong size",
                         f"run `{command}` again")
        if not p.quick and models.sha256_file(path) != sha:
            return Check(name, FAIL, f"{rel} does not match its sha256 (damaged)",
                         f"run `{command}` again")
    how = "sizes checked (quick)" if p.quick else "sha256 verified"
    return Check(name, OK, f"{len(files)} file{'s' * (len(files) != 1)}, {how}")


def check_vad(p: Probe) -> Check:
    """Silero VAD (inside faster-whisper), sha256-checked as the kiosk does at start-up."""
    from kiosk.audio.vad import silero_path

    silero_path()
    return Check("model silero-vad", OK, "sha256 verified (inside faster-whisper)")


def check_content(p: Probe) -> Check:
    """The version the kiosk would serve: complete, every file matching, the right encoder."""
    from kiosk import models
    from kiosk.content import bundle
    from kiosk.content.sync import current_version
    from kiosk.errors import ContentError
    from kiosk.runtime import default_content

    if p.serving is not None and not (p.serving / bundle.MANIFEST).is_file():
        return Check("content", OK, f"pack {p.serving} (given with --content; validated when "
                     "the kiosk started)")
    try:
        folder = p.serving or default_content(p.data)
        if p.serving is not None:
            bundle.verify(folder)
    except ContentError as exc:
        return Check("content", FAIL, _split(str(exc))[0],
                     "sync a bundle: `kiosk content sync SRC` (a bundle folder, archive or "
                     "USB stick)")
    manifest = bundle.read_manifest(folder)
    p.found.update(content=folder, manifest=manifest, languages=manifest.get("languages"))
    built = str(manifest.get("created", "?"))[:16].replace("T", " ") + " UTC"
    what = (f"{folder.name[:12]}: {manifest.get('museum', '?')}, "
            f"{manifest.get('counts', {}).get('exhibits', '?')} works, built {built}")
    spec = models.get_spec(p.settings.models.encoder)
    encoder = manifest.get("encoder") or {}
    if encoder.get("id") != spec.id or encoder.get("sha256") != spec.files[0].sha256:
        return Check("content", FAIL, f"{what}: built for encoder {encoder.get('id')}, the "
                     f"kiosk uses {spec.id}", "build the bundle again with this encoder")
    if p.serving is None and folder.name != current_version(p.data):
        return Check("content", WARN, f"serving the previous version {what}: the current one "
                     "is damaged", "sync the current bundle again (`kiosk content sync SRC`)")
    return Check("content", OK, what)


# -- the machine ----------------------------------------------------------------------------------
def check_disk(p: Probe) -> Check:
    where = p.data.root
    while not where.exists() and where != where.parent:
        where = where.parent
    free = shutil.disk_usage(where).free
    what = f"{free / (1 << 30):.1f} GB free in {where}"
    fix = "free some space: old content versions (`kiosk content status`), logs, models not used"
    if free < DISK_FAIL:
        return Check("disk", FAIL, what, fix)
    return Check("disk", WARN, what, fix) if free < DISK_WARN else Check("disk", OK, what)


def check_memory(p: Probe) -> Check:
    info = dict(re.findall(r"^(\w+):\s+(\d+) kB", (p.root / "proc/meminfo").read_text(),
                           re.M))
    available, total = int(info["MemAvailable"]) << 10, int(info["MemTotal"]) << 10
    if p.in_app:  # the kiosk's own memory is already its own
        rss = re.search(r"^VmRSS:\s+(\d+) kB", (p.root / "proc/self/status").read_text(), re.M)
        available += int(rss.group(1)) << 10 if rss else 0
    what = (f"{available // MB} MB available of {total // MB} MB (the kiosk needs up to "
            f"{MEMORY_BUDGET // MB} MB)")
    fix = "stop other programs, or use a board with 2 GB or more"
    if available < MEMORY_FAIL:
        return Check("memory", FAIL, what, fix)
    return Check("memory", WARN, what, fix) if available < MEMORY_BUDGET else \
        Check("memory", OK, what)


def check_temperature(p: Probe) -> Check:
    temps = []
    for zone in sorted((p.root / "sys/class/thermal").glob("thermal_zone*/temp")):
        try:
            temps.append(int(zone.read_text().strip()) / 1000)
        except (OSError, ValueError):
            continue
    if not temps:
        return Check("CPU temperature", SKIP, "no thermal sensor here")
    hottest = max(temps)
    what, fix = f"{hottest:.1f} °C", "give it air: a heatsink or fan, not in a closed box"
    if hottest >= TEMP_FAIL:
        return Check("CPU temperature", FAIL, f"{what} — the CPU is slowed down", fix)
    return Check("CPU temperature", WARN, what, fix) if hottest >= TEMP_WARN else \
        Check("CPU temperature", OK, what)


def check_power(p: Probe) -> Check:
    """Under-voltage and throttling, from `vcgencmd get_throttled` (Raspberry Pi)."""
    if shutil.which("vcgencmd") is None:
        return Check("power", SKIP, "vcgencmd not found (not a Raspberry Pi)")
    out = _run(["vcgencmd", "get_throttled"]) or ""
    found = re.search(r"throttled=(0x[0-9a-fA-F]+|\d+)", out)
    if not found:
        return Check("power", WARN, f"`vcgencmd get_throttled` said {out.strip()!r}",
                     "run it by hand; the kiosk user may need to be in the 'video' group")
    bits = int(found.group(1), 0)
    said = [text for bit, text in THROTTLE_BITS.items() if bits >> bit & 1]
    what = f"throttled={found.group(1)}: " + (", ".join(said) or "no under-voltage, "
                                                "no throttling")
    fix = ("use the official power supply (5.1 V, 3 A for a Pi 4, 5 A for a Pi 5) and a short "
           "cable; give it air if it is hot")
    if bits & 0xF:
        return Check("power", FAIL, what, fix)
    return Check("power", WARN, what, fix) if bits else Check("power", OK, what)


def check_clock(p: Probe) -> Check:
    """Not before the content was built (nor this software), not in the far future."""
    now = p.now()
    manifest = p.found.get("manifest") or {}
    floor, against = EARLIEST, "this software"
    if manifest.get("created"):
        built = dt.datetime.strptime(str(manifest["created"]), "%Y-%m-%dT%H:%M:%SZ")
        floor, against = built.replace(tzinfo=dt.UTC), "the content's build"
    what = f"{now:%Y-%m-%d %H:%M} UTC"
    fix = ("set the time (`sudo date -s 'YYYY-MM-DD HH:MM'`) — exhibition dates depend on it; "
           "fit an RTC or give it a LAN time server")
    if now < floor - dt.timedelta(days=1):
        return Check("clock", FAIL, f"{what} is before {against} ({floor:%Y-%m-%d})", fix)
    if now.year > floor.year + FAR_YEARS:
        return Check("clock", FAIL, f"{what} is more than {FAR_YEARS} years after {against} "
                     f"({floor:%Y-%m-%d})", fix)
    return Check("clock", OK, f"{what} (after {against}, {floor:%Y-%m-%d})")


def check_time_source(p: Probe) -> Check:
    """NTP (timedatectl) or a real-time clock keeps the time across power cuts."""
    out = _run(["timedatectl", "show"]) or ""
    state = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    rtc = sorted(path.name for path in (p.root / "sys/class/rtc").glob("rtc*"))
    if state.get("NTPSynchronized") == "yes":
        return Check("time source", OK, "synchronised by NTP" + (f"; RTC {rtc[0]}" if rtc
                                                                 else ""))
    if rtc:
        return Check("time source", OK, f"real-time clock {rtc[0]} (NTP not synchronised)")
    ntp = "not synchronised" if state else "status unknown (" + (
        "timedatectl gave no answer" if shutil.which("timedatectl") else "no timedatectl") + ")"
    return Check("time source", WARN, f"no real-time clock, NTP {ntp}: after a power cut the "
                 "clock may be wrong and exhibition dates with it",
                 "fit an RTC (Pi 5: its RTC battery), or a LAN time server "
                 "(systemd-timesyncd); or set the time after each start")


# -- end to end ----------------------------------------------------------------------------------
def check_answer(p: Probe) -> Check:
    """"Who painted <the first work on view>?" in the content's language, answered for real."""
    from kiosk.events import AnswerKind, Question
    from kiosk.runtime import open_answerer

    if "content" not in p.found:
        return Check("end-to-end", SKIP, "no content to ask about (see content)")
    today = p.now().date()
    answerer, opened = open_answerer(p.settings, p.data, p.found["content"], today=today)
    pack = opened.pack
    work = next((e for e in pack.exhibits if e.on_view(today)), None)
    if work is None:
        return Check("end-to-end", WARN, f"no work is on view on {today}",
                     "check the clock and the content's on_view dates")
    lang = pack.museum.default_language if pack.museum.default_language in WHO_PAINTED \
        else "en"
    title = work.title.get(lang) or next(iter(work.title.values()))
    question = WHO_PAINTED[lang].format(title)
    started = time.perf_counter()
    answer = answerer.answer(Question(question, lang))
    ms = (time.perf_counter() - started) * 1000
    p.found.update(answerer=answerer, pack=pack, question=question, lang=lang, work=work.id,
                   answer=answer.text)
    asked = f"{question!r} → "
    if answer.kind is not AnswerKind.ANSWER or answer.exhibit_id != work.id:
        return Check("end-to-end", FAIL, f"{asked}{answer.kind} {answer.exhibit_id or ''}, "
                     f"expected {work.id}", "try `kiosk ask` with that question; check the "
                     "content and the qa settings")
    return Check("end-to-end", OK, f"{asked}{answer.text!r} ({ms:.0f} ms)")


@contextmanager
def _synth(p: Probe) -> Iterator[Any]:
    from kiosk.tts.espeak import EspeakSynth

    sp = p.settings.speech
    synth = EspeakSynth(rate=sp.rate, volume=sp.volume, timeout_s=sp.timeout_s)
    try:
        yield synth
    finally:
        synth.close()


def check_speech(p: Probe) -> Check:
    """The answer said by espeak-ng (not played)."""
    if "answer" not in p.found:
        return Check("speech", SKIP, "no answer to say (see end-to-end)")
    if shutil.which("espeak-ng") is None:
        return Check("speech", FAIL, "espeak-ng is not installed", "`apt install espeak-ng`")
    with _synth(p) as synth:
        started = time.perf_counter()
        audio = synth.synthesize(p.found["answer"], p.found["lang"])
        ms = (time.perf_counter() - started) * 1000
    return Check("speech", OK, f"the answer as {len(audio) / 16000:.1f} s of audio in "
                 f"{ms:.0f} ms ({synth.voices.get(p.found['lang'], synth.voices['en'])})")


def check_recognition(p: Probe) -> Check:
    """The question said by espeak-ng, heard by the language's recognizer, answered again.
    A miss is a warning: synthetic speech is not a visitor (espeak-ng French, Whisper base)."""
    from kiosk.asr.engines import engine_map, load_recognizers
    from kiosk.events import Question

    if "question" not in p.found or shutil.which("espeak-ng") is None:
        return Check("recognition", SKIP, "no question to say (see end-to-end and speech)")
    lang = p.found["lang"]
    model_id = engine_map(p.settings.asr, [lang])[lang]
    recognizers = load_recognizers(p.settings.asr, p.data, p.found["pack"], [lang])
    with _synth(p) as synth:
        audio = synth.synthesize(p.found["question"], lang)
    heard = recognizers.transcribe(audio, lang).text.strip()
    again = p.found["answerer"].answer(Question(heard, lang))
    what = f"{model_id} heard {heard!r}"
    if again.exhibit_id != p.found["work"]:
        return Check("recognition", WARN, f"{what}: not the question asked",
                     "synthetic speech is hard for it (README, Speech); try a real voice "
                     "with `kiosk listen --once`")
    return Check("recognition", OK, f"{what} → {p.found['work']}")


# -- running them ---------------------------------------------------------------------------------
def _guarded(name: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except Exception as exc:  # a check never raises  # noqa: BLE001
        return _failed(name, exc)


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
        out.append(_failed("models", exc))
        ids = [settings.models.encoder]
    out += [_guarded(f"model {i}", lambda i=i: check_model(p, i)) for i in ids]  # type: ignore[misc]
    out.append(_guarded("model silero-vad", lambda: check_vad(p)))
    for name, check in (("disk", check_disk), ("memory", check_memory),
                        ("CPU temperature", check_temperature), ("power", check_power),
                        ("clock", check_clock), ("time source", check_time_source)):
        out.append(_guarded(name, lambda check=check: check(p)))  # type: ignore[misc]
    if quick:
        out.append(Check("end-to-end", SKIP, "skipped (--quick)"))
        return out
    for name, check in (("end-to-end", check_answer), ("speech", check_speech),
                        ("recognition", check_recognition)):
        out.append(_guarded(name, lambda check=check: check(p)))  # type: ignore[misc]
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
