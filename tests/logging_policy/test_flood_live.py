"""A sustained flood against a real server: wrk sends 200 uploads a second for 60 s, all with one
unknown token, to gunicorn (two worker processes). Slow (about 70 s): one test."""

from __future__ import annotations

import math
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logging_policy.changes import policy_active_get_or_create
from logging_policy.counters import counters_flush, counters_key_rows
from logging_policy.estimator import ht_sums
from logging_policy.models import OperationRule
from logging_policy.policy import CHECK_INTERVAL_S, policy_publish
from tests.live import LiveWeb, live_env, live_web_running

FLOOD = "telemetry_upload|401|E400"
# A budget that keeps the estimate within 5 % at three standard errors: a flood's first minute has an
# RSE of about 1 / sqrt(2 B) per process (docs/policy.md), 1.6 % for two processes at 1,000.
BUDGET, WORKERS, SECONDS, CONNECTIONS = 1000, 2, 60, 8
# Each connection waits this long after each answer: 8 connections at ~40 ms a round trip, 200 a second
# (on an idle machine; a loaded one answers slower, and the test says what it reached).
WRK_SCRIPT = "function delay()\n  return 35\nend\n"


@pytest.fixture
def flood_web(django_db_blocker: Any, tmp_path: Path) -> Iterator[LiveWeb]:
    """Its own server: fresh processes, so no earlier test's events of the key count in its budget."""
    with django_db_blocker.unblock():
        env = live_env(tmp_path)
    with live_web_running(tmp_path, env, workers=WORKERS) as web:
        yield web


@pytest.mark.django_db(transaction=True)
@pytest.mark.live_web
def test_a_sustained_flood_keeps_its_budget_and_its_weights_count_it(flood_web: LiveWeb, tmp_path: Path) -> None:

    policy = policy_active_get_or_create()
    OperationRule.objects.filter(policy=policy, operation="telemetry_upload").update(budget_per_minute=BUDGET)
    policy_publish(policy.payload())
    # In force in the server's processes at their next check: wait for it, or the flood's first seconds
    # run under whatever policy an earlier test left in the shared cache (keep-all, no budget).
    time.sleep(CHECK_INTERVAL_S + 0.5)
    counters_flush()  # this process's own counts of the key (an earlier in-process flood) land before, not during
    before = {row.key: row.seen for row in counters_key_rows()}.get(FLOOD, 0)
    script = tmp_path / "pace.lua"
    script.write_text(WRK_SCRIPT)
    url = f"{flood_web.base_url}/api/torque/upload/{'0' * 24}"
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "5s", "-s", str(script), url],
                         capture_output=True, text=True, timeout=SECONDS + 30, check=True).stdout
    requests, non_2xx = re.search(r"(\d+) requests in", out), re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert requests and non_2xx, out
    answered = int(requests.group(1))
    assert int(non_2xx.group(1)) == answered  # every one a 401
    flood_web.proc.terminate()  # a clean stop: every worker sends its last counts (atexit)
    flood_web.proc.wait(timeout=30)

    # The truth is what wrk saw answered (every request a 401 whose event was decided; at most one
    # request per connection cut off at the end). The shared counters are not it: a worker's last
    # unflushed counts were seen lost at shutdown in about one run in eight (noted in docs/policy.md).
    seen = {row.key: row.seen for row in counters_key_rows()}.get(FLOOD, 0) - before
    assert seen <= answered + CONNECTIONS * 2  # never counted twice
    kept = [e for e in flood_web.events() if e["sampling"].get("key") == FLOOD]
    sums = ht_sums(e["sampling"]["rate"] for e in kept)
    rate = answered / SECONDS / WORKERS  # per worker process, a second
    # The budget for the flood's minutes, plus its first window: the first BUDGET kept whole, then ever
    # fewer while the minute's moving count fills (docs/policy.md); per process.
    bound = WORKERS * BUDGET * (SECONDS / 60 + 1 + math.log(rate * 60 / BUDGET))
    print(f"wrk: {answered} requests in {SECONDS}s ({answered / SECONDS:.0f}/s; counters {seen}); kept {len(kept)} "
          f"(bound {bound:.0f}); estimate {sums.estimate:.0f} ({sums.estimate / answered - 1:+.2%}, "
          f"RSE {sums.rse:.2%})\n{out}")
    assert answered >= 50 * SECONDS, "the machine could not send a flood"
    assert len(kept) <= bound
    assert min(e["sampling"]["rate"] for e in kept) < 0.9  # the budget bound the flood
    assert sums.estimate == pytest.approx(answered, rel=0.05)
