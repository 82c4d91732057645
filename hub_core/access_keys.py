"""Access keys: random tokens shown once, stored as a SHA-256 hash plus a short visible prefix.

Keys carry 256 bits of randomness, so a fast hash is the right tool (no password stretching needed) and it
lets authentication stay one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "ahk-"
VISIBLE = 12


def generate() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def visible_prefix(token: str) -> str:
    return token[:VISIBLE]


def looks_like_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX) and 20 < len(token) < 200
