"""Identifiers and timestamps of wide events, made cheaply: they are paid on every request."""

from __future__ import annotations

import random
import time


def _uuid4_string(raw: bytes) -> str:
    """A random (version 4) UUID string from 16 random bytes, built without uuid.UUID (a third of the cost)."""
    b = bytearray(raw)
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_ids() -> tuple[str, str]:
    """A fresh (request id as a UUID4 string, trace id as 32 hex digits), from one random draw.

    Ids need uniqueness and a uniform draw (sampling hashes the trace id), not secrecy: Python's
    generator, reseeded from the OS in every forked worker, costs a third of os.urandom's system call.
    """
    raw = random.getrandbits(256).to_bytes(32, "little")
    return _uuid4_string(raw[:16]), raw[16:].hex()


# (second, "YYYY-MM-DDTHH:MM:SS") of the last timestamp: strftime once a second, not per event.
_stamp: tuple[int, str] = (-1, "")


def event_timestamp() -> str:
    """Now in UTC as ISO 8601 with milliseconds and `Z`, like `datetime.isoformat(timespec="milliseconds")`."""
    global _stamp  # noqa: PLW0603 - a one-entry cache; a race only recomputes it
    now = time.time()
    second = int(now)
    cached_second, prefix = _stamp
    if second != cached_second:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _stamp = (second, prefix)
    return f"{prefix}.{int((now - second) * 1000):03d}Z"
