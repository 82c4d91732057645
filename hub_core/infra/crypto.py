"""Secrets at rest: AES-256-GCM under a master keyring, and the masking used wherever a secret is shown.

A ciphertext reads ``v1:<key id>:<base64(nonce || ciphertext+tag)>``; the key id lets
`aigne-hub secrets rotate` find the old key, re-encrypt under the new one, and drop unused keys.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub_core.infra.files import private_dir

_AAD = b"aigne-hub/credential/v1"


class SecretError(Exception):
    """The keyring cannot decrypt a value (unknown key id, tampered or malformed ciphertext)."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"aigne-hub-key-id:" + key).hexdigest()[:12]


def _decode_key(text: str) -> bytes:
    """Accept a 64-char hex or a base64 32-byte key; anything else is a passphrase stretched with scrypt."""
    text = text.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        raw = base64.b64decode(text, validate=True)
        if len(raw) == 32:
            return raw
    except ValueError:
        pass
    return hashlib.scrypt(text.encode(), salt=b"aigne-hub-master-key", n=2**14, r=8, p=1, dklen=32)


@dataclass
class Keyring:
    """The master keys; `current` encrypts, all of them decrypt."""

    keys: dict[str, bytes]
    current: str
    path: Path | None = None  # set when the keyring lives in a key file (and can be rotated in place)
    _stamp: tuple[int, int] | None = field(default=None, repr=False, compare=False)  # key file inode, mtime

    @classmethod
    def load(cls, secret_env: str | None, key_file: Path) -> Keyring:
        """From ``AIGNE_HUB_SECRET_KEY`` ("new,old,..."), else the key file, created 0600 on first use."""
        if secret_env:
            keys = [_decode_key(part) for part in secret_env.split(",") if part.strip()]
            ring = {key_id(k): k for k in keys}
            return cls(ring, key_id(keys[0]))
        if key_file.exists():
            ring = cls({}, "", key_file)
            ring.refresh()
            return ring
        key = AESGCM.generate_key(bit_length=256)
        ring = cls({key_id(key): key}, key_id(key), key_file)
        ring.save()
        return ring

    def save(self) -> None:
        if self.path is None:
            raise SecretError("the keyring comes from AIGNE_HUB_SECRET_KEY; change that variable instead")
        private_dir(self.path.parent)
        payload = {
            "current": self.current,
            "keys": {kid: base64.b64encode(k).decode() for kid, k in self.keys.items()},
        }
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(payload, fh)
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)
        self._stamp = _stamp(self.path)

    def refresh(self) -> bool:
        """Re-read the key file when another process changed it (``aigne-hub secrets rotate`` under a running
        hub); True when it did. Keyrings from ``AIGNE_HUB_SECRET_KEY`` never change."""
        if self.path is None:
            return False
        try:
            stamp = _stamp(self.path)
            if stamp == self._stamp:
                return False
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return False
        self.keys = {kid: base64.b64decode(v) for kid, v in data["keys"].items()}
        self.current = data["current"]
        self._stamp = stamp
        return True

    def add_new_key(self) -> str:
        key = AESGCM.generate_key(bit_length=256)
        kid = key_id(key)
        self.keys[kid] = key
        self.current = kid
        return kid

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, plaintext.encode(), _AAD)
        return f"v1:{self.current}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str) -> str:
        try:
            version, kid, blob = token.split(":", 2)
        except ValueError as exc:
            raise SecretError("malformed ciphertext") from exc
        if version != "v1":
            raise SecretError(f"unknown ciphertext version {version!r}")
        key = self.keys.get(kid)
        if key is None:
            raise SecretError(
                f"no master key with id {kid}; was the key file or AIGNE_HUB_SECRET_KEY changed?"
            )
        raw = base64.b64decode(blob)
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], _AAD).decode()
        except Exception as exc:
            raise SecretError("ciphertext failed authentication") from exc

    @staticmethod
    def key_id_of(token: str) -> str:
        parts = token.split(":", 2)
        return parts[1] if len(parts) == 3 else ""


def _stamp(path: Path) -> tuple[int, int]:
    """Changes whenever the key file is rewritten (`Keyring.save` replaces it, so the inode changes too)."""
    st = path.stat()
    return st.st_ino, st.st_mtime_ns


def mask(secret: str) -> str:
    """``sk-a…wxyz``: up to four characters from each end, never more than a quarter of the secret (a short
    secret shows fewer; under eight characters, none)."""
    shown = min(4, len(secret) // 8)
    if shown == 0:
        return "***"
    return f"{secret[:shown]}…{secret[-shown:]}"
