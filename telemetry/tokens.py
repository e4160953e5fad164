"""Upload tokens: random secrets that only their hashes outlive.

Tokens have 192 bits of entropy, so an unsalted SHA-256 is enough to keep a
leaked database from revealing them, and it lets us find the vehicle by an
indexed lookup on the hash (no per-vehicle comparison loop to time).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 24


def token_generate() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented token against a stored hash."""
    return hmac.compare_digest(token_hash(token), stored_hash)
