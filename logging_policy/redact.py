"""What may leave the process in a wide event, and the scrub that enforces it.

The table says of each top-level field who chose its value: PROCESS (configuration, one object
shared by the process's events), SERVICE (code), FIXED (a format docs/events.schema.json fixes; a test
checks) or UNTRUSTED (a client, a database, an exception: any field not named). Untrusted text enters
through `WideEvent.client_text`, scrubbed and then cut; fields named like secrets are replaced by
`WideEvent.set`; the request's live secrets (upload token, credential) are replaced at emission, where
a screen over the JSON bytes (`_suspect`) lets the common line pass and a suspect one is parsed, its
untrusted strings scrubbed one by one (bytes replaced in place could not tell a value from a key or a
literal). The apps register their fixed fields and secret URL prefixes (vocabulary.py); the plain-log
filter (log_filters.py) uses the same functions. The table also says what an event too large to write
keeps (MINIMAL, then CORE) and what a rolled-back unit of work leaves (OUTCOME: cost and failure).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import orjson

from logging_policy.vocabulary import FieldName, vocabulary

REDACTED = "[redacted]"

PROCESS, SERVICE, FIXED, UNTRUSTED = "process", "service", "fixed", "untrusted"
MINIMAL, CORE, OUTCOME = "minimal", "core", "outcome"

TOP_LEVEL: dict[str, tuple[str, ...]] = {
    "timestamp": (FIXED, MINIMAL), "kind": (FIXED, MINIMAL), "trace_id": (FIXED, MINIMAL),
    "parent_span_id": (FIXED, CORE), "truncated": (FIXED,),
    "operation": (SERVICE, MINIMAL), "success": (SERVICE, MINIMAL, OUTCOME), "duration_ms": (SERVICE, MINIMAL, OUTCOME),
    "sampling": (SERVICE, MINIMAL), "timings_ms": (SERVICE, OUTCOME), "db": (SERVICE, OUTCOME),
    "service": (PROCESS, MINIMAL), "deployment": (PROCESS, MINIMAL), "feature_flags": (PROCESS, MINIMAL),
    "request_id": (UNTRUSTED, MINIMAL), "http": (UNTRUSTED, CORE), "task": (UNTRUSTED, CORE),
    "error": (UNTRUSTED, CORE, OUTCOME), "vehicle": (UNTRUSTED, CORE), "warnings": (UNTRUSTED, OUTCOME),
}
NESTED: dict[tuple[str, str], str] = {
    ("error", "code"): FIXED, ("error", "category"): FIXED, ("error", "severity"): FIXED,
    ("sampling", "reason"): FIXED, ("sampling", "policy_source"): FIXED, ("http", "route"): SERVICE,
    ("error", "name"): SERVICE, ("task", "name"): SERVICE, ("task", "worker"): SERVICE, ("task", "queue"): SERVICE,
}


def _top(*marks: str) -> tuple[str, ...]:
    return tuple(name for name, row in TOP_LEVEL.items() if set(marks) & set(row))


STATIC_NAMESPACES = frozenset(_top(PROCESS))
MINIMAL_FIELDS, CORE_FIELDS, OUTCOME_FIELDS = _top(MINIMAL), _top(MINIMAL, CORE), frozenset(_top(OUTCOME))
_FIXED: frozenset[FieldName] = frozenset({*_top(FIXED), *(pair for pair, origin in NESTED.items() if origin == FIXED)})
_WRITTEN: frozenset[FieldName] = frozenset({*_top(PROCESS, SERVICE), *(p for p, origin in NESTED.items() if origin == SERVICE)})


def schema_fixed() -> frozenset[FieldName]:
    """Fields whose format the schema fixes: logging_policy's and those the apps registered."""
    return _FIXED | vocabulary().schema_fixed


def kept_whole() -> frozenset[FieldName]:
    """What the scrub leaves as it is: a token guessed to spell `upload` must not rename an operation."""
    return _FIXED | _WRITTEN | vocabulary().schema_fixed


def __getattr__(name: str) -> frozenset[FieldName]:
    if name == "SCHEMA_FIXED":  # read when asked: the apps register theirs at start-up
        return schema_fixed()
    raise AttributeError(name)


# Field names whose values are secrets or personal data, in any namespace: `WideEvent.set` stores "[redacted]".
SECRET_FIELD_NAMES = frozenset({
    "email", "eml", "token", "upload_token", "access_token", "refresh_token", "password", "passwd",
    "secret", "authorization", "cookie", "cookies", "sessionid", "session_key", "csrftoken", "api_key",
})
# URL path parameters that are secrets: redacted wherever they appear in the event.
SECRET_URL_KWARGS = ("token",)
_SCHEMES = frozenset({"bearer", "basic", "token"})
_SLASHES = re.compile(r"/{2,}")


