"""Sampling counters: events seen, kept and would-keep (dry run), per operation and sampling reason,
and per sampling key (logging_policy/key_counts.py).

Counting is on the hot path of every event, so it only touches memory: each process
appends the event's decision to a list and flushes every FLUSH_EVERY events or
FLUSH_INTERVAL_S seconds, whichever comes first, and at every minute's end, as ONE batch
(a MULTI/EXEC pipeline of HINCRBYs on Redis; one get_many + set_many on the file cache).
The flush adds the batch up, each distinct decision once (equal decisions are most of a
batch). A failed flush keeps the counts for the next attempt (at most a day of them) and
never raises: Redis being away costs the overview some freshness, never a request.

Buckets: one-minute hashes for "the last hour" (the current minute and the 59 before),
one-hour hashes for "the last day" (the current hour and the 23 before); every event
counts in both. The file cache's read-modify-write is not atomic across processes: two
processes flushing in the same instant can lose one batch. That is accepted on a
single-machine development setup; production runs on Redis.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from logging_policy.key_counts import KeyRow, key_count, key_increments, key_rows
from logging_policy.key_counts import Pending as KeyPending
from logging_policy.sampling import Decision

# A flush costs about 0.6 ms (one pipeline to Redis): every 500 events that was 1.2 us on each event,
# as much as the count itself. Below ~500 events a second per process the interval decides anyway.
# What a killed process loses is its unflushed counts: up to FLUSH_EVERY events, or, in a process
# that saw no event since its last flush, whatever it counted before (atexit flushes on a clean exit).
FLUSH_EVERY = 5000
FLUSH_INTERVAL_S = 10.0
MINUTE, HOUR, DAY = 60, 3600, 86400
PREFIX = "sampling_counts"
NAMES = ("seen", "kept", "would_keep")
# A bucket outlives its window by a margin so that a late flush still lands in a readable key.
_TTL = {"m": 2 * HOUR, "h": DAY + 2 * HOUR, "k": 2 * HOUR}

_internal = logging.getLogger("logging_policy")
clock: Callable[[], float] = time.time  # wall clock: buckets are shared by every process

# (minute start, operation, reason) -> [seen, kept, would_keep]
_Pending = dict[tuple[int, str, str], list[int]]
# The events decided since the last flush, all in the minute `_minute` (a flush ends every minute).
# No lock per event: list.append is atomic, and a flush swaps the list for a new one. A thread that
# read the clock just before another one's flush at a minute's end counts its event a minute late.
_decided: list[tuple[str, Decision]] = []
_minute = 0
_due_at = 0.0  # the next flush: FLUSH_INTERVAL_S after the last one, or the minute's end if sooner
# Counts whose flush failed, added to the next batch.
_carried: _Pending = {}
_carried_keys: KeyPending = {}
_flush_lock = threading.Lock()


def counters_record(*, operation: str, decision: Decision) -> None:
    """Count one decided event in this process; flush first when due. Never raises."""
    try:
        if clock() >= _due_at or len(_decided) >= FLUSH_EVERY:
            counters_flush()
        _decided.append((operation, decision))
    except Exception:  # noqa: BLE001 - counting must never fail the event it counts
        _internal.exception("sampling counters: could not count an event")


def counters_flush() -> bool:
    """Write this process's pending counts as one batch. False (counts kept) when the cache is away."""
    global _decided, _minute, _due_at, _carried, _carried_keys
    if not _flush_lock.acquire(blocking=False):
        return False  # another thread of this process is flushing right now
    try:
        now = clock()
        decided, minute, batch, keys = _decided, _minute, _carried, _carried_keys
        _decided, _carried, _carried_keys = [], {}, {}
        _minute = int(now) // MINUTE * MINUTE
        _due_at = min(now + FLUSH_INTERVAL_S, _minute + MINUTE)
        _tally(decided, minute, batch, keys)
        if not batch:
            return True
        try:
            _store_add({**increments(batch), **key_increments(keys, lambda minute: bucket_key("k", minute))})
            return True
        except Exception as exc:  # noqa: BLE001 - any cache failure: keep the counts, retry later
            _internal.warning("sampling counters not flushed (%s); retrying in %gs",
                              type(exc).__name__, FLUSH_INTERVAL_S)
            _carry(batch, keys, now)
            return False
    finally:
        _flush_lock.release()


def _tally(decided: list[tuple[str, Decision]], minute: int, batch: _Pending, keys: KeyPending) -> None:
    """Add the events of `minute` to the pending counts, each distinct (operation, decision) once."""
    for (operation, decision), n in Counter(decided).items():
        row = batch.get((minute, operation, decision.reason))
        if row is None:
            row = batch[(minute, operation, decision.reason)] = [0, 0, 0]
        row[0] += n
        row[1] += n * decision.keep
        row[2] += n * decision.would_keep
        if decision.key:
            key_count(keys, minute, decision, n)


