"""Every query in docs/queries.md gives the right answer on a generated event log (DuckDB and jq)."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "queries.md"
BLOCK = re.compile(r"```(sql|jq) name=(\w+)\n(.*?)```", re.S)
PARAMS = {"session": "sess-A", "deployment": "deploy-blue"}
NOW = datetime.now(UTC)


def blocks(lang: str) -> dict[str, str]:
    return {name: body for kind, name, body in BLOCK.findall(DOC.read_text()) if kind == lang}


def ev(n: int, *, ok: bool = True, days_ago: float = 1, env: str = "production", deployment: str = "deploy-green",
       operation: str = "telemetry_upload", weight: float = 1.0, **namespaces: Any) -> dict[str, Any]:
    stamp = (NOW - timedelta(days=days_ago)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    event: dict[str, Any] = {
        "timestamp": stamp, "operation": operation, "kind": "http", "request_id": f"r{n}",
        "trace_id": f"{n:032x}", "success": ok, "duration_ms": 5.0,
        "deployment": {"id": deployment, "environment": env, "region": "eu", "deployed_at": stamp},
        "sampling": {"reason": "error" if not ok else "default_rate", "rate": 1 / weight, "sample_rate": weight,
                     "policy_version": 1},
        "telemetry": {"session": "other"}, "business": {}, "vehicle": {"id": 1, "usage_tier": "light",
                                                                       "account_age_days": 400},
        "trip": {"id": None}, "task": {"id": None},
    }
    if not ok:
        event["error"] = {"code": "E500", "message": "boom"}
    for name, fields in namespaces.items():
        event[name] = {**event.get(name, {}), **fields}
    return event


def event_log() -> list[dict[str, Any]]:
    heavy = {"usage_tier": "heavy", "account_age_days": 900}
    new = {"usage_tier": "new", "account_age_days": 3}
    return [
        ev(1, ok=False, telemetry={"session": "sess-A"}, error={"code": "E300", "message": "no time"}),
        ev(2, telemetry={"session": "sess-A"}),
        ev(3, ok=False, telemetry={"session": "sess-B"}, deployment="deploy-blue"),
        ev(4, ok=False, deployment="deploy-blue", env="staging"),
        ev(5, operation="trip_finalize", business={"trip_finalized": True}, vehicle=heavy, trip={"id": 11}),
        ev(6, operation="trip_finalize", business={"trip_finalized": True}, vehicle=heavy, trip={"id": 12},
           days_ago=45),
        ev(7, operation="trip_finalize", business={"trip_finalized": True}, trip={"id": 13}),
        ev(8, ok=False, operation="trip_finalize", vehicle={"id": 7, **new}, trip={"id": 14}),
        ev(9, ok=False, operation="telemetry_upload", vehicle={"id": 8, **new}),
        ev(10, ok=False, operation="trip_finalize", vehicle={"id": 9, "usage_tier": "light", "account_age_days": 90}),
        ev(11, operation="trip_finalize", task={"id": "t-slow"}) | {"duration_ms": 2500.0},
        ev(12, operation="trip_finalize", task={"id": "t-fast"}) | {"duration_ms": 1999.0},
        ev(13, ok=False, operation="external_api.weather", error={"code": "E100", "message": "timed out"}),
        ev(14, ok=False, operation="external_api.weather", error={"code": "E101", "message": "refused"}),
        ev(15, env="staging", weight=20.0),
        ev(16, env="staging", weight=20.0),
        ev(17, env="development", ok=False),
    ]


# Production: failures r1, r3, r8, r9, r10, r13, r14 over 13 events, all of weight 1 -> 7/13.
# Staging: failures r4 (1) over r4 + r15 + r16 (1 + 20 + 20) -> 1/41.
EXPECTED: dict[str, list[Any]] = {
    "errors_for_session": ["r1"],
    "heavy_vehicle_trips": [11],
    "errors_in_deployment": ["r3", "r4"],
    "new_vehicles_with_trip_errors": [7],
    "slow_trip_finalizations": ["t-slow"],
    "weather_timeouts": ["r13"],
    "error_rate_by_environment": [("production", round(7 / 13, 4)), ("staging", round(1 / 41, 4))],
}


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in event_log()) + b"\n")
    return path


def test_every_question_has_a_duckdb_and_a_jq_answer() -> None:
    assert set(blocks("sql")) == set(blocks("jq")) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_duckdb_query_answers(name: str, log_file: Path) -> None:
    setup = re.search(r"```sql\n(CREATE VIEW.*?)```", DOC.read_text(), re.S)
    assert setup is not None
    con = duckdb.connect()
    con.execute(setup.group(1).replace("'events.jsonl'", f"'{log_file}'"))
    sql = blocks("sql")[name]
    params = {k: v for k, v in PARAMS.items() if f"${k}" in sql}
    rows = con.execute(sql, params).fetchall()
    answer = [r if name == "error_rate_by_environment" else r[0] for r in rows]
    assert answer == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_jq_filter_answers(name: str, log_file: Path) -> None:
    jq = shutil.which("jq")
    assert jq, "jq is needed for the docs/queries.md check (apt-get install jq)"
    flt = blocks("jq")[name]
    args = [jq, "-c", *(["-n"] if "inputs" in flt else [])]
    for key, value in PARAMS.items():
        args += ["--arg", key, value]
    out = subprocess.run([*args, flt, str(log_file)], capture_output=True, text=True, check=True).stdout
    answer = [orjson.loads(line) for line in out.splitlines()]
    if name == "error_rate_by_environment":
        answer = [(a["environment"], a["error_rate"]) for a in answer]
    assert answer == EXPECTED[name]
