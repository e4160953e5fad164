"""What may leave the process in a wide event, and the scrub that enforces it.

The table says of each field who chose its value: PROCESS (configuration), SERVICE (code), FIXED (a
format docs/events.schema.json fixes; a test checks) or UNTRUSTED (a client, a database, an exception:
any field not named; apps name theirs in vocabulary.py). `WideEvent.set` scrubs each untrusted value
when it is set, with the secrets the event knows (the upload token and the credential from its start);
a secret learned later is replaced in the values already set once the event is kept, before it is
serialized. Text cut to a length is scrubbed before the cut (`clip`). The plain-log filter
(log_filters.py) uses the same functions. The table also says what an event too large to write keeps
(MINIMAL, then CORE) and what a rolled-back unit of work leaves (OUTCOME: cost and failure).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, time
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import orjson

from logging_policy.vocabulary import FieldName, Vocabulary, vocabulary

REDACTED = "[redacted]"

PROCESS, SERVICE, FIXED, UNTRUSTED = "process", "service", "fixed", "untrusted"
MINIMAL, CORE, OUTCOME = "minimal", "core", "outcome"

TOP_LEVEL: dict[str, tuple[str, ...]] = {
    "timestamp": (FIXED, MINIMAL), "kind": (FIXED, MINIMAL), "trace_id": (FIXED, MINIMAL),
    "parent_span_id": (FIXED, CORE), "truncated": (FIXED,),
    "operation": (SERVICE, MINIMAL), "success": (SERVICE, MINIMAL, OUTCOME), "duration_ms": (SERVICE, MINIMAL, OUTCOME),
    "sampling": (SERVICE, MINIMAL), "timings_ms": (SERVICE, OUTCOME), "db": (SERVICE, OUTCOME), "business": (SERVICE,),
    "service": (PROCESS, MINIMAL), "deployment": (PROCESS, MINIMAL), "feature_flags": (PROCESS, MINIMAL),
    "request_id": (UNTRUSTED, MINIMAL), "http": (UNTRUSTED, CORE), "task": (UNTRUSTED, CORE),
    "error": (UNTRUSTED, CORE, OUTCOME), "vehicle": (UNTRUSTED, CORE), "warnings": (UNTRUSTED, OUTCOME),
}
NESTED: dict[tuple[str, str], str] = {
    ("error", "code"): FIXED, ("error", "category"): FIXED, ("error", "severity"): FIXED,
    ("sampling", "reason"): FIXED, ("sampling", "policy_source"): FIXED, ("error", "name"): SERVICE,
    **dict.fromkeys((("http", f) for f in ("route", "status_code", "request_size_bytes", "response_size_bytes",
                                           "client_network")), SERVICE),
    **dict.fromkeys((("task", f) for f in ("name", "worker", "queue", "retries", "eager", "args_count")), SERVICE),
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
    return _FIXED | _WRITTEN | vocabulary().schema_fixed | vocabulary().written


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
# base64 standing alone. All-hex runs are left alone: trace ids and digests are, a token almost never is.
_TOKEN_SHAPED = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32}(?![A-Za-z0-9_-])")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def token_shaped(text: str) -> tuple[str, ...]:
    """The runs of `text` that may be an upload token: whoever writes `text` down treats them as secrets."""
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
# Spaces only, not \s: a tab or a newline is an escape in a JSON line, which `_suspect` does not look for.
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


def text_redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with the secrets, e-mail addresses and credentials replaced, grown by at most GROWTH_FLOOR."""
    # Patterns first: a known secret replaced inside an e-mail or a credential would leave the rest
    # of it unrecognisable (`jane@private-[redacted].example`).
    out = emails_redact(text) if "@" in text or "%40" in text else text
    # No separator or no credential word, no credential: a search for each beats the pattern's scan.
    if (" " in out or "+" in out or "%20" in out) and (
            "token" in (lowered := out.lower()) or "bearer" in lowered or "basic" in lowered):
        out = _CREDENTIAL.sub(lambda match: match[1] + " " + REDACTED, out)
    for secret in secrets:
        out = out.replace(secret, REDACTED)
    if len(out) > len(text) and len(out) > GROWTH_FLOOR:
        out = out[:max(len(text), GROWTH_FLOOR)]
    return out


def clip(text: str, limit: int, secrets: Iterable[str] = ()) -> str:
    """`text` cut to `limit` characters, scrubbed before it is cut: cut first, it could keep a fragment no
    scrub recognises (`jane@example` has no dotted domain; 24 of a token's 32 characters). Text that fits
    is left to the scrub of the field it is set in (`WideEvent.set`): most of it never reaches one."""
    return text if len(text) <= limit else text_redact(text, secrets)[:limit]


