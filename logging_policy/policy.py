"""The active policy as a cached, immutable snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from logging_policy.sampling import PolicySnapshot, default_policy

_DEFAULT = default_policy()
_override: PolicySnapshot | None = None


def policy_current() -> PolicySnapshot:
    return _override or _DEFAULT


@contextmanager
def policy_override(snapshot: PolicySnapshot) -> Iterator[PolicySnapshot]:
    """Use `snapshot` in this process for the block (tests, benchmarks)."""
    global _override
    previous, _override = _override, snapshot
    try:
        yield snapshot
    finally:
        _override = previous