def credential_of(header: str | None) -> str | None:
    """The credential of an Authorization header: its last word, whatever whitespace sets it apart
    (`Bearer<TAB>token`), or the whole value when it is bare (`Authorization: <token>`)."""
    parts = header.split() if header else ()
    if not parts or (len(parts) == 1 and parts[0].lower() in _SCHEMES):
        return None
    return parts[-1]


def path_secret_of(path: str) -> str | None:
    """The segment after a registered secret path prefix (the upload token), routed or not (`//` is `/`)."""
    if "//" in path:
        path = _SLASHES.sub("/", path)
    for prefix in vocabulary().secret_path_prefixes:
        if path.startswith(prefix):
            return path[len(prefix):].split("/", 1)[0] or None
    return None


def secret_prefix_in(path: str) -> str | None:
    """The secret prefix `path` holds, also percent-encoded (`/api/torque/%75pload/...` reaches the view)."""
    prefixes = vocabulary().secret_path_prefixes
    unquoted = unquote(path) if prefixes else ""
    return next((prefix for prefix in prefixes if prefix in unquoted), None)


@lru_cache(maxsize=4)
def secret_paths(prefixes: tuple[str, ...]) -> re.Pattern[str] | None:
    """A secret prefix and all that follows it up to a space (a GET upload's query: the e-mail, the position)."""
    return re.compile("(" + "|".join(map(re.escape, prefixes)) + r")\S+") if prefixes else None


# An upload token as telemetry/tokens.py makes it (`token_urlsafe(24)`): 32 characters of URL-safe
# base64 standing alone. All-hex runs are left alone: trace ids, uuid hex and digests are, a random
# token almost never is ((22/64)^32).
_TOKEN_SHAPED = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32}(?![A-Za-z0-9_-])")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def token_shaped(text: str) -> tuple[str, ...]:
    """The runs of `text` that may be an upload token: whoever writes `text` down treats them as secrets.

    Only a lookup could tell a live token from a run of the same shape; a header or a log line is not
    worth a query, and over-redacting a 32-character run costs nothing."""
    if len(text) < 32:
        return ()
    return tuple(run for run in _TOKEN_SHAPED.findall(text) if not _HEX_DIGITS.issuperset(run))


# A string that grows when scrubbed ("a@b.io" -> "[redacted]") is cut at its own length or at this,
# whichever is longer: below every maxLength in docs/events.schema.json (a test checks).
GROWTH_FLOOR = 150

# E-mail addresses are found from their "@" (or "%40") outwards: a regex `[local]+@domain` tries every
# start inside a long run of address characters (quadratic). A dot in the domain: `celery@worker-1` (a
# Celery node name) and `user@localhost` are not addresses anybody receives mail at.
_AT = re.compile(r"@|%40")
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)+")
_LOCAL_PUNCTUATION = frozenset("._%+-")
_WORDS = ("bearer", "basic", "token")
_WORD = "(?:" + "|".join(_WORDS) + ")"
# Spaces only, not \s: in the JSON line a tab or a newline is an escape, which the screen below does
# not look for; a credential after one is not a credential that a header or a URL carries.
_SEPARATOR = r"(?: +|%20|\+)"
# No \b before the word: over-redacting "xtoken 123456" costs nothing. A value stops where another
# credential word and separator begin ("token Bearer eyJ..."): that one is redacted in turn. A lower-case
# word that ends a sentence is prose, not a credential ("Forbidden (CSRF token missing.)").
_VALUE = r"(?![a-z]+\.(?![A-Za-z0-9_~+/=-]))(?:(?!\+?" + _WORD + _SEPARATOR + r")[A-Za-z0-9._~+/=-]){6,}"
# ASCII: with Unicode case folding `toKen` (a Kelvin sign) would match, which the byte screen cannot see.
_CREDENTIAL = re.compile(r"(?i)(" + _WORD + r")" + _SEPARATOR + _VALUE, re.ASCII)

_WORD_BYTES = tuple(word.encode() for word in _WORDS)
_LAST_BYTES = frozenset(end for word in _WORD_BYTES for end in (word[-1], word.upper()[-1]))  # r, c, n as ints


def client_network(address: str) -> str:
    """The client's network, not its address: IPv4 /24, IPv6 /48 (an address is personal data);
    empty for anything that is not a bare address (a port, brackets: nothing is guessed)."""
    parts = address.split(".")
    if len(parts) == 4 and all(part.isdigit() for part in parts):  # the common case, without ipaddress
        return f"{parts[0]}.{parts[1]}.{parts[2]}.0/24"
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone (`%eth0`) is not the address
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 48}", strict=False))


