"""Ed25519 keys that sign content bundles, and the check a kiosk makes before trusting one.

Files written by ``kiosk content keygen -o NAME``:

- ``NAME.key``: the private key, PEM (PKCS#8, unencrypted), mode 0600. It stays on the
  curators' machine; whoever holds it can publish content to every kiosk that trusts it.
- ``NAME.pub``: the public key, one line ``ed25519 <base64 of the 32 raw bytes> <key id>``.
  A kiosk lists it in ``[content] trusted_keys``. A PEM public key file is accepted too.

The key id is the first 16 hex digits of the sha256 of the raw public key. A bundle's
signature (``signature.json`` beside ``manifest.json``) is over the manifest's canonical bytes
(JSON, keys sorted, no spaces, UTF-8), so it covers the id, the encoder and every file's sha256.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.errors import ContentError, shown

SIGNATURE = "signature.json"
ALGORITHM = "ed25519"

Trusted = dict[str, Ed25519PublicKey]
"""Public keys a kiosk accepts, by key id."""


def canonical(manifest: dict[str, Any]) -> bytes:
    """The bytes a signature covers."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate(name: Path) -> tuple[Path, Path, str]:
    """Write ``NAME.key`` (0600) and ``NAME.pub``; refuse to overwrite either."""
    private_path, public_path = Path(f"{name}.key"), Path(f"{name}.pub")
    for path in (private_path, public_path):
        if path.exists():
            raise ContentError(f"{path} already exists — choose another name, or move it away "
                               "first (a lost private key cannot be recovered)")
    private = Ed25519PrivateKey.generate()
    public = private.public_key()
    kid = key_id(public)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public_path.write_text(f"{ALGORITHM} {base64.b64encode(raw).decode()} {kid}\n",
                           encoding="ascii")
    return private_path, public_path, kid


MAX_KEY_BYTES = 64 * 1024
"""Largest key file read (an Ed25519 key file is under 200 bytes)."""


def read_key_file(path: Path) -> bytes:
    """The bytes of a small regular file; OSError (with a ``strerror``) for anything else — a
    device such as /dev/zero, a FIFO that would wait forever, a folder, or a huge file."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        data = fh.read(MAX_KEY_BYTES + 1)
    if len(data) > MAX_KEY_BYTES:
        raise OSError(errno.EFBIG, f"larger than {MAX_KEY_BYTES // 1024} KB, not a key")
    return data


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(read_key_file(Path(path)), password=None)
    except OSError as exc:
        raise ContentError(f"cannot read the signing key {path} ({exc.strerror}) — give the "
                           "NAME.key file made by `kiosk content keygen`") from None
    except (ValueError, TypeError):
        raise ContentError(f"{path} is not an unencrypted PEM private key — give the NAME.key "
                           "file made by `kiosk content keygen`") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ContentError(f"{path} is not an Ed25519 key — make one with "
                           "`kiosk content keygen`")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    """A ``NAME.pub`` file (``ed25519 BASE64 [id]``) or a PEM public key."""
    try:
        data = read_key_file(Path(path))
    except OSError as exc:
        raise ContentError(f"cannot read the trusted key {shown(path)} ({exc.strerror}) — fix "
                           "[content] trusted_keys in the settings") from None
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(data)
            if isinstance(key, Ed25519PublicKey):
                return key
            raise ValueError("not Ed25519")
        fields = data.decode("ascii").split()
        if len(fields) < 2 or fields[0] != ALGORITHM:
            raise ValueError("no ed25519 line")
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(fields[1], validate=True))
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ContentError(f"{path} is not an Ed25519 public key — give the NAME.pub file made "
                           "by `kiosk content keygen`") from None


def trusted_keys(setting: str, base: Path | None = None) -> Trusted:
    """The keys named in ``[content] trusted_keys`` (comma-separated files)."""
    keys: Trusted = {}
    for item in (s.strip() for s in setting.split(",")):
        if item:
            path = Path(item).expanduser()
            if base is not None and not path.is_absolute():
                path = base / path
            public = load_public(path)
            keys[key_id(public)] = public
    return keys


def sign(manifest: dict[str, Any], private: Ed25519PrivateKey) -> dict[str, Any]:
    """The content of ``signature.json`` for ``manifest``."""
    return {"signatures": [{
        "algorithm": ALGORITHM, "key_id": key_id(private.public_key()),
        "signature": base64.b64encode(private.sign(canonical(manifest))).decode(),
    }]}


def check(where: str, manifest: dict[str, Any], signature: bytes | None,
          trusted: Trusted) -> str | None:
    """The id of the trusted key that signed ``manifest``; None when no key is trusted.

    Raises ContentError when keys are trusted and the bundle is unsigned, signed by an unknown
    key, or its signature does not match."""
    if not trusted:
        return None
    if signature is None:
        raise ContentError(f"{where}: not signed, and this kiosk only accepts signed bundles — "
                           "build it with `kiosk content build --sign KEY.key`")
    try:
        entries = json.loads(signature.decode("utf-8"))["signatures"]
        pairs = [(str(e["key_id"]), base64.b64decode(str(e["signature"]), validate=True))
                 for e in entries]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, binascii.Error):
        raise ContentError(f"{where}: {SIGNATURE} is damaged — build and sign the bundle "
                           "again") from None
    known = [(kid, sig) for kid, sig in pairs if kid in trusted]
    if not known:
        ids = ", ".join(kid for kid, _ in pairs) or "none"
        raise ContentError(f"{where}: signed by key {ids}, which this kiosk does not trust — "
                           "sign it with a trusted key or add its .pub to [content] "
                           "trusted_keys")
    body = canonical(manifest)
    for kid, sig in known:
        try:
            trusted[kid].verify(sig, body)
        except InvalidSignature:
            continue
        return kid
    raise ContentError(f"{where}: the signature does not match the manifest — the bundle was "
                       "changed after it was signed; build and sign it again")
