#!/usr/bin/env python3
"""Is this machine's content folder in sync? One line per peer and one for the folder.

    status.py                 peers connected?, folder state, files still to fetch, local changes
    status.py --json          the same for a script
    status.py --revert        kiosk: undo local changes (fetch the curator's files again)

Reads the GUI address and API key from this user's Syncthing config (or ``--home``) and asks
the running Syncthing over its REST API on 127.0.0.1. Needs only Python 3.
Exit status: 0 in sync, 1 not (yet) in sync or a peer offline, 2 cannot ask Syncthing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

FOLDER_ID = "kiosk-content"


class StatusError(Exception):
    """Syncthing could not be asked (one line saying what to do)."""


def config_file(home: str | None, binary: str) -> Path:
    if home:
        return Path(home).expanduser() / "config.xml"
    try:
        out = subprocess.run([binary, "serve", "--paths"], capture_output=True, text=True,
                             timeout=60, check=True).stdout.splitlines()
    except (OSError, subprocess.SubprocessError) as exc:
        raise StatusError(f"cannot run `{binary} serve --paths` ({exc}) — give --home DIR"
                          ) from None
    for i, line in enumerate(out):
        if line.startswith("Configuration file") and i + 1 < len(out):
            return Path(out[i + 1].strip())
    raise StatusError("Syncthing did not say where its config is — give --home DIR")


class Client:
    """The local Syncthing's REST API."""

    def __init__(self, config: Path) -> None:
        try:
            root = ET.parse(config).getroot()
        except (OSError, ET.ParseError) as exc:
            raise StatusError(f"cannot read {config} ({exc}) — run configure.py first, or "
                              "give --home DIR") from None
        self.address = root.findtext("gui/address") or "127.0.0.1:8384"
        self.key = root.findtext("gui/apikey") or ""
        self.names = {d.get("id", ""): d.get("name", "") for d in root.findall("device")}
        folder = next((f for f in root.findall("folder") if f.get("id") == FOLDER_ID), None)
        if folder is None:
            raise StatusError(f"{config} has no folder {FOLDER_ID} — run configure.py first")
        self.folder_type = folder.get("type", "")
        self.path = folder.get("path", "")
        self.shared = [d.get("id", "") for d in folder.findall("device")]

    def call(self, path: str, method: str = "GET") -> Any:
        req = urllib.request.Request(f"http://{self.address}{path}", method=method,
                                     headers={"X-API-Key": self.key})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                body = resp.read()
        except (OSError, urllib.error.URLError) as exc:
            raise StatusError(f"Syncthing does not answer on {self.address} ({exc}) — is it "
                              "running? systemctl status syncthing@USER") from None
        return json.loads(body) if body.strip() else None


def report(client: Client) -> dict[str, Any]:
    me = client.call("/rest/system/status").get("myID", "")
    conns = client.call("/rest/system/connections").get("connections", {})
    status = client.call(f"/rest/db/status?folder={FOLDER_ID}")
    peers = [{"id": p, "name": client.names.get(p, p[:7]),
              "connected": bool(conns.get(p, {}).get("connected")),
              "address": conns.get(p, {}).get("address", "")}
             for p in client.shared if p and p != me]
    folder = {k: status.get(k) for k in (
        "state", "globalFiles", "localFiles", "needFiles", "needBytes",
        "receiveOnlyChangedFiles", "errors", "pullErrors")}
    in_sync = (all(p["connected"] for p in peers) and status.get("state") == "idle"
               and not status.get("needFiles") and not status.get("receiveOnlyChangedFiles")
               and not status.get("errors") and not status.get("pullErrors"))
    return {"folder_id": FOLDER_ID, "type": client.folder_type, "path": client.path,
            "peers": peers, "folder": folder, "in_sync": in_sync}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Show whether the kiosk content folder is in sync.")
    p.add_argument("--home", help="Syncthing's config folder (default: this user's)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--revert", action="store_true",
                   help="kiosk: undo local changes in the receive-only folder")
    p.add_argument("--syncthing", default="syncthing", help="the syncthing binary")
    args = p.parse_args(argv)
    try:
        client = Client(config_file(args.home, args.syncthing))
        if args.revert:
            if client.folder_type != "receiveonly":
                raise StatusError("--revert is for a kiosk's receive-only folder; this one is "
                                  f"{client.folder_type}")
            client.call(f"/rest/db/revert?folder={FOLDER_ID}", method="POST")
            print(f"reverting local changes in {client.path}: the curator's files are fetched "
                  "again (run status.py to follow)")
            return 0
        out = report(client)
    except StatusError as exc:
        print(f"status.py: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(out, indent=2))
        return 0 if out["in_sync"] else 1
    f = out["folder"]
    changed = (f", {f['receiveOnlyChangedFiles'] or 0} changed here"
               if out["type"] == "receiveonly" else "")
    print(f"{FOLDER_ID} ({out['type']}) {out['path']}: {f['state']}, {f['localFiles']} of "
          f"{f['globalFiles']} files, {f['needFiles']} to fetch{changed}, "
          f"{f['errors'] or 0} errors")
    for peer in out["peers"]:
        state = f"connected {peer['address']}" if peer["connected"] else "NOT connected"
        print(f"  {peer['name']} {peer['id'][:7]}: {state}")
    if f["receiveOnlyChangedFiles"]:
        print("  files were changed on this kiosk — `status.py --revert` fetches the curator's "
              "again")
    print("in sync" if out["in_sync"] else "NOT in sync")
    return 0 if out["in_sync"] else 1


if __name__ == "__main__":
    sys.exit(main())
