"""Signing keys: keygen files, signed builds, and what a kiosk that trusts keys accepts."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from kiosk.cli import main
from kiosk.content import bundle, keys
from kiosk.content.sync import current_version, sync
from kiosk.errors import ContentError
from kiosk.paths import DataDir
from kiosk.testing import HashingEncoder
from tests.packs import make_pack

ENC = HashingEncoder()


def test_keygen_writes_a_private_pem_0600_and_a_one_line_public_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "keygen", "-o", str(tmp_path / "curators")]) == 0
    out = capsys.readouterr().out
    private, public = tmp_path / "curators.key", tmp_path / "curators.pub"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    algorithm, raw, kid = public.read_text().split()
    assert algorithm == "ed25519" and len(kid) == 16
    assert out.startswith(f"key {kid}: private {private} (keep it secret")
    assert keys.key_id(keys.load_public(public)) == kid == keys.key_id(
        keys.load_private(private).public_key())
    assert main(["content", "keygen", "-o", str(tmp_path / "curators")]) == 2  # no overwrite
    assert "curators.key already exists — choose another name" in capsys.readouterr().err


def test_a_pem_public_key_is_accepted_too(tmp_path: Path) -> None:
    keys.generate(tmp_path / "k")
    pem = keys.load_private(tmp_path / "k.key").public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "k.pem").write_bytes(pem)
    assert set(keys.trusted_keys(f"{tmp_path / 'k.pem'}, {tmp_path / 'k.pub'}")) == {
        keys.key_id(keys.load_public(tmp_path / "k.pub"))}


@pytest.mark.parametrize(("content", "expected"), [
    (None, "cannot read the trusted key"),
    ("ed25519 !!!", "is not an Ed25519 public key"),
    ("-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----\n", "not an Ed25519 public"),
])
def test_a_bad_trusted_key_setting_says_what_to_fix(tmp_path: Path, content: str | None,
                                                     expected: str) -> None:
    path = tmp_path / "bad.pub"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ContentError, match=expected):
        keys.trusted_keys(str(path))


def test_signed_build_verifies_and_unsigned_is_accepted_only_without_keys(
        tmp_path: Path) -> None:
    keys.generate(tmp_path / "k")
    pack = make_pack(tmp_path / "pack")
    manifest = bundle.build(pack, tmp_path / "signed", ENC, sign=tmp_path / "k.key")
    bundle.build(pack, tmp_path / "plain", ENC)
    trusted = keys.trusted_keys(str(tmp_path / "k.pub"))
    signature = json.loads((tmp_path / "signed" / "signature.json").read_text())
    [entry] = signature["signatures"]
    assert entry["key_id"] == next(iter(trusted)) and entry["algorithm"] == "ed25519"
    assert bundle.verify(tmp_path / "signed", trusted=trusted)["id"] == manifest["id"]
    bundle.verify(tmp_path / "plain")  # no keys configured: unsigned is fine
    with pytest.raises(ContentError, match="not signed, and this kiosk only accepts signed"):
        bundle.verify(tmp_path / "plain", trusted=trusted)
    data = DataDir(tmp_path / "data")
    message = sync(data, tmp_path / "signed", ENC.model_id, ENC.sha256, trusted=trusted)
    assert message.endswith(f"signed by {entry['key_id']})")
    assert current_version(data) == manifest["id"]


def test_sign_fails_before_encoding_with_a_bad_key(tmp_path: Path) -> None:
    (tmp_path / "bad.key").write_text("not a key")
    enc = HashingEncoder()
    with pytest.raises(ContentError, match="is not an unencrypted PEM private key"):
        bundle.build(make_pack(tmp_path / "pack"), tmp_path / "b", enc, sign=tmp_path / "bad.key")
    assert enc.calls == 0 and not (tmp_path / "b").exists()


@pytest.mark.timeout(30)  # a FIFO read as a key used to wait for ever
@pytest.mark.parametrize("kind", ["device", "fifo", "folder", "huge"])
def test_a_key_path_of_the_wrong_kind_is_one_line(tmp_path: Path, kind: str) -> None:
    path = {"device": Path("/dev/zero"), "folder": tmp_path, "fifo": tmp_path / "k.fifo",
            "huge": tmp_path / "k.pub"}[kind]
    if kind == "fifo":
        import os

        os.mkfifo(path)
    elif kind == "huge":
        path.write_bytes(b"ed25519 " + b"A" * 10_000_000)
    if not path.exists():
        pytest.skip(f"no {path} here")
    for load, words in ((keys.load_public, "cannot read the trusted key"),
                        (keys.load_private, "cannot read the signing key")):
        with pytest.raises(ContentError) as caught:
            load(path)
        assert str(caught.value).startswith(f"{words} {path} (")
        assert "\n" not in str(caught.value)


def test_a_signature_file_of_megabytes_is_refused_before_it_is_read(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "pack")
    bundle.build(pack, tmp_path / "b", HashingEncoder())
    (tmp_path / "b" / "signature.json").write_text(
        json.dumps({"signatures": [{"key_id": "x" * 5_000_000}]}))
    with pytest.raises(ContentError, match=r"signature.json is 5,000,0\d\d bytes, more than the "
                       r"65,536 a bundle's signature.json may hold"):
        sync(DataDir(tmp_path / "data"), tmp_path / "b", HashingEncoder().model_id,
             HashingEncoder().sha256)
