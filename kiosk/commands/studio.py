"""`kiosk studio PACK`: the curator studio, a web page over a content pack served on this
computer (127.0.0.1 and a free port unless told otherwise), opened in the browser.

Any other address lets other machines reach it: the studio then refuses to start without a
password (``[studio] password``), and asks for it (any user name) on every page.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import socket
import sys
import threading
import time
import webbrowser
from dataclasses import replace
from pathlib import Path

from kiosk.commands.common import data_dir, read_settings
from kiosk.errors import KioskError, shown
from kiosk.settings import Settings, StudioSettings, default_settings_path

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """True for an address only this computer can reach."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: a free one), listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise KioskError(f"cannot listen on {host}:{port} ({exc.strerror}) — choose another "
                         "--port, or leave it out for a free one") from None
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def sign_keys(settings: Settings, settings_file: Path | None) -> list[Path]:
    """The key files ``[studio] sign_keys`` names (comma-separated; relative to the settings
    file's folder)."""

    base = settings_file.parent if settings_file else Path.cwd()
    out = []
    for item in settings.studio.sign_keys.split(","):
        if item.strip():
            path = Path(item.strip()).expanduser()
            out.append(path if path.is_absolute() else base / path)
    return out


def beside(section: StudioSettings, settings_file: Path | None) -> StudioSettings:
    """``output`` and ``send_folder`` made absolute: relative to the settings file's folder,
    like ``sign_keys`` (not to wherever the studio happens to be started)."""
    base = settings_file.parent if settings_file else Path.cwd()

    def absolute(text: str) -> str:
        path = Path(text).expanduser()
        return str(path if path.is_absolute() else base / path) if text else ""

    return replace(section, output=absolute(section.output),
                   send_folder=absolute(section.send_folder))


def has_display() -> bool:
    """Whether a browser window can open here."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(args: argparse.Namespace) -> int:
    import uvicorn

    from kiosk.qa.encoder import load_encoders
    from kiosk.studio.app import LOOPBACK, create_app
    from kiosk.studio.web import Studio
    from kiosk.studio.web_try import opened

    settings = read_settings(args)
    pack = Path(args.pack)
    if not (pack / "museum.yaml").is_file():
        raise KioskError(f"{shown(pack)} is not a content pack (it has no museum.yaml) — give "
                         "the pack's folder, e.g. `kiosk studio content/demo`")
    host = args.host
    password = settings.studio.password
    local = is_loopback(host)
    if not local and not password:
        raise KioskError(f"--host {shown(host)} lets other computers open the studio: set a "
                         "password first ([studio] password in the settings file), or leave "
                         "--host out to keep it on this computer")
    data = data_dir(args)
    encoder = load_encoders(data, settings.models.encoder, settings.models.threads)
    settings_file = getattr(args, "settings", None) or default_settings_path()
    settings = replace(settings, studio=beside(settings.studio, Path(settings_file)
                                               if settings_file else None))
    studio = Studio(pack, settings, encoder, data,
                    sign_keys=sign_keys(settings, Path(settings_file) if settings_file
                                        else None))
    hosts = [*LOOPBACK, host] if local else []  # elsewhere: any name, behind the password
    app = create_app(studio, password=password, hosts=hosts)
    sock = listening_socket(host, args.port or 0)
    port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    url = f"http://{shown_host}:{port}/"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                           server_header=False))

    def when_started() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            print(f"Kiosk studio for {shown(studio.pack_dir)}: {url} (Ctrl-C to stop)",
                  flush=True)
            if not args.no_browser and has_display():
                webbrowser.open(url)
            studio.check()  # read the pack now, so the first page comes quickly
            try:  # and ready "try it" meanwhile (its first time reads every text into vectors)
                opened(studio)
            except Exception:  # noqa: BLE001 — its page says what is wrong when it is asked
                log.exception("studio: try it could not be readied")

    threading.Thread(target=when_started, name="studio-start", daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0
