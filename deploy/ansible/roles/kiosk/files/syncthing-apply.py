"""Run the kiosk's deploy/syncthing/configure.py for Ansible and say whether it changed
anything, so that a second run reports "ok" and Syncthing is restarted only when needed.

    python3 - --configure /opt/kiosk/deploy/syncthing/configure.py [--check] -- ARGS... < this

configure.py always rewrites Syncthing's config.xml; this compares the config before and after
as canonical XML (C14N, text stripped), so the same config laid out by Syncthing itself counts
as unchanged. With --check it works on a copy of Syncthing's folder in a temporary directory
and changes nothing real. The last line printed is JSON: {"changed", "device_id", "config"}.
Python 3 standard library only; runs as the user Syncthing runs as.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

KEYS = ("cert.pem", "key.pem", "config.xml")


def canonical(path: Path) -> str | None:
    if not path.is_file():
        return None
    return ET.canonicalize(from_file=str(path), strip_text=True)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--configure", type=Path, required=True)
    p.add_argument("--check", action="store_true")
    p.add_argument("args", nargs=argparse.REMAINDER)
    ns = p.parse_args()
    args = [a for a in ns.args if a != "--"] if ns.args[:1] == ["--"] else ns.args
    spec = importlib.util.spec_from_file_location("kiosk_syncthing_configure", ns.configure)
    if spec is None or spec.loader is None:
        print(f"syncthing-apply: cannot load {ns.configure}", file=sys.stderr)
        return 2
    configure = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(configure)
    opts = configure.parse_args(args)
    try:
        home = configure.syncthing_home(opts.home, opts.syncthing)
    except configure.ConfigureError as exc:
        print(f"syncthing-apply: {exc}", file=sys.stderr)
        return 2
    had_keys = all((home / name).is_file() for name in KEYS)
    before = canonical(home / "config.xml") if had_keys else None
    out = io.StringIO()
    if ns.check:
        if not had_keys:  # a first run would make the keys: that is a change
            print(json.dumps({"changed": True, "device_id": None, "config": None}))
            return 0
        with tempfile.TemporaryDirectory(prefix="syncthing-check-") as tmp:
            for name in KEYS:
                shutil.copy2(home / name, Path(tmp) / name)
            with contextlib.redirect_stdout(out):
                rc = int(configure.main([*args, "--home", tmp]))
            after = canonical(Path(tmp) / "config.xml")
    else:
        with contextlib.redirect_stdout(out):
            rc = int(configure.main(args))
        after = canonical(home / "config.xml")
    if rc != 0:
        return rc
    lines = out.getvalue().split()
    print(json.dumps({"changed": before != after, "device_id": lines[0] if lines else None,
                      "config": str(home / "config.xml")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
