"""The `clickhouse` compose profile: ClickHouse with the explorer's table, Vector shipping the event log to it.

Parsed only (no Docker here); the table's SQL runs on chdb in tests/logging_policy/test_explore_clickhouse.py.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from logging_policy.clickhouse_schema import TABLE

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
VECTOR = tomllib.loads((ROOT / "deploy" / "vector.toml").read_text())


def test_clickhouse_and_vector_run_only_in_their_profile() -> None:
    services = COMPOSE["services"]
    assert services["clickhouse"]["profiles"] == services["vector"]["profiles"] == ["clickhouse"]
    assert "./deploy/clickhouse/init.sql:/docker-entrypoint-initdb.d/init.sql:ro" in services["clickhouse"]["volumes"]
    assert "./deploy/vector.toml:/etc/vector/vector.toml:ro" in services["vector"]["volumes"]


def test_vector_tails_the_log_the_app_writes_into_the_table_the_explorer_reads() -> None:
    env_example = (ROOT / ".env.example").read_text()
    found = re.search(r"WIDE_EVENTS_PATH=(\S+)", env_example)
    assert found, "WIDE_EVENTS_PATH is not in .env.example"
    log = found.group(1)
    assert all("appvar:/app/var" in COMPOSE["services"][name]["volumes"] for name in ("web", "worker", "beat"))
    assert "appvar:/app/var:ro" in COMPOSE["services"]["vector"]["volumes"]
    assert VECTOR["sources"]["wide_events"]["include"] == [f"{log}*"]
    sink = VECTOR["sinks"]["clickhouse"]
    assert (sink["table"], sink["inputs"], sink["skip_unknown_fields"]) == (TABLE, ["flatten"], True)
    assert sink["endpoint"] == "http://clickhouse:8123"
    assert 'flatten(object!(event), ".")' in VECTOR["transforms"]["flatten"]["source"]
