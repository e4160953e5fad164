"""What the wide-event middleware adds to a real telemetry upload. A benchmark, not a test.

    DATABASE_URL=... python bench/bench_overhead.py [--n 400] [--rounds 5] [--tree DIR] [--gc-between]

The same upload (a new reading on an open trip of a moderate vehicle: 2 queries on PostgreSQL)
goes through Django's WSGIHandler with every middleware, once with WideEventMiddleware and once
without, interleaved request by request within each round. "With" runs at the default 5 % keep
rate and at 100 % (keep-all policy: every event serialized, redacted and written to a file).
Figures are this thread's CPU time per request (time.thread_time): the database's own work runs
in the PostgreSQL server process and cancels out; wall time on a shared machine mostly measures
the neighbours. Prints one JSON line last (for bench/run_all.py).

Both sides leave the same cyclic garbage (Django's request and response, about 38 containers an
upload), but an automatic collection runs in whichever request's allocations cross the threshold,
nearly always the one with the middleware, whose event raises the peak (measured: 0.085 gen-0
collections per request with it, 0.006 without): both sides' collections are charged to it.
`--gc-between` collects between the pairs instead, untimed (on 2026-12-03 it moved the ratio by less
than the rounds spread). `--tree DIR` measures another checkout's code (the code before a change)
with this script: run it alternately with and without.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _tree() -> Path:
    """The checkout whose code is measured: this one, or the one after `--tree` (read before Django starts)."""
    if "--tree" in sys.argv[:-1]:
        return Path(sys.argv[sys.argv.index("--tree") + 1]).resolve()
    return Path(__file__).resolve().parent.parent


TREE = _tree()
sys.path.insert(0, str(TREE))
os.chdir(TREE)  # Celery's loader puts the working directory on sys.path at start-up: it must be the tree
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "volttracker.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

from bench.fleet import START_MS, fleet_create, upload_query  # noqa: E402
from logging_policy.counters import counters_flush  # noqa: E402
from logging_policy.emit import SafeFileHandler  # noqa: E402
from logging_policy.policy import policy_override  # noqa: E402
from logging_policy.sampling import PolicySnapshot, default_policy  # noqa: E402

# Every event kept: no key budget either (the default, 200 a minute, would drop most of a round's).
KEEP_ALL = PolicySnapshot(default_sample_rate=1.0, new_vehicle_rate=1.0, default_budget_per_minute=10**9)
MIDDLEWARE = "logging_policy.middleware.WideEventMiddleware"


def handler(*, with_events: bool) -> WSGIHandler:
    original = list(settings.MIDDLEWARE)
    settings.MIDDLEWARE = original if with_events else [m for m in original if m != MIDDLEWARE]
    try:
        return WSGIHandler()
    finally:
        settings.MIDDLEWARE = original


class Uploader:
    """Sends readings of one session each, one second apart, through a WSGI handler."""

    def __init__(self, app: WSGIHandler, token: str, session: str) -> None:
        self.app, self.path, self.session, self.at = app, f"/api/torque/upload/{token}", session, START_MS

    def __call__(self) -> None:
        self.at += 1000
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": self.path,
                   "QUERY_STRING": upload_query(session=self.session, at_ms=self.at),
                   "SERVER_NAME": "localhost", "SERVER_PORT": "80", "HTTP_HOST": "localhost",
                   "HTTP_USER_AGENT": "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230901.001)",
                   "REMOTE_ADDR": "10.1.2.3", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
                   "wsgi.errors": sys.stderr}
        status: list[str] = []

        def start_response(status_line: str, headers: list[tuple[str, str]], exc_info: object = None) -> Callable[[bytes], None]:
            status.append(status_line)
            return lambda data: None

        body = b"".join(self.app(environ, start_response))
        if body != b"OK!":
            raise SystemExit(f"upload failed: {status} {body[:300]!r}")


def round_us(pairs: list[tuple[Uploader, Uploader]], n: int, *, gc_between: bool = False) -> tuple[float, float]:
    """CPU us per request with and without the middleware, alternating request by request."""
    on_s = off_s = 0.0
    clock = time.thread_time
    collector_on = gc.isenabled()
    if gc_between:
        gc.disable()
    try:
        for i in range(n):
            for on, off in pairs:
                # The order flips every time: the first request of a pair runs on colder caches (an A/A run,
                # both with the middleware, measured the first one 3 % slower).
                first, second = (on, off) if i % 2 == 0 else (off, on)
                start = clock()
                first()
                mid = clock()
                second()
                end = clock()
                if i % 2 == 0:
                    on_s, off_s = on_s + mid - start, off_s + end - mid
                else:
                    on_s, off_s = on_s + end - mid, off_s + mid - start
                if gc_between:
                    gc.collect(0)  # the pair's garbage, untimed (module docstring)
    finally:
        if collector_on:
            gc.enable()
    count = n * len(pairs)
    return on_s / count * 1e6, off_s / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=400, help="requests per vehicle per round and mode")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--vehicles", type=int, default=4)
    parser.add_argument("--tree", help="another checkout whose code is measured (read at start-up)")
    parser.add_argument("--gc-between", action="store_true", help="collect garbage between the pairs, untimed")
    args = parser.parse_args()

    fleet = fleet_create(vehicles=args.vehicles * 2, prefix=f"overhead-{os.getpid()}")
    # BENCH_AA=1: both sides with the middleware, to see the method's own bias (should be ~1.00).
    on_app, off_app = handler(with_events=True), handler(with_events=os.environ.get("BENCH_AA") == "1")
    pairs = [(Uploader(on_app, fleet[2 * i][1], f"on-{i}"), Uploader(off_app, fleet[2 * i + 1][1], f"off-{i}"))
             for i in range(args.vehicles)]
    logger = logging.getLogger("wide_events")
    results: dict[str, list[tuple[float, float]]] = {"5%": [], "100%": []}
    with tempfile.TemporaryDirectory() as tmp:
        events_path = Path(tmp) / "events.jsonl"
        saved, logger.handlers = logger.handlers, [SafeFileHandler(str(events_path))]
        try:
            for policy in (default_policy(), KEEP_ALL):  # warm-up: trips exist, caches filled
                with policy_override(policy):
                    round_us(pairs, 20)
            # The first flush of the sampling counters creates the process's Redis client (0.3 s of CPU,
            # once per process): done here, or one round of the "with" side would carry it.
            counters_flush()
            for _ in range(args.rounds):  # the two keep rates alternate round by round
                for label, policy in (("5%", default_policy()), ("100%", KEEP_ALL)):
                    with policy_override(policy):
                        results[label].append(round_us(pairs, args.n, gc_between=args.gc_between))
            lines = events_path.read_bytes().splitlines()
        finally:
            logger.handlers = saved
    med = statistics.median
    summary = {"bench": "overhead", "requests_per_round": args.n * args.vehicles, "tree": str(TREE),
               "gc": "between requests" if args.gc_between else "automatic"}
    print(f"{TREE}: {args.rounds} rounds x {args.n * args.vehicles} uploads per mode; CPU us per request, medians; "
          f"garbage collection {summary['gc']}")
    for label, rows in results.items():
        on, off = med(r[0] for r in rows), med(r[1] for r in rows)
        ratios = [a / b for a, b in rows]
        added = [a - b for a, b in rows]
        print(f"keep {label:>4}: with {on:7.1f} us  without {off:7.1f} us  added {med(added):6.1f} us  "
              f"ratio {med(ratios):.3f} (rounds {', '.join(f'{r:.3f}' for r in ratios)})")
        summary[label] = {"with_us": round(on, 1), "without_us": round(off, 1), "added_us": round(med(added), 1),
                          "ratio": round(med(ratios), 3)}
    kept_cost = summary["100%"]["added_us"] - summary["5%"]["added_us"]
    print(f"per kept event (100 % minus 5 % keep, /0.95): {kept_cost / 0.95:.1f} us; "
          f"{len(lines)} lines written, {sum(map(len, lines)) / max(len(lines), 1):.0f} bytes/line")
    summary["per_kept_event_us"] = round(kept_cost / 0.95, 1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
