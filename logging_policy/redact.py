"""Last line of defence against secrets in a written event: scrub the serialized JSON line.

Field names are filtered when they are set (`WideEvent.set`); this catches the
values: e-mail addresses, `Bearer`/`Basic`/`token` credentials and the event's
own known secrets (the upload token of the request), wherever they ended up: a
path, a user agent, an exception message. It works on the JSON bytes because a
few memchr calls over the line are much cheaper than walking every field, and
the common line contains none of the markers.

A known secret is found in the bytes but replaced in the parsed event's string values only:
the client chooses the token, and `false`, `http` or `success` also spell the line's literals
and field names (replaced as bytes, `"success":false` became invalid JSON). Fields whose format
the schema fixes (ids, enums, the timestamp) are left whole: they cannot hold a token, and
"[redacted]" would break their format. That path is rare: the middleware already takes the
token out of the path, so a normal event does not contain it.

The line stays valid JSON: no pattern matches a quote or a backslash, and each
regex consumes JSON escapes (`\\n`, `\\u001f`) whole, so a match never starts
inside one (redacting `nbob@x.org` out of `\\nbob@x.org` would leave a broken `\\`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson

REDACTED = b"[redacted]"
_REDACTED_TEXT = REDACTED.decode()
_ESCAPE = rb"(\\(?:u[0-9A-Fa-f]{4}|.))"
# Non-ASCII bytes: orjson writes UTF-8 as is (jörg@exämple.de); no dot needed after the "@" (owner@localhost).
_EMAIL = re.compile(_ESCAPE + rb"|[A-Za-z0-9._%+\x80-\xff-]+(?:@|%40)[A-Za-z0-9\x80-\xff-]+(?:\.[A-Za-z0-9\x80-\xff-]+)*")
_WORDS = (b"bearer", b"basic", b"token")
_LAST_BYTES = frozenset(end for word in _WORDS for end in (word[-1], word.upper()[-1]))  # r, c, n as ints
_WORD = rb"(?:" + b"|".join(_WORDS) + rb")"
_SEPARATOR = rb"(?:\s+|%20|\+)"
# No \b before the word: after an escape ("\tBearer ...") there is no word boundary, and
# over-redacting "xtoken 123456" costs nothing. A value stops where another credential word and
# separator begin ("token Bearer eyJ...", "secret99+Bearer abc..."): that one is redacted in turn.
_VALUE = rb"(?:(?!\+?" + _WORD + _SEPARATOR + rb")[A-Za-z0-9._~+/=-]){6,}"
_CREDENTIAL = re.compile(rb"(?i)" + _ESCAPE + rb"|(" + _WORD + rb")" + _SEPARATOR + _VALUE)


def _email_sub(match: re.Match[bytes]) -> bytes:
    return match[1] or REDACTED


def _credential_sub(match: re.Match[bytes]) -> bytes:
    return match[1] or match[2] + b" " + REDACTED


def _suspect(line: bytes) -> bool:
    """Could the line hold an e-mail or a credential? A cheap superset of what the regexes match.

    `line` is JSON as orjson writes it: control characters (tab, newline, ...) inside strings are
    escaped, so the only bytes that can follow a credential word in _CREDENTIAL are a space, "%"
    (of %20) and "+". Those are rare in an event, so each one is found (a memchr) and the few bytes
    before it compared with the words. Searching the line for the words themselves costs about a
    nanosecond per byte per word; every upload event holds "token" (its route) anyway.
    """
    if b"@" in line:
        return True
    for separator in (0x20, 0x25, 0x2B):  # " ", "%", "+"
        at = line.find(separator)
        while at >= 0:
            # One byte first: most separators follow no credential word ("Torque Pro", "+00:00").
            if line[at - 1] in _LAST_BYTES and line[at - 6 if at > 6 else 0:at].lower().endswith(_WORDS):
                return True
            if separator == 0x25 and line[at:at + 3] == b"%40":  # a URL-encoded "@"
                return True
            at = line.find(separator, at + 1)
    return False


# Top-level fields and (namespace, field) pairs whose values docs/events.schema.json constrains to an
# enum or a pattern (a test keeps this equal to the schema).
FIXED_FORMAT_FIELDS = frozenset({
    "timestamp", "kind", "trace_id", "parent_span_id", "truncated",
    ("telemetry", "message_kind"), ("telemetry", "outcome"),
    ("error", "code"), ("error", "category"), ("error", "severity"),
    ("sampling", "reason"), ("sampling", "policy_source"),
})


def _scrubbed(value: Any, secrets: tuple[str, ...], namespace: str | None = None) -> Any:
    """`value` with the secrets replaced in its strings; `namespace`: the top-level field it is under."""
    if type(value) is str:
        for secret in secrets:
            value = value.replace(secret, _REDACTED_TEXT)
        return value
    if type(value) is list:
        return [_scrubbed(item, secrets, namespace) for item in value]
    if type(value) is not dict:
        return value
    out = {}
    for key, item in value.items():
        fixed = key in FIXED_FORMAT_FIELDS if namespace is None else (namespace, key) in FIXED_FORMAT_FIELDS
        out[key] = item if fixed else _scrubbed(item, secrets, key if namespace is None else namespace)
    return out


def secrets_scrub(line: bytes, secrets: Iterable[str]) -> bytes:
    """`line` with each of `secrets` replaced by "[redacted]" in its free-text string values."""
    for secret in secrets:  # a loop that allocates nothing: on almost every line no secret is found
        if secret.encode() in line:
            return orjson.dumps(_scrubbed(orjson.loads(line), tuple(secrets)))
    return line


def redact_line(line: bytes, secrets: Iterable[str] = ()) -> bytes:
    """`line` (JSON from orjson) with e-mail addresses, credentials and each of `secrets` replaced by "[redacted]"."""
    if secrets:
        line = secrets_scrub(line, secrets)
    if _suspect(line):
        line = _CREDENTIAL.sub(_credential_sub, _EMAIL.sub(_email_sub, line))
    return line
