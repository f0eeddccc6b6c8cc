"""The doctor's checks of the machine: the devices (microphone heard, speakers opened), disk,
memory, CPU temperature, power and throttling (``vcgencmd``), the clock and what keeps it
right (NTP or a real-time clock), with the thresholds each one warns or fails at.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

from kiosk.doctor.check import FAIL, OK, SKIP, WARN, Check, Probe, split_fix
from kiosk.ports import Microphone

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
THROTTLE_BITS = {0: "under-voltage now", 1: "CPU frequency capped now", 2: "throttled now",
                 3: "soft temperature limit now", 16: "under-voltage since boot",
                 17: "frequency capped since boot", 18: "throttled since boot",
                 19: "soft temperature limit since boot"}
"""`vcgencmd get_throttled` bits (Raspberry Pi documentation)."""


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
        return Check("microphone", FAIL, *split_fix(str(exc)))
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
        return Check("speakers", FAIL, *split_fix(str(exc)))
    return Check("speakers", OK, f"{p.settings.audio.output_device or '(default)'}: present")


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