_PLAIN = (int, float, date, time, type(None))  # written as they are: nothing to scrub


def value_scrub(value: Any, secrets: Iterable[str]) -> Any:
    """An untrusted value scrubbed: strings, and those in lists and dicts (keys too); another object as
    its str(), which the line would write."""
    if isinstance(value, str):
        return text_redact(value, secrets)
    if type(value) is dict:
        return {value_scrub(k, secrets) if isinstance(k, str) else k: value_scrub(v, secrets) for k, v in value.items()}
    if type(value) in (list, tuple):
        return [value_scrub(item, secrets) for item in value] if value else value
    return value if isinstance(value, _PLAIN) else text_redact(str(value), secrets)


# namespace -> may `set` store these fields as they are? (`SECRET_FIELD_NAMES.isdisjoint` where the code
# writes the whole namespace, `<the fields it writes>.issuperset` elsewhere.) Filled by `fields_scrub`.
SCREENS: dict[str, Callable[[Iterable[str]], bool]] = {}
_written: dict[str, frozenset[str] | None] = {}
_untrusted: dict[tuple[Any, ...], tuple[str, ...]] = {}  # (namespace, *field names) -> those `set` scrubs
_filled_from: list[Vocabulary] = []


def _written_in(namespace: str) -> frozenset[str] | None:
    """The fields of `namespace` kept as they are, but secret names; None: all of them."""
    if not _filled_from or _filled_from[0] is not vocabulary():  # an app registered since
        SCREENS.clear()
        _written.clear()
        _untrusted.clear()
        _filled_from[:] = [vocabulary()]
    if namespace not in _written:
        whole = kept_whole()
        _written[namespace] = None if namespace in whole else frozenset(
            p[1] for p in whole if type(p) is tuple and p[0] == namespace) - SECRET_FIELD_NAMES
    return _written[namespace]


def fields_scrub(namespace: str, fields: Mapping[str, Any], secrets: Iterable[str], *, mine: bool = False
                 ) -> dict[str, Any]:
    """`fields` for `namespace` with the values of secret names replaced and the untrusted ones scrubbed (in
    place if `mine`). Its field names are the code's: a known secret spelling one (`http`) leaves it whole."""
    shape = (namespace, *fields)  # the code sets a namespace with a few shapes of fields, again and again
    names = _untrusted.get(shape)
    if names is None:
        written = _written_in(namespace)
        SCREENS[namespace] = SECRET_FIELD_NAMES.isdisjoint if written is None else written.issuperset
        if len(_untrusted) > 1000:
            _untrusted.clear()
        names = _untrusted[shape] = tuple(fields.keys() & SECRET_FIELD_NAMES if written is None
                                          else fields.keys() - written)
    out = fields if mine and type(fields) is dict else dict(fields)
    for key in names:
        value = out[key]
        out[key] = (REDACTED if key in SECRET_FIELD_NAMES else
                    text_redact(value, secrets) if type(value) is str else value_scrub(value, secrets))
    return out


def event_scrub(data: dict[str, Any], secrets: Iterable[str]) -> dict[str, Any]:
    """`data` (an event) with its untrusted values scrubbed, in place: a secret learned after they were set."""
    for name, value in data.items():
        if _written_in(name) is not None:
            data[name] = fields_scrub(name, value, secrets) if type(value) is dict else value_scrub(value, secrets)
    return data


def _suspect(line: bytes) -> bool:
    """Could a JSON line hold an e-mail or a credential? A cheap superset of what the patterns match: orjson
    escapes control characters, so only " ", "%" (of %20) and "+" can follow a credential word."""
    if b"@" in line:
        return True
    for separator in (0x20, 0x25, 0x2B):
        at = line.find(separator)
        while at >= 0:
            if line[at - 1] in _LAST_BYTES and line[at - 6 if at > 6 else 0:at].lower().endswith(_WORD_BYTES):
                return True
            if separator == 0x25 and line[at:at + 3] == b"%40":  # a URL-encoded "@"
                return True
            at = line.find(separator, at + 1)
    return False


def redact_line(line: bytes, secrets: Iterable[str] = ()) -> bytes:
    """An event already serialized (JSON from orjson), scrubbed as `WideEvent.set` scrubs one being built;
    screened first: most lines hold nothing to scrub."""
    found = [secret for secret in secrets if orjson.dumps(secret)[1:-1] in line]  # as the line spells it
    if not found and not _suspect(line):
        return line
    return orjson.dumps(event_scrub(orjson.loads(line), found))