def _suspect(line: bytes) -> bool:
    """Could the line hold an e-mail or a credential? A cheap superset of what the regexes match.

    `line` is JSON as orjson writes it: control characters (tab, newline, ...) inside strings are
    escaped, so the only bytes that can follow a credential word are a space, "%" (of %20) and
    "+". Those are rare in an event, so each one is found (a memchr) and the few bytes before it
    compared with the words. Searching the line for the words themselves costs about a nanosecond
    per byte per word; every upload event holds "token" (its route) anyway.
    """
    if b"@" in line:
        return True
    for separator in (0x20, 0x25, 0x2B):  # " ", "%", "+"
        at = line.find(separator)
        while at >= 0:
            # One byte first: most separators follow no credential word ("Torque Pro", "+00:00").
            if line[at - 1] in _LAST_BYTES and line[at - 6 if at > 6 else 0:at].lower().endswith(_WORD_BYTES):
                return True
            if separator == 0x25 and line[at:at + 3] == b"%40":  # a URL-encoded "@"
                return True
            at = line.find(separator, at + 1)
    return False


def _credential_sub(match: re.Match[str]) -> str:
    return match[1] + " " + REDACTED


def emails_redact(text: str) -> str:
    """`text` with every e-mail address (local part, "@" or "%40", dotted domain) replaced."""
    if "@" not in text and "%40" not in text:
        return text
    parts: list[str] = []
    done = 0  # the text before this is in `parts`, or was an address
    # The last anchor: where it ended, where the local run before it started, whether it was "%40".
    # "%40" is made of address characters, so a local part may run through it (`user%40corp%40x.com`):
    # the scan jumps to that run's start instead of walking it again (which was quadratic in "%40"s).
    last_end, last_run_start, last_encoded = -1, 0, False
    for at in _AT.finditer(text):
        at_start, at_end = at.span()
        start = at_start
        while start > done:
            if start == last_end and last_encoded:
                start = max(last_run_start, done)
                break
            if not (text[start - 1].isalnum() or text[start - 1] in _LOCAL_PUNCTUATION):
                break
            start -= 1
        last_end, last_run_start, last_encoded = at_end, start, at_end - at_start == 3
        domain = _DOMAIN.match(text, at_end) if start < at_start else None
        if domain is None:
            continue
        parts += (text[done:start], REDACTED)
        done = domain.end()
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def text_redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with the secrets, e-mail addresses and credentials replaced, grown by at most GROWTH_FLOOR."""
    # Patterns first: a known secret replaced inside an e-mail or a credential would leave the rest
    # of it unrecognisable (`jane@private-[redacted].example`).
    out = emails_redact(text)
    lowered = out.lower()  # no credential word, no credential: a search per word beats the pattern's scan
    if "token" in lowered or "bearer" in lowered or "basic" in lowered:
        out = _CREDENTIAL.sub(_credential_sub, out)
    for secret in secrets:
        out = out.replace(secret, REDACTED)
    if len(out) > len(text) and len(out) > GROWTH_FLOOR:
        out = out[:max(len(text), GROWTH_FLOOR)]
    return out


def clip(text: str, limit: int, secrets: Iterable[str] = ()) -> str:
    """Untrusted `text` for an event, cut to `limit` characters and scrubbed before it is cut: cut first, it
    could keep a fragment no scrub recognises (`jane@example` has no dotted domain; 24 of a token's 32
    characters). Text that fits is scrubbed once, at emission: scrubbing it here too cost 4 us an upload."""
    if len(text) <= limit:
        return text
    return text_redact(text, tuple(secrets))[:limit]


def _scrubbed(value: Any, secrets: tuple[str, ...], kept: frozenset[FieldName], namespace: str | None = None) -> Any:
    """`value` (parsed JSON) scrubbed but for the `kept` fields; `namespace`: the top-level field it is
    under. Keys lose e-mails and credentials, never a known secret (a token `http` would rename a namespace)."""
    if type(value) is str:
        return text_redact(value, secrets)
    if type(value) is list:
        return [_scrubbed(item, secrets, kept, namespace) for item in value]
    if type(value) is not dict:
        return value
    out = {}
    for key, item in value.items():
        if (key if namespace is None else (namespace, key)) in kept:
            out[key] = item
        else:
            out[text_redact(key)] = _scrubbed(item, secrets, kept, key if namespace is None else namespace)
    return out


def redact_line(line: bytes, secrets: Iterable[str] = ()) -> bytes:
    """`line` (JSON from orjson) with e-mail addresses, credentials and each of `secrets` replaced by "[redacted]"."""
    found: tuple[str, ...] = ()
    for secret in secrets:  # a loop, not a generator: this runs on every kept event
        if orjson.dumps(secret)[1:-1] in line:  # the secret as the JSON line spells it (escapes)
            found += (secret,)
    if not found and not _suspect(line):
        return line
    return orjson.dumps(_scrubbed(orjson.loads(line), found, kept_whole()))
