"""What the project's apps tell logging_policy about their events, at start-up.

logging_policy names no app: an app that emits wide events calls `vocabulary_register` from its
AppConfig.ready() with the business facts an admin may mark critical, the URL path prefixes whose
rest is a secret (an upload token in the path), the fields of its namespaces whose format the
schema fixes or its code writes (kept whole by the scrub), its operations' default sampling rules, the names of its
timers and the fields `manage.py events` shows in an event's one-line summary. Each registration builds a new frozen `Vocabulary`; readers take `vocabulary()` (one global
read) and never merge per event. Code that runs before the apps are ready (a log filter at
start-up, a form class built at admin autodiscovery) reads it when it runs, not at import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from logging_policy.sampling import OperationRule

FieldName = str | tuple[str, str]  # a top-level field, or (namespace, field)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    business_events: tuple[str, ...] = ()
    secret_path_prefixes: tuple[str, ...] = ()
    schema_fixed: frozenset[FieldName] = frozenset()
    written: frozenset[FieldName] = frozenset()  # a namespace: all of its fields
    rules: Mapping[str, OperationRule] = field(default_factory=lambda: MappingProxyType({}))
    timings: tuple[str, ...] = ()
    summary_fields: tuple[tuple[str, str, str], ...] = ()  # (namespace, field, label)


_current = Vocabulary()


def vocabulary() -> Vocabulary:
    """The vocabulary registered so far (all of it once the apps are ready)."""
    return _current


def vocabulary_register(*, business_events: Iterable[str] = (), secret_path_prefixes: Iterable[str] = (),
                        schema_fixed: Iterable[FieldName] = (), written: Iterable[FieldName] = (),
                        rules: Mapping[str, OperationRule] | None = None, timings: Iterable[str] = (),
                        summary_fields: Iterable[tuple[str, str, str]] = ()
                        ) -> Vocabulary:
    """Add an app's words to the vocabulary (idempotent: a name registered twice counts once)."""
    global _current
    old = _current
    _current = Vocabulary(
        business_events=_merged(old.business_events, business_events),
        secret_path_prefixes=_merged(old.secret_path_prefixes, secret_path_prefixes),
        schema_fixed=old.schema_fixed | frozenset(schema_fixed),
        written=old.written | frozenset(written),
        rules=MappingProxyType({**old.rules, **(rules or {})}),
        timings=_merged(old.timings, timings),
        summary_fields=old.summary_fields + tuple(f for f in summary_fields if f not in old.summary_fields),
    )
    return _current


def _merged(old: tuple[str, ...], new: Iterable[str]) -> tuple[str, ...]:
    return old + tuple(name for name in dict.fromkeys(new) if name not in old)
