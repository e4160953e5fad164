"""Per-key adaptive keep rates: a flood of one kind of event is sampled down to its budget.

A sampling key is the operation plus the values of the policy's key fields (by default
`http.status_code` and `error.code`); an unrouted request adds its route class (`static`,
`scanner`, `other`), never its path, so a scanner inventing paths makes no new keys.

Per key, each process keeps an exponentially weighted count of the events it decided:

    x <- x * exp(-dt / TAU_S) + 1          (dt: seconds since the key's previous event)

so x is about the number of events in the last minute (TAU_S = 60 s). With a budget of
B kept events a minute, the key's events are kept with probability

    p = min(base, B / x)

(base: the rate the policy's rules give). A steady flood of r events a second has
x -> 60 r and keeps B a minute; a rare key (x <= B) keeps its base rate; a new burst of
n events within seconds keeps its first B whole and then ever fewer, about
B * (1 + ln(n / B)) in all. The count is updated on every event, so a burst is sampled
down while it lasts, whether it takes two seconds or forty; `cap(key)` is what the decision reads: b / x as of the key's previous event
(so each event's p depends only on events before it, which keeps 1/p unbiased). At most
once a second (`advance`, called before a decision) every key's count decays to the present,
so a key that went quiet an hour ago is whole again, and keys that went quiet are dropped;
at most MAX_KEYS keys are held, any further key shares one overflow key.

Per process, with no network call: N processes each keep up to B a minute for a key,
so the fleet keeps at most N * B (docs/policy.md).
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

# The moving average's time constant: a minute, the budget's unit, so that B / x is the budget's share
# of the last minute's events. Shorter would converge faster on a steady flood but let a burst that
# lasts longer than it keep more (docs/policy.md).
TAU_S = 60.0
TICK_S = 1.0  # every key's count is decayed to the present at most this often
MAX_KEYS = 1000
MEMO_MAX = 2 * MAX_KEYS  # key strings remembered per process (see AdaptiveRates.key_learn)
FORGET_BELOW = 0.05  # a key whose count decayed below this is as good as never seen: dropped
OVERFLOW_KEY = "(other keys)"
UNROUTED = "http_unrouted"

_STATIC = re.compile(r"^/(static|media)/|\.(css|js|mjs|map|png|jpe?g|gif|svg|ico|webp|woff2?|ttf|txt|xml|webmanifest)$")
_SCANNER = re.compile(r"\.(php\d?|aspx?|jsp|cgi|env|git|sql|bak|ini|ya?ml|old|zip|tar|gz)(/|$)|/(wp-|wordpress|"
                      r"phpmyadmin|cgi-bin|\.well-known/security|\.git|\.env|\.aws|vendor/|boaform|actuator)",
                      re.IGNORECASE)


def route_class(path: str) -> str:
    """What an unrouted path looks like: `static` (a file), `scanner` (a probe for software), `other`."""
    lowered = path.lower()
    if _SCANNER.search(lowered):
        return "scanner"
    if _STATIC.search(lowered):
        return "static"
    return "other"


def key_paths(fields: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """("http.status_code", ...) -> (("http", "status_code"), ...)."""
    return tuple((head, tail) for head, _, tail in (f.partition(".") for f in fields))


def sampling_key(operation: str, event: Mapping[str, Any], paths: tuple[tuple[str, str], ...]) -> str:
    """`operation|value|...` for the key fields (empty when absent); unrouted requests add their route class."""
    key = operation
    if operation == UNROUTED:
        http = event.get("http")
        key += "|" + (route_class(str(http.get("path", ""))) if isinstance(http, dict) else "other")
    for head, tail in paths:
        section = event.get(head)
        value = section.get(tail) if type(section) is dict else None
        key += "|" if value is None else "|" + (value if type(value) is str else str(value))[:40]
    return key


class AdaptiveRates:
    """The per-key counts of one process and the rate caps derived from them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._counts: dict[str, list[float]] = {}  # key -> [x, time of its last event, b]
        # key -> b / x; a key absent is not capped. Read by `decide` directly (a method call costs more).
        self.caps: dict[str, float] = {}
        self._ticked = clock()
        self._lock = threading.Lock()
        # operation -> first key field's value -> ... -> key string, for the key fields `memo_paths`:
        # `decide` finds a known key with a few dict reads instead of building and hashing a new string.
        self.memo: dict[Any, Any] = {}
        self.memo_paths: tuple[tuple[str, str], ...] = ()
        self._memo_size = 0

    def cap(self, key: str) -> float:
        """The highest keep probability the key's budget allows for its next event (may exceed 1).

        As of the key's previous event or the last tick, whichever is later.
        """
        return self.caps.get(key, math.inf)

    def key_learn(self, operation: str, event: Mapping[str, Any], paths: tuple[tuple[str, str], ...]) -> str:
        """The event's sampling key, built and remembered for the next event with the same values.

        Values equal in Python share a key (200 and "200"; two texts that differ only past the key's
        40-character cut). Unrouted requests are not remembered (their route class comes from the path),
        and at most MEMO_MAX keys are: past that a key is built every time.
        """
        key = sampling_key(operation, event, paths)
        if paths is not self.memo_paths:  # another policy's key fields: start over
            self.memo, self.memo_paths, self._memo_size = {}, paths, 0
        if operation == UNROUTED or self._memo_size >= MEMO_MAX:
            return key
        parts: list[Any] = [operation]
        for head, tail in paths:
            section = event.get(head)
            parts.append(section.get(tail) if type(section) is dict else None)
        node = self.memo
        try:
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = key
        except TypeError:  # a value that cannot be a dict key (a list): built every time
            return key
        self._memo_size += 1
        return key

    def advance(self) -> None:
        """Decay every key's count to the present when a tick is due (a clock read otherwise)."""
        now = self.clock()
        if now - self._ticked >= TICK_S:
            with self._lock:
                self._tick(now)

    def record(self, key: str, budget_per_minute: float) -> None:
        """Count one decided event of `key` (after its decision) and update the key's cap."""
        now = self.clock()
        b = budget_per_minute * TAU_S / 60.0  # the budget over one time constant
        with self._lock:
            entry = self._counts.get(key)
            if entry is None and len(self._counts) >= MAX_KEYS:  # no room: the overflow key counts it
                key = OVERFLOW_KEY
                entry = self._counts.get(key)
            if entry is None:
                entry = self._counts[key] = [0.0, now, b]
            entry[0] = entry[0] * math.exp((entry[1] - now) / TAU_S) + 1.0
            entry[1], entry[2] = now, b
            self.caps[key] = b / entry[0]

    def _tick(self, now: float) -> None:
        # A key that went quiet must not keep the low cap of its last flood event until its next event.
        self._ticked = now
        for key, entry in list(self._counts.items()):
            x = entry[0] * math.exp((entry[1] - now) / TAU_S)
            if x < FORGET_BELOW:
                del self._counts[key]
                self.caps.pop(key, None)
            else:
                entry[0], entry[1] = x, now
                self.caps[key] = entry[2] / x

    def snapshot(self) -> dict[str, float]:
        """Key -> current cap (tests, the overview's local view)."""
        with self._lock:
            return dict(self.caps)

    def forget(self) -> None:
        with self._lock:
            self._counts.clear()
            self.caps.clear()


RATES = AdaptiveRates()


def _after_fork() -> None:
    # A forked child (Celery prefork, gunicorn) counts its own events from scratch; a lock held by
    # another thread at fork time would never be released in the child.
    RATES._lock = threading.Lock()  # noqa: SLF001 - the module owns RATES; only fork needs a fresh lock
    RATES.forget()


os.register_at_fork(after_in_child=_after_fork)
