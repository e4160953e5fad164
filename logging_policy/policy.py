"""The active policy as a cached, immutable snapshot, kept fresh across processes.

Every web and worker process holds the snapshot in memory; `policy_current()`
is a module-global read on the hot path. At most every
CHECK_INTERVAL_S one caller compares the payload in the shared cache (Redis)
with its own: an admin save publishes there on commit, so it is in force
everywhere within about two seconds. A publish can be lost (Redis blip, or the
saving process dies between commit and publish): `policy_shared_reconcile`, run by
beat every POLICY_SYNC_INTERVAL_SECONDS, puts the database's policy back in the
shared cache, so a committed change is in force everywhere within that interval
plus CHECK_INTERVAL_S (`policy_heal_bound_s`). The database is read on the request
path only when the shared cache has no payload (first start, beat not running) or
cannot be reached; a snapshot is never served longer than MAX_AGE_S without Redis
or the database confirming it. If both are away, the last snapshot (or the
defaults) keeps serving and says so in `PolicySnapshot.degraded`, which the event
carries as a warning (E501).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from django.conf import settings
from django.core.cache import cache

from logging_policy.current import current_event
from logging_policy.payload import Payload, snapshot_from_payload
from logging_policy.sampling import PolicySnapshot, default_policy

CACHE_KEY = "logging_policy:active"
CHECK_INTERVAL_S = 2.0
MAX_AGE_S = 5.0
# Beat's reconcile renews the cached payload; the expiry is the fallback when beat is not running:
# then one process reads the database (two queries) and publishes again.
CACHE_TIMEOUT_S = 60

_override: PolicySnapshot | None = None


@dataclass(frozen=True, slots=True)
class _State:
    snapshot: PolicySnapshot
    payload: Payload | None
    checked_at: float  # last check, successful or not
    confirmed_at: float  # last time Redis or the database vouched for the snapshot


_state: _State | None = None
_lock = threading.Lock()
clock: Callable[[], float] = time.monotonic  # replaceable by tests that move time


def policy_current() -> PolicySnapshot:
    """The policy in force in this process; never raises, never queries the database when warm."""
    if _override is not None:
        return _override
    state = _state
    if state is not None and clock() - state.checked_at < CHECK_INTERVAL_S:
        return state.snapshot
    return _refresh(state)


def _refresh(seen: _State | None) -> PolicySnapshot:
    global _state
    # One thread checks; the others keep serving the snapshot they have meanwhile.
    if not _lock.acquire(blocking=seen is None):
        return seen.snapshot  # type: ignore[union-attr]  # blocking when None, so set here
    try:
        state = _state
        if state is not None and clock() - state.checked_at < CHECK_INTERVAL_S:
            return state.snapshot
        try:
            _state = _check(state, clock())
        except Exception:  # noqa: BLE001 - sampling must never fail the work it samples
            _state = _State(replace(default_policy(), source="defaults", degraded="policy could not be loaded"),
                            None, clock(), float("-inf"))
        return _state.snapshot
    finally:
        _lock.release()


def _check(state: _State | None, now: float) -> _State:
    try:
        payload = cache.get(CACHE_KEY)
    except Exception as exc:  # noqa: BLE001 - any cache failure means: Redis unreachable
        return _without_cache(state, now, f"shared cache unreachable ({type(exc).__name__})")
    if payload is None:
        return _from_database(state, now, publish=True)
    if state is not None and payload == state.payload:
        snapshot = state.snapshot
        if snapshot.source != "cache" or snapshot.degraded:
            snapshot = replace(snapshot, source="cache", degraded="")
        return _State(snapshot, payload, now, now)
    return _State(snapshot_from_payload(payload, source="cache"), payload, now, now)


def _without_cache(state: _State | None, now: float, why: str) -> _State:
    # The last snapshot serves while it stays within MAX_AGE_S until the next check; then the database.
    if state is not None and now - state.confirmed_at + CHECK_INTERVAL_S <= MAX_AGE_S:
        return _last_known(state, now, why)
    return _from_database(state, now, publish=False, why=why)


def _last_known(state: _State, now: float, why: str) -> _State:
    snapshot = replace(state.snapshot, source="last_known", degraded=f"{why}; serving the last snapshot")
    return _State(snapshot, state.payload, now, state.confirmed_at)


def _from_database(state: _State | None, now: float, *, publish: bool, why: str = "") -> _State:
    try:
        payload = policy_payload_active()
    except Exception as exc:  # noqa: BLE001 - the database being away must not fail the request
        why = "; ".join(filter(None, [why, f"database unreachable ({type(exc).__name__})"]))
        if state is not None:
            return _last_known(state, now, why)
        return _State(replace(default_policy(), source="defaults", degraded=f"{why}; serving the defaults"),
                      None, now, float("-inf"))
    degraded = f"{why}; serving the database's policy" if why else ""
    if payload is None:  # no active policy row: the defaults are what the seed holds
        return _State(replace(default_policy(), source="defaults", degraded=degraded), None, now, now)
    if publish:
        try:
            # add, not set: a save published meanwhile must not be overwritten by this older read.
            cache.add(CACHE_KEY, payload, CACHE_TIMEOUT_S)
        except Exception:  # noqa: BLE001, S110 - the next check notices that the cache is away
            pass
    return _State(snapshot_from_payload(payload, source="database", degraded=degraded), payload, now, now)


def policy_payload_active() -> Payload | None:
    """The active policy from the database (two queries), or None when there is none."""
    from logging_policy.models import LoggingPolicy  # noqa: PLC0415 - models load after the logging config imports us

    policy = LoggingPolicy.objects.filter(is_active=True).first()
    return policy.payload() if policy is not None else None


def policy_publish(payload: Payload) -> bool:
    """Put a freshly saved policy in force: in the shared cache for every process, and here at once.

    Returns False when the shared cache could not be written; the other processes
    then pick the change up once `policy_shared_reconcile` republishes it (`policy_heal_bound_s`).
    """
    global _state
    published = True
    try:
        cache.set(CACHE_KEY, payload, CACHE_TIMEOUT_S)
    except Exception:  # noqa: BLE001 - reported to the admin by the caller
        published = False
    now = clock()
    with _lock:
        _state = _State(snapshot_from_payload(payload, source="database"), payload, now, now)
    return published


def policy_shared_reconcile() -> bool:
    """Make the shared copy equal the database's active policy; True when it had to be rewritten.

    Beat runs it every POLICY_SYNC_INTERVAL_SECONDS, off the request path: two queries and one or
    two Redis calls. An equal copy only has its expiry renewed, so no request has to refill it.
    """
    event = current_event()
    # The shared copy first: the database read after it is at least as new.
    shared = cache.get(CACHE_KEY)
    payload = policy_payload_active()
    shared_version = shared.get("version") if isinstance(shared, dict) else None
    event.set("policy", version=payload["version"] if payload else None, shared_version=shared_version)
    if shared == payload:
        if payload is not None:
            cache.touch(CACHE_KEY, CACHE_TIMEOUT_S)
        event.set("policy", republished=False)
        return False
    if payload is not None and _newer_shared(payload["version"]):
        # A save published since the database read: writing this older payload would undo it.
        event.set("policy", republished=False, newer_shared=True)
        return False
    if payload is None:  # no active policy row: every process falls back to the database (the defaults)
        cache.delete(CACHE_KEY)
    else:
        cache.set(CACHE_KEY, payload, CACHE_TIMEOUT_S)
    event.set("policy", republished=True)
    event.fact("policy_republished")
    return True


def _newer_shared(version: int) -> bool:
    """Does the shared copy, read again now, hold a later version than `version`?

    Versions only grow (each save adds one). The re-read narrows the race with a save that
    publishes between our database read and our write from a database round trip to the gap
    between two Redis calls; what still slips through is put right by the next run.
    """
    latest = cache.get(CACHE_KEY)
    return isinstance(latest, dict) and isinstance(latest.get("version"), int) and latest["version"] > version


def policy_heal_bound_s() -> float:
    """Seconds within which a committed change is in force everywhere, even when its publish was lost."""
    return float(settings.POLICY_SYNC_INTERVAL_SECONDS) + CHECK_INTERVAL_S


def policy_forget(*, shared: bool = False) -> None:
    """Drop this process's snapshot (and the shared copy with `shared`): the next call reloads."""
    global _state
    with _lock:
        _state = None
    if shared:
        cache.delete(CACHE_KEY)


@contextmanager
def policy_override(snapshot: PolicySnapshot) -> Iterator[PolicySnapshot]:
    """Use `snapshot` in this process for the block (tests, benchmarks)."""
    global _override
    previous, _override = _override, snapshot
    try:
        yield snapshot
    finally:
        _override = previous


def _after_fork() -> None:
    # A lock held by another thread at fork time would never be released in the child.
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)
