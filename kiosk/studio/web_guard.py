"""What stands before every page of the studio (one ASGI middleware, no page logic):

- the ``Host`` header must name this server (a web page elsewhere cannot reach the studio by
  pointing a name of its own at 127.0.0.1);
- the password, when one is set (HTTP Basic; any user name);
- a change (POST) coming from another site (its ``Origin`` or ``Sec-Fetch-Site``) is refused,
  and every browser gets a random token in a cookie that each posted form must repeat (checked
  by ``web.posted``);
- request bodies are bounded (``max_body`` bytes);
- security headers on every response: a Content-Security-Policy that allows no inline script
  and no other origin, no framing, no sniffing, no referrer sent elsewhere, no caching of
  pages.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Sequence
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "studio_csrf"
"""The cookie holding this browser's token (``web.posted`` compares the form's with it)."""
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "object-src 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class TooLarge(Exception):
    """The request body passed ``max_body``."""


class Guard:
    """The middleware (see the module's docstring)."""

    def __init__(self, app: ASGIApp, *, password: str = "", hosts: Sequence[str] = (),
                 max_body: int = 1 << 20) -> None:
        """``hosts``: the host names the server answers to (empty: any — a password guards
        it); ``max_body``: the largest request body, in bytes."""
        self.app = app
        self.password = password
        self.hosts = {h.lower() for h in hosts}
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self.refusal(scope, headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        token = _cookie(headers, COOKIE)
        fresh = not _token_shaped(token)
        if fresh:
            token = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf"] = token
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                out = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    out.setdefault(name, value)
                if out.get("content-type", "").startswith("text/html"):
                    out.setdefault("cache-control", "no-store")
                if fresh:
                    out.append("set-cookie", f"{COOKIE}={token}; Path=/; HttpOnly; "
                               "SameSite=Strict")
            await send(message)

        seen = 0

        async def bounded_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise TooLarge
            return message

        try:
            await self.app(scope, bounded_receive, send_with_headers)
        except TooLarge:
            if started:
                raise
            await _too_large(self.max_body)(scope, receive, send_with_headers)

    def refusal(self, scope: Scope, headers: Headers) -> PlainTextResponse | None:
        """The response refusing this request before any page sees it (None: let it in)."""
        host = _host_name(headers.get("host", ""))
        if self.hosts and host not in self.hosts:
            return _plain(400, "unknown host name — open the address `kiosk studio` printed")
        if self.password and not self.authorised(headers.get("authorization", "")):
            return _plain(401, "the studio's password is needed",
                          {"www-authenticate": 'Basic realm="Kiosk studio", charset="UTF-8"'})
        if scope["method"] in UNSAFE:
            site = headers.get("sec-fetch-site", "")
            origin = headers.get("origin", "")
            if origin == "null":  # (an opaque origin: only our own page, as the browser says)
                foreign = site != "same-origin"
            else:
                foreign = site in ("cross-site", "same-site") or bool(
                    origin and urlsplit(origin).netloc.lower() != headers.get("host", "").lower())
            if foreign:
                return _plain(403, "a change sent from another site is refused")
            length = headers.get("content-length", "")
            if length.isdigit() and int(length) > self.max_body:
                return _too_large(self.max_body)
        return None

    def authorised(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            _, _, given = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(given.encode(), self.password.encode())


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> PlainTextResponse:
    return PlainTextResponse(text + "\n", status_code=status, headers=headers)


def _too_large(limit: int) -> PlainTextResponse:
    return _plain(413, f"too large: the studio takes at most {limit / 2**20:.0f} MB at a time")


def _cookie(headers: Headers, name: str) -> str:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 — a malformed cookie header is no cookie
        return ""
    morsel = jar.get(name)
    return morsel.value if morsel is not None else ""


def _token_shaped(token: str) -> bool:
    return 32 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)


def _host_name(host: str) -> str:
    """``Host`` without its port (``[::1]:8000`` → ``[::1]``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
