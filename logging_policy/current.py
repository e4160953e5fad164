"""The open event of the running request or task, reachable from any code on it.

`current_event()` returns it, or outside of one a no-op stand-in, so services never need
to check; `event_bound(event)` makes an event the current one for a block (the middleware
and the task hooks do).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from logging_policy.error_codes import ErrorCode, classify_exception, error_code
from logging_policy.events import WideEvent
from logging_policy.redact import clip

_current: contextvars.ContextVar[WideEvent | None] = contextvars.ContextVar("wide_event", default=None)


class _NullEvent:
    """Stand-in outside any request or task: every call is accepted and ignored."""

    trace_id = ""
    request_id = ""
    operation = ""
    secrets: frozenset[str] = frozenset()

    def set(self, namespace: str, fields: Mapping[str, Any] | None = None, /, **more: Any) -> None:
        pass

    def get(self, namespace: str, key: str, default: Any = None) -> Any:
        return default

    def append(self, namespace: str, key: str, value: Any, limit: int = 50) -> None:
        pass

    def fact(self, name: str, value: Any = True) -> None:
        pass

    @contextmanager
    def timer(self, name: str) -> Iterator[None]:
        yield

    def add_error(self, error: ErrorCode | BaseException | str, message: str | None = None) -> ErrorCode:
        if isinstance(error, BaseException):
            return classify_exception(error)
        return error_code(error) if isinstance(error, str) else error

    def note_warning(self, code: str, message: str) -> None:
        pass

    def client_text(self, text: str, limit: int) -> str:
        return clip(text, limit)

    def record_query(self, duration_ms: float) -> None:
        pass

    def redact_value(self, secret: str) -> bool:
        return False

    def set_when_kept(self, namespace: str, build: Callable[[WideEvent], Mapping[str, Any]]) -> None:
        pass

    def rollback_guard(self) -> AbstractContextManager[None]:
        return nullcontext()


NULL_EVENT = _NullEvent()


def current_event() -> WideEvent | _NullEvent:
    """The event of the running request or task, or a no-op stand-in."""
    return _current.get() or NULL_EVENT


class event_bound:  # noqa: N801 - used like the function it was; a class costs less than a generator
    """`with event_bound(event):` makes `event` the current one for the block; always restores the previous one."""

    __slots__ = ("event", "token")

    def __init__(self, event: WideEvent) -> None:
        self.event = event

    def __enter__(self) -> WideEvent:
        self.token = _current.set(self.event)
        return self.event

    def __exit__(self, *exc: object) -> None:
        _current.reset(self.token)
