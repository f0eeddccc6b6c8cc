#!/usr/bin/env python3
"""Write a complete, LAN-only Syncthing config for the curators' machine or a kiosk.

    configure.py --role curator --folder ~/kiosk/published --peers fleet.txt
    configure.py --role kiosk --folder /var/lib/kiosk/incoming --peer ID=192.168.1.10
    configure.py --show-id

Keys come from ``syncthing generate`` (made on the first run, kept afterwards), so the config
is the one the installed Syncthing writes itself, edited: no relays, no global discovery, no
NAT traversal, no STUN, no usage or crash reports, no upgrade checks, the GUI/REST on
127.0.0.1 only; one folder ``kiosk-content``, send-only on the curator's machine and
receive-only on kiosks, shared with exactly the peers given (nothing is ever auto-accepted).
Running it again rewrites devices and the folder from the arguments: the fleet file is the
truth, the GUI is not. Prints this device's ID. Needs only Python 3 and ``syncthing``.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

FOLDER_ID = "kiosk-content"
FOLDER_LABEL = "Kiosk content"
PORT = 22000
FOLDER_TYPE = {"curator": "sendonly", "kiosk": "receiveonly"}
STIGNORE = """\
// Written by deploy/syncthing/configure.py. `kiosk content build -o` writes a bundle into a
// hidden folder beside its target and renames it into place: never send a half-built bundle.
(?d)/.*
"""
OPTIONS = {
    "globalAnnounceEnabled": "false",  # no global discovery servers
    "relaysEnabled": "false",          # no relays
    "natEnabled": "false",             # no UPnP / NAT-PMP port mapping
    "stunKeepaliveStartS": "0",        # no STUN (0 disables it)
    "urAccepted": "-1",                # usage reporting refused for good
    "urSeen": "3",
    "crashReportingEnabled": "false",
    "autoUpgradeIntervalH": "0",       # no upgrade checks; apt upgrades Syncthing
    "startBrowser": "false",
}
_DEVICE_ID = re.compile(r"[A-Z2-7]{7}(-[A-Z2-7]{7}){7}")


class ConfigureError(Exception):
    """A problem the person running the script must fix (one line)."""


def syncthing_home(explicit: str | None, binary: str) -> Path:
    """``--home``, else where this user's Syncthing keeps its config (``serve --paths``)."""
    if explicit:
        return Path(explicit).expanduser()
    out = _run([binary, "serve", "--paths"])
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Configuration file") and i + 1 < len(lines):
            return Path(lines[i + 1].strip()).parent
    raise ConfigureError(f"`{binary} serve --paths` did not name a configuration file — "
                         "give --home DIR")


def device_id(home: Path, binary: str) -> str:
    """This device's ID (made from its certificate; keys are generated when missing)."""
    if not (home / "cert.pem").is_file() or not (home / "config.xml").is_file():
        _run([binary, "generate", f"--home={home}", "--no-default-folder",
              "--skip-port-probing"])
    found = _run([binary, "serve", f"--home={home}", "--device-id"]).strip()
    if not _DEVICE_ID.fullmatch(found):
        raise ConfigureError(f"`{binary} serve --device-id` printed {found!r}, not a device ID")
    return found


def parse_peer(text: str) -> tuple[str, str, list[str]]:
    """``[NAME:]ID=ADDRESS[,ADDRESS]`` or ``ID NAME ADDRESS...`` → (id, name, addresses).

    An address is an IP or host (port 22000 added), ``HOST:PORT``, ``tcp://HOST:PORT`` or
    ``dynamic`` (found by local discovery); none given means ``dynamic``.
    """
    if "=" in text:
        ident, _, rest = text.partition("=")
        name, _, ident = ident.rpartition(":")
        addrs = rest.split(",")
    else:
        ident, name, *addrs = text.split() + [""]
    ident = ident.strip().upper()
    if not _DEVICE_ID.fullmatch(ident):
        raise ConfigureError(f"peer {text!r}: {ident!r} is not a Syncthing device ID (8 groups "
                             "of 7 letters/digits; see `syncthing serve --device-id`)")
    out = [_address(a.strip()) for a in addrs if a.strip()] or ["dynamic"]
    return ident, name.strip() or ident[:7], out


def _address(addr: str) -> str:
    if addr == "dynamic" or "://" in addr:
        return addr
    if addr.startswith("["):  # [v6] or [v6]:port
        return f"tcp://{addr}" if "]:" in addr else f"tcp://{addr}:{PORT}"
    if addr.count(":") == 1:  # host:port
        return f"tcp://{addr}"
    if ":" in addr:  # a bare IPv6 address
        return f"tcp://[{addr}]:{PORT}"
    return f"tcp://{addr}:{PORT}"


