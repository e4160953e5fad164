"""Sampling decision: cost per event and accuracy over 1,000,000 synthetic events.

    python bench/bench_sampling.py [--events 1000000] [--chunk 100000]

Prints one JSON line last (for bench/run_all.py).

Events are generated in seeded chunks (profiles mixed as below); per chunk, back to back on
the same machine state: `decide` with the per-key rates (the budgeted path event_emit takes),
the same plus the bookkeeping around it (`advance` before, `record` after), `decide` without
rates (the rules alone: the path before budgets), and the trace-id hash alone. The ratios
are printed. The synthetic events arrive in no time, so the budgets bind as in a flood:
the counts are checked against the truth through the weights. No database: Django is set up
only so that the apps register their rules and business facts, as in a running process.

The timed loops drop each decision at once, as the middleware does; the decisions are then
made again, untimed, to be counted. Timing a list of 100,000 decisions kept alive would time
the garbage collector's passes over it (about a fifth of the figure), which no request pays.
`bench_sampling_instructions.py` counts the same decision in instructions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "volttracker.settings")
import django

django.setup()  # TelemetryConfig.ready() registers the upload's rule and business facts, as in a running process

from logging_policy.adaptive import AdaptiveRates  # noqa: E402
from logging_policy.estimator import HTSums  # noqa: E402
from logging_policy.sampling import budget_per_minute, decide, default_policy, trace_draw  # noqa: E402
from logging_policy.synthetic import synthetic_event  # noqa: E402

MIX = {"ordinary": 0.90, "new_vehicle": 0.05, "critical": 0.02, "heavy": 0.015, "slow": 0.01, "error": 0.005}
EXPECTED = {"ordinary": 0.05, "new_vehicle": 0.25, "critical": 1.0, "heavy": 1.0, "slow": 1.0, "error": 1.0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    args = parser.parse_args()
    policy = default_policy()
    rng = random.Random(2026)
    profiles, weights = list(MIX), list(MIX.values())
    seen: Counter[str] = Counter()
    kept: Counter[str] = Counter()
    weighted: defaultdict[str, float] = defaultdict(float)
    decide_s = draw_s = rules_s = cycle_s = 0.0
    rates, cycle_rates = AdaptiveRates(), AdaptiveRates()
    budgeted = HTSums()
    budget = budget_per_minute(policy, "telemetry_upload")
    done = 0
    while done < args.events:
        n = min(args.chunk, args.events - done)
        chunk = [(p, synthetic_event(p, rng)) for p in rng.choices(profiles, weights, k=n)]
        events = [e for _, e in chunk]
        trace_ids = [e["trace_id"] for e in events]

        start = time.perf_counter()
        for e in events:  # each decision dropped at once, as the middleware does (see the docstring)
            decide(policy, e, rates)
        decide_s += time.perf_counter() - start
        decisions = [decide(policy, e, rates) for e in events]  # the same decisions (rates unchanged), untimed
        start = time.perf_counter()
        for e in events:
            cycle_rates.advance()
            d = decide(policy, e, cycle_rates)
            if d.key:
                cycle_rates.record(d.key, budget)
        cycle_s += time.perf_counter() - start
        start = time.perf_counter()
        for e in events:
            decide(policy, e)
        rules_s += time.perf_counter() - start
        rules = [decide(policy, e) for e in events]
        start = time.perf_counter()
        for t in trace_ids:
            trace_draw(t)
        draw_s += time.perf_counter() - start

        for d in decisions:  # counted after the timing: the rates each decision read were the previous chunk's
            if d.key:
                rates.record(d.key, budget)
            if d.keep:
                budgeted = budgeted.add(d.rate)
        for (profile, _), d in zip(chunk, rules, strict=True):
            seen[profile] += 1
            if d.keep:
                kept[profile] += 1
                weighted[profile] += d.sample_rate
        done += n

    print(f"python {platform.python_version()} on {platform.machine()} ({platform.processor() or 'cpu'}), "
          f"{args.events:,} events")
    us = 1e6 / args.events
    print(f"decide(rates):      {decide_s * us:6.2f} us/event  ({args.events / decide_s:,.0f} decisions/s)")
    print(f"  + advance/record: {cycle_s * us:6.2f} us/event  (the event's whole sampling cost)")
    print(f"decide() rules only:{rules_s * us:6.2f} us/event  (budgeted / rules only = {decide_s / rules_s:.2f}x)")
    print(f"trace_draw():       {draw_s * us:6.2f} us/event  (decide = {decide_s / draw_s:.1f}x the hash)")
    print(f"budgeted (the events arrive as a flood): {budgeted.kept:,} kept, estimate {budgeted.estimate:,.0f} "
          f"({(budgeted.estimate - args.events) / args.events:+.2%}, predicted RSE {budgeted.rse:.2%})")
    print("per profile, under the rules alone (no budget binds at a normal pace):")
    print(f"{'profile':<12} {'events':>9} {'kept':>8} {'share':>8} {'expected':>8} {'weighted':>11} {'error':>7}")
    total_kept = total_weighted = 0.0
    for profile in profiles:
        share = kept[profile] / seen[profile]
        err = (weighted[profile] - seen[profile]) / seen[profile] * 100
        total_kept += kept[profile]
        total_weighted += weighted[profile]
        print(f"{profile:<12} {seen[profile]:>9,} {kept[profile]:>8,} {share:>8.4f} {EXPECTED[profile]:>8.2f} "
              f"{weighted[profile]:>11,.0f} {err:>+6.2f}%")
    print(f"{'all':<12} {args.events:>9,} {int(total_kept):>8,} {total_kept / args.events:>8.4f} {'':>8} "
          f"{total_weighted:>11,.0f} {(total_weighted - args.events) / args.events * 100:>+6.2f}%")
    worst = max(abs(weighted[p] - seen[p]) / seen[p] * 100 for p in profiles)
    print(json.dumps({"bench": "sampling", "events": args.events, "decide_us": round(decide_s / args.events * 1e6, 2),
                      "decide_rules_only_us": round(rules_s * us, 2), "decide_with_record_us": round(cycle_s * us, 2),
                      "budgeted_over_rules_only": round(decide_s / rules_s, 2),
                      "decisions_per_s": round(args.events / decide_s),
                      "weighted_error_pct": round((total_weighted - args.events) / args.events * 100, 2),
                      "worst_profile_error_pct": round(worst, 2)}))


if __name__ == "__main__":
    main()
