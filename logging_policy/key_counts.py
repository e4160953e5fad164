"""Counts per sampling key for the overview: seen, kept, and the Horvitz-Thompson sums. Pure.

Recorded in memory next to the operation counts (logging_policy/counters.py flushes both in
one batch) for every event whose decision the key's budget governed. Per key and minute:
`seen`, `kept` (the events the policy keeps: in dry run, would keep), `w` (sum of 1/p over kept events), `v` (sum of (1-p)/p^2 over kept events),
`ps` (sum of p over seen events, so the latest minute's mean keep probability is the key's
current rate). The float sums are stored as integers of SCALE parts so that Redis adds
them with HINCRBY, exactly, as the other counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from logging_policy.adaptive import UNROUTED
from logging_policy.estimator import HTSums
from logging_policy.sampling import Decision

SCALE = 1_000_000
NAMES = ("seen", "kept", "w", "v", "ps")
# The overview's sections, in order: unrouted static files and scanners apart, so they do not
# crowd the operations.
GROUPS = {"static": "Static files (unrouted)", "scanner": "Scanners (unrouted)", "other": "Other unrouted paths"}
OPERATIONS = "Operations"

# (minute start, key) -> [seen, kept, w, v, ps] (the last three in SCALE parts)
Pending = dict[tuple[int, str], list[int]]


def key_count(pending: Pending, minute: int, decision: Decision, n: int = 1) -> None:
    """Add `n` events decided alike to `pending` (each adds what one event adds, rounded alike)."""
    row = pending.get((minute, decision.key))
    if row is None:
        row = pending[(minute, decision.key)] = [0, 0, 0, 0, 0]
    p = decision.rate
    row[0] += n
    row[4] += n * round(p * SCALE)
    # What the policy keeps (in dry run everything is written, but the estimate is the policy's).
    if decision.would_keep and p > 0:
        row[1] += n
        row[2] += n * round(SCALE / p)
        row[3] += n * round((1.0 - p) / (p * p) * SCALE)


def key_increments(pending: Pending, bucket: Callable[[int], str]) -> dict[str, dict[str, int]]:
    """{bucket(minute): {"key|name": n}}: what to add to the shared minute buckets."""
    out: dict[str, dict[str, int]] = {}
    for (minute, key), values in pending.items():
        fields = out.setdefault(bucket(minute), {})
        for name, n in zip(NAMES, values, strict=True):
            if n:
                field = f"{key}|{name}"
                fields[field] = fields.get(field, 0) + n
    return out


@dataclass(frozen=True, slots=True)
class KeyRow:
    key: str
    seen: int
    kept: int
    sums: HTSums
    rate: float  # mean keep probability over the key's latest minute with events

    @property
    def operation(self) -> str:
        return self.key.split("|", 1)[0]

    @property
    def values(self) -> str:
        """The key without its operation, for display."""
        return " · ".join(value or "–" for value in self.key.split("|")[1:]) or "–"

    @property
    def group(self) -> str:
        parts = self.key.split("|", 2)
        if parts[0] == UNROUTED and len(parts) > 1:
            return GROUPS.get(parts[1], GROUPS["other"])
        return OPERATIONS

    @property
    def estimate(self) -> float:
        return self.sums.estimate

    @property
    def rse_percent(self) -> float:
        return self.sums.rse * 100.0

    @property
    def kept_per_day(self) -> int:
        """Projected kept events a day at the last hour's pace."""
        return self.kept * 24


def key_rows(minute_buckets: Iterable[dict[str, int]]) -> list[KeyRow]:
    """Bucket contents (newest minute first) -> one row per key, sorted by group, then most seen first."""
    totals: dict[str, list[int]] = {}
    rate: dict[str, float] = {}
    for bucket in minute_buckets:
        minute: dict[str, dict[str, int]] = {}
        for field, n in bucket.items():
            key, _, name = field.rpartition("|")
            if name in NAMES:
                minute.setdefault(key, {})[name] = int(n)
        for key, values in minute.items():
            row = totals.setdefault(key, [0, 0, 0, 0])
            for i, name in enumerate(NAMES[:4]):
                row[i] += values.get(name, 0)
            if key not in rate and values.get("seen"):
                rate[key] = values.get("ps", 0) / SCALE / values["seen"]
    rows = [KeyRow(key, seen, kept, HTSums(kept, w / SCALE, v / SCALE), rate.get(key, 1.0))
            for key, (seen, kept, w, v) in totals.items()]
    order = [OPERATIONS, *GROUPS.values()]
    return sorted(rows, key=lambda r: (order.index(r.group), -r.seen, r.key))


def rows_grouped(rows: list[KeyRow]) -> list[tuple[str, list[KeyRow]]]:
    """[(group title, its rows)] in display order, empty groups left out."""
    groups: dict[str, list[KeyRow]] = {}
    for row in rows:
        groups.setdefault(row.group, []).append(row)
    return list(groups.items())