def read_peers(path: Path) -> list[str]:
    """The fleet file: one peer a line, ``DEVICE-ID NAME ADDRESS...``; ``#`` starts a comment."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigureError(f"cannot read the fleet file {path}: {exc.strerror}") from None
    return [line.split("#", 1)[0].strip() for line in text.splitlines()
            if line.split("#", 1)[0].strip()]


def configure(config: ET.Element, *, own_id: str, name: str, role: str, folder: Path,
              peers: list[tuple[str, str, list[str]]], listen: list[str], gui: str,
              api_key: str, local_discovery: bool, rescan_s: int, watch_delay_s: int,
              ignore_delete: bool) -> None:
    """Edit a config Syncthing generated into the LAN-only one for ``role`` (in place)."""
    defaults = config.find("defaults")
    folder_tpl = defaults.find("folder") if defaults is not None else None
    device_tpl = defaults.find("device") if defaults is not None else None
    if folder_tpl is None or device_tpl is None:
        raise ConfigureError("this Syncthing's config has no <defaults> (Syncthing ≥ 1.12 is "
                             "needed)")
    me = next((d for d in config.findall("device") if d.get("id") == own_id), None)
    if me is None:
        raise ConfigureError(f"config.xml does not describe this device {own_id}")
    me.set("name", name)
    for old in config.findall("device"):
        if old is not me:
            config.remove(old)
    for old in config.findall("folder"):
        config.remove(old)

    at = list(config).index(me)
    new = ET.Element("folder", dict(folder_tpl.attrib))
    new.extend(copy.deepcopy(list(folder_tpl)))
    new.set("id", FOLDER_ID)
    new.set("label", FOLDER_LABEL)
    new.set("path", str(folder))
    new.set("type", FOLDER_TYPE[role])
    new.set("rescanIntervalS", str(rescan_s))
    new.set("fsWatcherEnabled", "true")
    new.set("fsWatcherDelayS", str(watch_delay_s))
    new.set("ignorePerms", "true")  # bundles are data; the kiosk's own user owns its copies
    for d in new.findall("device"):
        new.remove(d)
    for i, ident in enumerate([own_id, *(p[0] for p in peers)]):
        share = ET.Element("device", {"id": ident, "introducedBy": ""})
        ET.SubElement(share, "encryptionPassword").text = ""
        new.insert(1 + i, share)
    _set(new, "ignoreDelete", "true" if ignore_delete else "false")
    config.insert(at, new)

    for ident, peer_name, addresses in peers:
        dev = ET.Element("device", dict(device_tpl.attrib))
        dev.extend(copy.deepcopy(list(device_tpl)))
        dev.set("id", ident)
        dev.set("name", peer_name)
        for a in dev.findall("address"):
            dev.remove(a)
        for i, addr in enumerate(addresses):
            el = ET.Element("address")
            el.text = addr
            dev.insert(i, el)
        _set(dev, "autoAcceptFolders", "false")
        config.insert(at + 1, dev)

    gui_el = config.find("gui")
    if gui_el is None:
        gui_el = ET.SubElement(config, "gui")
    gui_el.set("enabled", "true")
    gui_el.set("tls", "false")
    _set(gui_el, "address", gui)
    _set(gui_el, "apikey", api_key)

    options = config.find("options")
    if options is None:
        options = ET.SubElement(config, "options")
    for old in options.findall("listenAddress"):
        options.remove(old)
    for i, addr in enumerate(listen):
        el = ET.Element("listenAddress")
        el.text = addr
        options.insert(i, el)
    for key, value in {**OPTIONS, "localAnnounceEnabled": str(local_discovery).lower()}.items():
        _set(options, key, value)
    for old in options.findall("unackedNotificationID"):
        options.remove(old)


def _set(parent: ET.Element, tag: str, text: str) -> None:
    el = parent.find(tag)
    if el is None:
        el = ET.SubElement(parent, tag)
    el.text = text


def _run(cmd: list[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError:
        raise ConfigureError(f"{cmd[0]} not found — install it: sudo apt install syncthing"
                             ) from None
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ConfigureError(f"`{' '.join(cmd)}` failed: {last[0]}")
    return done.stdout


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)  # it holds the API key
    os.replace(tmp, path)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Write a LAN-only Syncthing config for the kiosk content folder "
                    "(curator: send-only; kiosk: receive-only) and print this device's ID.")
    p.add_argument("--show-id", action="store_true",
                   help="only print this device's ID (making its keys on the first run)")
    p.add_argument("--role", choices=sorted(FOLDER_TYPE))
    p.add_argument("--folder", type=Path,
                   help="the synced folder: where `kiosk content build -o` writes (curator), "
                        "what `kiosk content sync --watch` reads (kiosk), e.g. "
                        "/var/lib/kiosk/incoming")
    p.add_argument("--peer", action="append", default=[], metavar="[NAME:]ID=ADDRESS",
                   help="a device to share with, at a static address (IP, IP:PORT, "
                        "tcp://IP:PORT, or 'dynamic' for local discovery); repeatable")
    p.add_argument("--peers", type=Path, metavar="FILE",
                   help="a fleet file, one peer a line: DEVICE-ID NAME ADDRESS")
    p.add_argument("--home", help="Syncthing's config folder (default: this user's, from "
                                  "`syncthing serve --paths`)")
    p.add_argument("--name", default=socket.gethostname(), help="this device's name")
    p.add_argument("--listen", action="append", metavar="URL",
                   help=f"listen address (default tcp://0.0.0.0:{PORT}); repeatable")
    p.add_argument("--gui", default="127.0.0.1:8384", metavar="HOST:PORT",
                   help="GUI/REST address (default 127.0.0.1:8384; keep it on 127.0.0.1)")
    p.add_argument("--api-key", help="REST API key (default: keep the current one)")
    p.add_argument("--no-local-discovery", dest="local_discovery", action="store_false",
                   help="do not announce on / listen to the LAN (port 21027/udp); peers then "
                        "need static addresses")
    p.add_argument("--rescan", type=int, default=60, metavar="S",
                   help="full rescan every S seconds besides the file watcher (default 60)")
    p.add_argument("--watch-delay", type=int, default=5, metavar="S",
                   help="seconds the file watcher gathers changes before a scan (default 5)")
    p.add_argument("--ignore-delete", action="store_true",
                   help="kiosk: keep bundles the curator removed (default: mirror deletions; "
                        "installed versions live in versions/ and are not affected)")
    p.add_argument("--syncthing", default="syncthing", help="the syncthing binary")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.show_id:
            home = syncthing_home(args.home, args.syncthing)
            home.mkdir(parents=True, exist_ok=True)
            print(device_id(home, args.syncthing))
            return 0
        if args.role is None or args.folder is None:
            raise ConfigureError("give --role curator|kiosk and --folder PATH (or --show-id)")
        peers_text = list(args.peer) + (read_peers(args.peers) if args.peers else [])
        peers = [parse_peer(p) for p in peers_text]
        if not peers:
            raise ConfigureError("no peers — give --peer ID=ADDRESS or --peers FILE (a kiosk "
                                 "needs the curators' machine; that machine needs its kiosks)")
        home = syncthing_home(args.home, args.syncthing)
        home.mkdir(parents=True, exist_ok=True)
        own = device_id(home, args.syncthing)
        if own in (p[0] for p in peers):
            raise ConfigureError(f"{own} is this device — list the other machines as peers")
        tree = ET.parse(home / "config.xml")
        root = tree.getroot()
        gui = root.find("gui")
        key = args.api_key or (gui.findtext("apikey") if gui is not None else None) \
            or secrets.token_urlsafe(24)
        folder = args.folder.expanduser().absolute()
        folder.mkdir(parents=True, exist_ok=True)
        configure(root, own_id=own, name=args.name, role=args.role, folder=folder, peers=peers,
                  listen=args.listen or [f"tcp://0.0.0.0:{PORT}"], gui=args.gui, api_key=key,
                  local_discovery=args.local_discovery, rescan_s=args.rescan,
                  watch_delay_s=args.watch_delay,
                  ignore_delete=args.ignore_delete and args.role == "kiosk")
        if args.role == "curator":
            (folder / ".stignore").write_text(STIGNORE, encoding="utf-8")
        ET.indent(root, "    ")
        _write(home / "config.xml", ET.tostring(root, encoding="unicode") + "\n")
    except (ConfigureError, ET.ParseError) as exc:
        print(f"configure.py: {exc}", file=sys.stderr)
        return 2
    print(own)
    print(f"{args.role}: {FOLDER_TYPE[args.role]} folder {FOLDER_ID} at {folder}, "
          f"{len(peers)} peer(s), config {home / 'config.xml'} — (re)start Syncthing",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
