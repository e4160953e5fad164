"""The active policy as a cached, immutable snapshot."""

from __future__ import annotations

from logging_policy.sampling import PolicySnapshot, default_policy

_DEFAULT = default_policy()


def policy_current() -> PolicySnapshot:
    return _DEFAULT
