"""Tail sampling: keep or drop a finished wide event. Pure: (policy snapshot, event, adaptive rates) -> decision.

The order is the contract (docs/policy.md, DESIGN.md "Sampling"): server fault, client
error (sampled by key), slow, critical business event, always-keep operation, always-keep
tier, new vehicle, then the operation's rate or the default rate. The new-vehicle rate is a
floor, never a cap, so an operation an admin raised to 100 % stays whole. Client errors and
the sampled rules are capped by their key's budget (logging_policy/adaptive.py), which only
lowers a rate. Random draws hash the trace id, so a request and every task it caused are
kept or dropped together when their rates are equal (the lower rate keeps a subset otherwise).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from logging_policy.adaptive import MAX_KEYS, OVERFLOW_KEY, AdaptiveRates, key_paths
from logging_policy.vocabulary import vocabulary

TIERS = ("new", "light", "moderate", "heavy")
# Audit facts no policy can sample away: a policy change must always leave a trace, and so must
# a change that reached the processes late because its publish was lost (policy_republished).
AUDIT_EVENTS = frozenset({"policy_changed", "policy_republished"})
# Fields a sampling key may name (the admin's choices): each is `section.field` of the event.
KEY_FIELDS = ("http.status_code", "error.code", "error.category", "http.method", "task.state",
              "vehicle.usage_tier")
DEFAULT_KEY_FIELDS = ("http.status_code", "error.code")
DEFAULT_BUDGET_PER_MINUTE = 200


@dataclass(frozen=True, slots=True)
class OperationRule:
    sample_rate: float
    slow_threshold_ms: float | None = None
    always_keep: bool = False
    budget_per_minute: int | None = None  # None: the policy's default budget


@dataclass(frozen=True, slots=True)
class PolicySnapshot:
    """An immutable view of the active policy; the defaults are the seeded ones."""

    version: int = 0
    default_sample_rate: float = 0.05
    default_slow_threshold_ms: float = 1000.0
    heavy_min_trips: int = 100
    moderate_min_trips: int = 20
    new_vehicle_days: int = 30
    new_vehicle_rate: float = 0.25
    always_keep_tiers: frozenset[str] = frozenset({"heavy"})
    # Every business fact the apps registered (logging_policy/vocabulary.py), read when the snapshot is made.
    critical_events: frozenset[str] = field(default_factory=lambda: business_events() | AUDIT_EVENTS)
    dry_run: bool = False
    default_budget_per_minute: int = DEFAULT_BUDGET_PER_MINUTE
    key_fields: tuple[str, ...] = DEFAULT_KEY_FIELDS
    # key_fields split at the dot, once: a key is built for most events.
    key_paths: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)
    # operation -> (slow threshold, rate, reason, always keep) with the defaults filled in, once: `decide`
    # reads one tuple instead of five attributes. Operations without a rule take `default_plan`.
    plans: Mapping[str, tuple[float, float, str, bool]] = field(init=False, repr=False, compare=False)
    default_plan: tuple[float, float, str, bool] = field(init=False, repr=False, compare=False)
    rules: Mapping[str, OperationRule] = field(default_factory=dict)
    # Where this snapshot came from and, when degraded, why; not part of the policy itself.
    source: str = field(default="defaults", compare=False)
    degraded: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key_paths", key_paths(self.key_fields))
        default_slow = self.default_slow_threshold_ms
        object.__setattr__(self, "plans", {
            operation: (default_slow if rule.slow_threshold_ms is None else rule.slow_threshold_ms,
                        rule.sample_rate, "operation_rate", rule.always_keep)
            for operation, rule in self.rules.items()})
        object.__setattr__(self, "default_plan", (default_slow, self.default_sample_rate, "default_rate", False))


class Decision(NamedTuple):
    """A decision; a named tuple because one is built for most events (a third of the cost of a frozen
    dataclass's)."""

    keep: bool
    reason: str
    rate: float
    would_keep: bool
    key: str = ""  # the sampling key when the budget governed this decision, else empty

    @property
    def sample_rate(self) -> float:
        """The weight of a kept event: how many events it stands for (1 / keep probability)."""
        return 1.0 / self.rate if self.rate > 0 else 0.0


def usage_tier(total_trips: int | None, policy: PolicySnapshot) -> str:
    """Tier from lifetime finished trips under the policy's current thresholds."""
    if not total_trips:
        return "new"
    if total_trips >= policy.heavy_min_trips:
        return "heavy"
    if total_trips >= policy.moderate_min_trips:
        return "moderate"
    return "light"


_SCALE = float(2**64)
_SCALE_52 = float(2**52)
_MASK_52 = 2**52 - 1


def trace_draw(trace_id: str) -> float:
    """A uniform number in [0, 1) fixed by the trace id.

    A W3C trace id is 128 random bits written as 32 hex digits: its last 52 bits are already a
    uniform draw (one int() instead of a hash: a fifth of a decision's cost). Any other id (a
    client's own request id, a test's) is hashed (64-bit BLAKE2b), so its draw is uniform too.
    """
    if len(trace_id) == 32:
        try:
            return (int(trace_id, 16) & _MASK_52) / _SCALE_52
        except ValueError:
            pass
    digest = hashlib.blake2b(trace_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


# The decisions that need no draw, built once: most kept events take one of these.
_KEEP = {reason: Decision(keep=True, reason=reason, rate=1.0, would_keep=True) for reason in (
    "error", "client_error", "slow", "critical_event", "always_keep_operation", "always_keep_tier", "new_vehicle",
    "operation_rate", "default_rate")}


_new = tuple.__new__  # Decision(...) by keyword runs the named tuple's Python-level __new__: twice the cost


def budget_per_minute(policy: PolicySnapshot, operation: str) -> int:
    """Kept events a minute allowed to each key of `operation` (per process)."""
    rule = policy.rules.get(operation)
    if rule is not None and rule.budget_per_minute is not None:
        return rule.budget_per_minute
    return policy.default_budget_per_minute


def is_client_error(event: Mapping[str, Any]) -> bool:
    """A failed request answered 4xx for the client's mistake (not a database or system fault)."""
    http = event.get("http")
    status = http.get("status_code") if isinstance(http, dict) else None
    if type(status) is not int or not 400 <= status < 500:
        return False
    error = event.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    return not (isinstance(code, str) and code.startswith(("E2", "E5")))


def decide(policy: PolicySnapshot, event: Mapping[str, Any], rates: AdaptiveRates | None = None) -> Decision:
    """Keep or drop `event` (a finished event's data) under `policy`, capped by the keys' `rates`.

    Without `rates` no budget applies (the rules alone). The decision reads `rates` and does
    not change them: the caller records the event afterwards (`AdaptiveRates.record`).
    It runs for every event, so the common path is one function (a Python call costs about as
    much as a rule): the key and the draw are inline, and a known key is found in the rates' memo.
    """
    get = event.get
    trace_id = get("trace_id", "")
    if type(trace_id) is not str:
        trace_id = str(trace_id)
    operation = get("operation", "")

    if get("success") is False:
        if not is_client_error(event):
            return _KEEP["error"]
        reason, rate = "client_error", 1.0
    else:
        slow_ms, rate, reason, always_keep = policy.plans.get(operation) or policy.default_plan
        duration = get("duration_ms")
        if type(duration) is not float:  # a float on every closed event; float() costs a call
            duration = float(duration or 0.0)
        if duration >= slow_ms:
            return _KEEP["slow"]

        business = get("business")
        # Walk the event's few facts, not the policy's list: most events carry none.
        if business and any(value and name in policy.critical_events for name, value in business.items()):
            return _KEEP["critical_event"]

        if always_keep:
            return _KEEP["always_keep_operation"]

        vehicle = get("vehicle")
        if vehicle:
            if usage_tier(vehicle.get("total_trips"), policy) in policy.always_keep_tiers:
                return _KEEP["always_keep_tier"]
            # A vehicle with no lifetime context yet counts as brand new. The new-vehicle rate is a
            # floor: it raises a low operation rate but never lowers one an admin set higher.
            age = vehicle.get("account_age_days")
            if (age is None or age < policy.new_vehicle_days) and policy.new_vehicle_rate > rate:
                rate, reason = policy.new_vehicle_rate, "new_vehicle"

    key = ""
    if rates is not None:  # the key's budget caps the rate (it never raises it)
        paths = policy.key_paths
        node = rates.memo.get(operation) if rates.memo_paths is paths else None
        if node is not None:  # a key seen before: a few dict reads (AdaptiveRates.key_learn)
            try:
                for head, tail in paths:
                    section = get(head)
                    node = node.get(section.get(tail) if type(section) is dict else None)
                    if node is None:
                        break
            except TypeError:  # a value that cannot be a dict key
                node = None
        key = node if type(node) is str else rates.key_learn(operation, event, paths)
        caps = rates.caps
        cap = caps.get(key)
        if cap is None and len(caps) >= MAX_KEYS:  # no room for another key: it shares the overflow key
            key = OVERFLOW_KEY
            cap = caps.get(key)
        if cap is not None and cap < rate:
            rate = cap

    if rate >= 1.0:
        return _new(Decision, (True, reason, 1.0, True, key)) if key else _KEEP[reason]
    if rate <= 0.0:
        return _new(Decision, (policy.dry_run, reason, 0.0, False, key))
    draw = -1.0
    if len(trace_id) == 32:  # trace_draw's common case, inline
        try:
            draw = (int(trace_id, 16) & _MASK_52) / _SCALE_52
        except ValueError:
            pass
    if draw < 0.0:
        draw = trace_draw(trace_id)
    would_keep = draw < rate
    return _new(Decision, (would_keep or policy.dry_run, reason, rate, would_keep, key))


def business_events() -> frozenset[str]:
    """The business facts an admin may mark critical: those the apps registered."""
    return frozenset(vocabulary().business_events)


def default_policy() -> PolicySnapshot:
    """The seeded defaults (migrations 0002 and later write the same), used when no policy is readable:
    the rules the apps registered for their operations, and logging_policy's own."""
    return PolicySnapshot(
        rules={
            **vocabulary().rules,
            # Beat runs it every few seconds; a run that republished is kept whole (AUDIT_EVENTS).
            "policy_sync": OperationRule(sample_rate=0.001),
        }
    )
