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


#: the least randomness (characters after ``ahk-``) an operator-chosen key must carry; generated keys have 43
MIN_OPERATOR_KEY_CHARS = 32


def operator_key_problem(token: str) -> str | None:
    """Why an admin key the operator chose (``AIGNE_HUB_ADMIN_KEY``) cannot be used, or None. It must look
    like the hub's own keys, so authentication accepts it, and be long enough to be unguessable. The message
    never repeats the value."""
    body = token[len(KEY_PREFIX) :]
    usable = body.isprintable() and " " not in body
    if looks_like_key(token) and len(body) >= MIN_OPERATOR_KEY_CHARS and usable:
        return None
    return (
        f"AIGNE_HUB_ADMIN_KEY must be {KEY_PREFIX!r} followed by {MIN_OPERATOR_KEY_CHARS} to 195 random "
        "characters, for example: ahk-$(openssl rand -hex 32)"
    )