def _carry(batch: _Pending, keys: KeyPending, now: float) -> None:
    """Keep the counts of a failed flush for the next one (those of the last day; per key, the last hour)."""
    for key, (seen, kept, would) in batch.items():
        if key[0] < now - DAY:
            continue
        row = _carried.setdefault(key, [0, 0, 0])
        row[0] += seen
        row[1] += kept
        row[2] += would
    for minute_key, values in keys.items():
        if minute_key[0] >= now - HOUR:  # per-key counts are shown for the last hour only
            pending = _carried_keys.setdefault(minute_key, [0] * len(values))
            for i, n in enumerate(values):
                pending[i] += n


def bucket_key(kind: str, start: int) -> str:
    return f"{PREFIX}:{kind}:{start}"


def increments(batch: _Pending) -> dict[str, dict[str, int]]:
    """Pure: pending counts -> {bucket key: {"operation|reason|name": n}}, minute and hour buckets."""
    out: dict[str, dict[str, int]] = {}
    for (minute, operation, reason), values in batch.items():
        for key in (bucket_key("m", minute), bucket_key("h", minute // HOUR * HOUR)):
            fields = out.setdefault(key, {})
            for name, n in zip(NAMES, values, strict=True):
                if n:
                    field = f"{operation}|{reason}|{name}"
                    fields[field] = fields.get(field, 0) + n
    return out


def _store_add(batch: dict[str, dict[str, int]]) -> None:
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client(write=True)  # type: ignore[attr-defined]  # noqa: SLF001 - Django exposes no pipeline
        pipe = client.pipeline(transaction=True)
        for key, fields in batch.items():
            full = backend.make_and_validate_key(key)
            for field, n in fields.items():
                pipe.hincrby(full, field, n)
            pipe.expire(full, _TTL[key.split(":")[1]])
        pipe.execute()
        return
    stored = cache.get_many(list(batch))
    for kind in ("m", "h", "k"):
        merged = {}
        for key, fields in batch.items():
            if key.split(":")[1] != kind:
                continue
            current = dict(stored.get(key) or {})
            for field, n in fields.items():
                current[field] = current.get(field, 0) + n
            merged[key] = current
        if merged:
            cache.set_many(merged, timeout=_TTL[kind])


def _store_read(keys: list[str]) -> list[dict[str, int]]:
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client()  # type: ignore[attr-defined]  # noqa: SLF001
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(backend.make_and_validate_key(key))
        return [{f.decode(): int(n) for f, n in row.items()} for row in pipe.execute()]
    stored = cache.get_many(keys)
    return [stored.get(key) or {} for key in keys]


@dataclass(frozen=True, slots=True)
class Window:
    seen: int = 0
    kept: int = 0
    would_keep: int = 0


@dataclass(frozen=True, slots=True)
class Row:
    operation: str
    reason: str
    hour: Window
    day: Window

    @property
    def kept_per_day(self) -> int:
        """Projected kept events a day at the last hour's pace."""
        return self.hour.kept * 24

    @property
    def would_keep_per_day(self) -> int:
        return self.hour.would_keep * 24


def window_keys(now: float) -> tuple[list[str], list[str]]:
    minute, hour = int(now // MINUTE) * MINUTE, int(now // HOUR) * HOUR
    return ([bucket_key("m", minute - i * MINUTE) for i in range(60)],
            [bucket_key("h", hour - i * HOUR) for i in range(24)])


def _sum(buckets: Iterable[dict[str, int]]) -> dict[tuple[str, str], Window]:
    totals: dict[tuple[str, str], dict[str, int]] = {}
    for bucket in buckets:
        for field, n in bucket.items():
            operation, reason, name = field.rsplit("|", 2)
            row = totals.setdefault((operation, reason), {})
            row[name] = row.get(name, 0) + int(n)
    return {key: Window(**values) for key, values in totals.items()}


def overview_rows(minute_buckets: list[dict[str, int]], hour_buckets: list[dict[str, int]]) -> list[Row]:
    """Pure: bucket contents -> one row per (operation, reason), sorted."""
    hour, day = _sum(minute_buckets), _sum(hour_buckets)
    return [Row(operation, reason, hour.get((operation, reason), Window()), day.get((operation, reason), Window()))
            for operation, reason in sorted(set(hour) | set(day))]


def counters_overview() -> list[Row]:
    """The shared counts of the last hour and day (this process's pending counts flushed first)."""
    counters_flush()
    minutes, hours = window_keys(clock())
    buckets = _store_read(minutes + hours)
    return overview_rows(buckets[:len(minutes)], buckets[len(minutes):])


def counters_key_rows() -> list[KeyRow]:
    """The shared per-key counts of the last hour (this process's pending counts flushed first)."""
    counters_flush()
    minute = int(clock() // MINUTE) * MINUTE
    return key_rows(_store_read([bucket_key("k", minute - i * MINUTE) for i in range(60)]))


def counters_forget() -> None:
    """Drop this process's pending counts (tests)."""
    global _decided, _carried, _carried_keys, _due_at
    _decided, _carried, _carried_keys, _due_at = [], {}, {}, 0.0


def _after_fork() -> None:
    # A forked child (Celery prefork) must not flush its parent's counts a second time.
    global _flush_lock
    counters_forget()
    _flush_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)
atexit.register(counters_flush)
