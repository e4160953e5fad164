"""Sampling counters: what counting costs each event, flushes to the real cache included.

    DATABASE_URL=... REDIS_URL=redis://... python bench/bench_counters.py [--events 200000] [--rounds 5]

Per round, the same synthetic events are decided twice back to back: the decision alone,
then the decision plus `counters_record` (which flushes one batch every FLUSH_EVERY events
to the configured cache: Redis with REDIS_URL, else the file cache). The ratio is taken
per round, side by side on the same machine state.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "volttracker.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

from logging_policy import counters  # noqa: E402
from logging_policy.sampling import decide, default_policy  # noqa: E402
from logging_policy.synthetic import synthetic_events  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    policy = default_policy()
    events = synthetic_events(args.events, seed=2026)
    counters.PREFIX = "sampling_counts_bench"  # not the live overview's buckets
    writes = 0
    real_add = counters._store_add

    def counted(batch: dict[str, dict[str, int]]) -> None:
        nonlocal writes
        writes += 1
        real_add(batch)

    counters._store_add = counted
    print(f"{platform.node()} {platform.python_version()} cache={'redis' if settings.REDIS_URL else 'file'} "
          f"events={args.events} FLUSH_EVERY={counters.FLUSH_EVERY}")
    for round_ in range(args.rounds):
        start = time.perf_counter()
        for event in events:
            decide(policy, event)
        alone = time.perf_counter() - start
        start = time.perf_counter()
        for event in events:
            counters.counters_record(operation=event["operation"], decision=decide(policy, event))
        counted_s = time.perf_counter() - start
        per_event_us = (counted_s - alone) / args.events * 1e6
        print(f"round {round_ + 1}: decide {alone / args.events * 1e6:.2f} us, +count {per_event_us:.2f} us "
              f"(x{counted_s / alone:.2f}), cache writes so far {writes}")
    counters.counters_flush()


if __name__ == "__main__":
    main()
