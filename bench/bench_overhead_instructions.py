"""Instructions the wide-event middleware adds to a real upload, counted by callgrind. A benchmark, not a test.

    DATABASE_URL=... python bench/bench_overhead_instructions.py [--requests 200] [--compare DIR] [--jobs 2]

bench_overhead.py times the same uploads with and without WideEventMiddleware; on a shared 2-core
VM its rounds spread by more than the 5 % it looks for. This counts instead: the upload of
bench_overhead (a new reading on an open trip of a moderate vehicle, through Django's WSGIHandler
and every middleware, on PostgreSQL) `--requests` times in a child Python under callgrind, without
the middleware, with it at the seeded policy (5 % kept) and with it keeping every event, each
against a run of zero requests (bench/callgrind.py). Ids are drawn from a seeded generator, so
the same events are kept on every run. The sampling counters' clock stands still in the child:
their flush (one Redis pipeline, about 1.6M instructions, every 10 s or 5,000 events: ~0.5k a
request at 300 uploads/s) would otherwise come every ~50 requests, callgrind being ~50 times
slower than the machine. The count misses kernel time (the write of a kept line) and what cache
misses cost, which the timed benchmark sees: the two complement each other.
`--compare DIR` counts another checkout (the code before a change) the same way, beside this one;
`--jobs` runs that many callgrind children at once (the counts do not change).
Prints one JSON line last (for bench/run_all.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODES = ("without", "with_5pct", "with_100pct")


def child(mode: str, requests: int, tree: Path) -> None:
    """In the child: `requests` uploads of one vehicle after a warm-up, in `mode`, with `tree`'s code."""
    import logging
    import random
    import tempfile

    sys.path.insert(0, str(tree))
    os.chdir(tree)  # Celery's loader puts the working directory on sys.path at start-up: it must be the tree
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "volttracker.settings")
    import django

    django.setup()
    from bench.bench_overhead import Uploader, handler
    from bench.fleet import fleet_create
    from logging_policy import counters
    from logging_policy.emit import SafeFileHandler
    from logging_policy.policy import policy_override
    from logging_policy.sampling import PolicySnapshot, default_policy

    # bench_overhead.KEEP_ALL, built here: another checkout's may differ (before 2026-12-03, a key budget).
    keep_all = PolicySnapshot(default_sample_rate=1.0, new_vehicle_rate=1.0, default_budget_per_minute=10**9)

    [(_, token)] = fleet_create(vehicles=1, prefix=f"instructions-{mode}-{requests}-{os.getpid()}")
    upload = Uploader(handler(with_events=mode != "without"), token, f"instr-{os.getpid()}")
    logging.getLogger("wide_events").handlers = [SafeFileHandler(str(Path(tempfile.mkdtemp()) / "events.jsonl"))]
    with policy_override(keep_all if mode == "with_100pct" else default_policy()):
        for _ in range(50):  # warm-up: the trip exists, caches and connections are open
            upload()
        counters.counters_flush()
        frozen = counters.clock()
        counters.clock = lambda: frozen  # no flush in the requests counted (module docstring)
        random.seed(0)  # the same ids, so the same sampling draws, in every run
        for _ in range(requests):
            upload()
        counters.counters_forget()  # nor at exit


def _child_argv(tree: Path, mode: str, units: int) -> list[str]:
    return [str(Path(__file__).resolve()), "--child", mode, str(units), "--tree", str(tree)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--compare", help="another checkout, counted beside this one")
    parser.add_argument("--jobs", type=int, default=1, help="callgrind children at once")
    parser.add_argument("--child", nargs=2, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--tree", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child[0], int(args.child[1]), args.tree)
        return
    sys.path.insert(0, str(ROOT))
    from bench.callgrind import per_unit, valgrind_required

    valgrind_required()
    trees = {"now": ROOT, **({"compare": Path(args.compare).resolve()} if args.compare else {})}
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {(label, mode): pool.submit(per_unit, partial(_child_argv, tree, mode),
                                              args.requests, tree)
                   for label, tree in trees.items() for mode in MODES}
    counts = {key: future.result() for key, future in futures.items()}
    summary: dict[str, object] = {"bench": "overhead_instructions", "requests": args.requests}
    for label, tree in trees.items():
        base = counts[label, "without"]
        print(f"{tree}: instructions per upload request ({args.requests} requests, callgrind, PYTHONHASHSEED=0):")
        for mode in MODES:
            added = counts[label, mode] - base
            print(f"  {mode:12s} {counts[label, mode]:12,.0f}  added {added:10,.0f}  ({added / base * 100:+.2f} %)")
        figures = {**{mode: round(counts[label, mode]) for mode in MODES},
                   "added_5pct": round((counts[label, "with_5pct"] / base - 1) * 100, 2),
                   "added_100pct": round((counts[label, "with_100pct"] / base - 1) * 100, 2)}
        if label == "now":
            summary.update(figures)
        else:
            summary["compare"] = {"tree": str(tree), **figures}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
