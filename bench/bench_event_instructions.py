"""Instructions per kept upload event, counted by valgrind's callgrind: repeatable on a noisy machine.

    DATABASE_URL=... python bench/bench_event_instructions.py [--events 3000] [--tree PATH] [--described | --request]

Wall and CPU times of one event vary by half from run to run on a shared 2-core VM; the count of
instructions executed in user space does not (same binary, same input, PYTHONHASHSEED=0). This runs
bench_events.upload_event_cycle in a child Python under callgrind twice, once with no events and
once with --events, and divides the difference: Django's start-up cancels out. What it cannot see
is time in the kernel (the write system call per kept line) and memory stalls, so it complements
bench_events.py's times; it does not replace them. `--tree` measures another checkout (an older
commit's worktree, say) with this script, for a before/after in one run. `--described` counts the
event with the view's fields computed (described_upload_event_cycle); `--request` the event in a
request (the real middleware around upload_view_with_event_calls, less upload_view_bare).
Needs valgrind (Debian package `valgrind`). Prints one JSON line last (for bench/run_all.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(tree: Path, events: int, cycle_name: str) -> None:
    """Run in the child: set up Django from `tree`, warm up, then `events` runs of the named cycle."""
    import logging
    import tempfile

    sys.path.insert(0, str(tree))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "volttracker.settings")
    import django

    django.setup()
    from bench import bench_events
    from logging_policy.emit import SafeFileHandler
    from logging_policy.middleware import WideEventMiddleware
    from logging_policy.policy import policy_override

    logging.getLogger("wide_events").handlers = [SafeFileHandler(str(Path(tempfile.mkdtemp()) / "events.jsonl"))]
    request = bench_events._upload_request()
    middleware = WideEventMiddleware(bench_events.upload_view_with_event_calls)
    cycles: dict[str, Callable[[], object]] = {
        "event": bench_events.upload_event_cycle,
        "described": bench_events.described_upload_event_cycle,
        "request": lambda: middleware(request),
        "bare": lambda: bench_events.upload_view_bare(request),
    }
    cycle = cycles[cycle_name]
    with policy_override(bench_events.KEEP_ALL):
        for _ in range(200 + events):
            cycle()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--tree", type=Path, default=ROOT)
    parser.add_argument("--described", action="store_true",
                        help="the event with its fields computed as the view does (bench_events.described_upload_event_cycle)")
    parser.add_argument("--request", action="store_true",
                        help="the event in a request: the real middleware around the view's event calls, less the view "
                             "without them (bench_events.upload_view_with_event_calls minus upload_view_bare)")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--cycle", default="event", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.tree, args.child, args.cycle)
        return
    sys.path.insert(0, str(ROOT))  # only here: the child must import `bench` from --tree
    from bench.callgrind import per_unit, valgrind_required

    valgrind_required()
    def count(cycle: str) -> float:
        return per_unit(lambda n: [__file__, "--child", str(n), "--tree", str(args.tree), "--cycle", cycle],
                        args.events, args.tree)

    if args.request:
        per_event, what = count("request") - count("bare"), " in a request"
    else:
        per_event, what = count("described" if args.described else "event"), (
            " with the view fields" if args.described else "")
    print(f"one kept upload event{what} ({args.tree}): {per_event:,.0f} instructions "
          f"({args.events} events, callgrind, PYTHONHASHSEED=0)")
    print(json.dumps({"bench": "event_instructions", "instructions": round(per_event), "events": args.events}))


if __name__ == "__main__":
    main()
