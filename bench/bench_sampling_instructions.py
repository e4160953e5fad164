"""Instructions per sampling decision, counted by valgrind's callgrind: repeatable on a noisy machine.

    python bench/bench_sampling_instructions.py [--decisions 20000] [--compare PATH]

`decide` with the per-key rates (the path event_emit takes) over bench_sampling.py's seeded mix
of upload events, in a child Python under callgrind, once with no decisions and once with
`--decisions`; the difference divided by the count is one decision (start-up and the events'
generation cancel out). `--compare` counts another checkout's `decide` (an older commit's
worktree) beside this one, with this script. Needs valgrind. Prints one JSON
line last (for bench/run_all.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POOL = 20_000  # distinct events, decided in turn


def child(tree: Path, decisions: int) -> None:
    """Run in the child: import `tree`'s code, make the events and warm the rates, then decide."""
    import random

    sys.path.insert(0, str(tree))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "volttracker.settings")
    import django

    django.setup()  # the apps register their rules and business facts (TelemetryConfig.ready())
    from bench.bench_sampling import MIX
    from logging_policy.adaptive import AdaptiveRates
    from logging_policy.sampling import budget_per_minute, decide, default_policy
    from logging_policy.synthetic import synthetic_event
    policy = default_policy()
    rng = random.Random(2026)
    events = [synthetic_event(p, rng) for p in rng.choices(list(MIX), list(MIX.values()), k=POOL)]
    for event in events:  # what every upload's event carries (an older tree's synthetic events may lack it)
        event.setdefault("http", {"method": "GET", "status_code": 500 if event["success"] is False else 200})
    rates = AdaptiveRates()
    budget = budget_per_minute(policy, "telemetry_upload")
    for event in events:  # every key seen and capped, as in a running process
        decision = decide(policy, event, rates)
        if decision.key:
            rates.record(decision.key, budget)
    for i in range(decisions):
        decide(policy, events[i % POOL], rates)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--compare", type=Path, help="another checkout, counted beside this one")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--tree", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.tree, args.child)
        return
    sys.path.insert(0, str(ROOT))
    from bench.callgrind import per_unit, valgrind_required

    valgrind_required()

    def count(tree: Path) -> float:
        # The child runs in `tree`: Celery's loader puts the working directory first on sys.path.
        script = str(Path(__file__).resolve())
        return per_unit(lambda n: [script, "--child", str(n), "--tree", str(tree)], args.decisions, tree)

    now = count(ROOT)
    result: dict[str, object] = {"bench": "sampling_instructions", "decisions": args.decisions,
                                 "instructions": round(now)}
    print(f"decide with per-key rates ({ROOT}): {now:,.0f} instructions per decision "
          f"({args.decisions:,} decisions, callgrind, PYTHONHASHSEED=0)")
    if args.compare:
        other = count(args.compare.resolve())
        result["compare_instructions"] = round(other)
        print(f"the same in {args.compare}: {other:,.0f} ({now / other:.2f}x)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
