"""The event log loaded into the Parquet store: every line once, across crashes, rotation and bad lines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from logging_policy import event_loader
from logging_policy.event_loader import events_load, log_tail
from logging_policy.event_store import DATA, RETIRED_GRACE_S, manifest_read, sql_text, store_parts

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 5, 4, 12, 30, tzinfo=UTC)


def line(n: int, *, at: datetime = NOW - timedelta(hours=2), **extra: Any) -> bytes:
    event = {"timestamp": (at + timedelta(milliseconds=n)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
             "operation": "telemetry_upload", "request_id": f"r{n}", "success": True, "duration_ms": 1.5 + n,
             "vehicle": {"id": n % 7, "usage_tier": "light"}, "sampling": {"rate": 0.05, "sample_rate": 20.0},
             **extra}
    return orjson.dumps(event) + b"\n"


def append(path: Path, *chunks: bytes) -> None:
    with path.open("ab") as out:
        for chunk in chunks:
            out.write(chunk)


def stored_ids(store: Path) -> list[str]:
    _, files = store_parts(store)
    if not files:
        return []
    names = "[" + ", ".join(sql_text(str(f)) for f in files) + "]"
    return [r for (r,) in duckdb.connect().execute(
        f"SELECT request_id FROM read_parquet({names}, union_by_name = true)").fetchall()]


def load(log: Path, store: Path, **kwargs: Any) -> event_loader.LoadResult:
    return events_load(log=log, store=store, retention_days=30, now=NOW, **kwargs)


def test_lines_load_once_and_a_partial_last_line_waits_for_its_end(tmp_path: Path) -> None:
    log, store = tmp_path / "events.jsonl", tmp_path / "store"
    append(log, *(line(n) for n in range(5)))
    whole = line(5)
    append(log, whole[:20])  # a writer is half-way through this line
    first = load(log, store)
    assert (first.loaded, first.malformed) == (5, 0)
    assert manifest_read(store).source.offset == log.stat().st_size - 20
    append(log, whole[20:], line(6))
    assert load(log, store).loaded == 2
    assert load(log, store).loaded == 0
    assert sorted(stored_ids(store)) == sorted(f"r{n}" for n in range(7))


def test_a_malformed_line_is_skipped_and_counted_and_the_rest_loads(tmp_path: Path) -> None:
    log, store = tmp_path / "events.jsonl", tmp_path / "store"
    append(log, line(1), b'{"timestamp": "2026-05-04T10:00:00Z", "oops\n', b"[1, 2]\n",
           b'{"operation": "no timestamp"}\n', b"\n", line(2))
    result = load(log, store)
    assert (result.loaded, result.malformed) == (2, 3)
    assert sorted(stored_ids(store)) == ["r1", "r2"]
    assert manifest_read(store).malformed_total == 3


def test_a_rotated_log_is_finished_then_the_new_file_read_from_its_start(tmp_path: Path) -> None:
    log, store = tmp_path / "events.jsonl", tmp_path / "store"
    append(log, *(line(n) for n in range(3)))
    load(log, store)
    append(log, line(3), line(4)[:10])  # r4's end never comes: the writer moved to the new file
    log.rename(tmp_path / "events.jsonl.1")  # logrotate: rename, then the handler reopens
    append(log, line(5), line(6))
    result = load(log, store)
    assert result.rotated and not result.rotated_lost
    assert (result.loaded, result.malformed) == (3, 1)  # r3, r5, r6; the torn r4 counted
    assert sorted(stored_ids(store)) == ["r0", "r1", "r2", "r3", "r5", "r6"]
    append(log, line(7))
    assert load(log, store).loaded == 1 and len(stored_ids(store)) == 7


def test_a_log_truncated_in_place_is_read_again_from_its_start(tmp_path: Path) -> None:
    log, store = tmp_path / "events.jsonl", tmp_path / "store"
    append(log, *(line(n) for n in range(4)))
    load(log, store)
    log.write_bytes(line(10))  # copytruncate: same inode, shorter file
    assert load(log, store).loaded == 1
    assert sorted(stored_ids(store)) == ["r0", "r1", "r10", "r2", "r3"]


def test_a_failure_between_writing_files_and_committing_loses_and_repeats_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log, store = tmp_path / "events.jsonl", tmp_path / "store"
    append(log, *(line(n) for n in range(100)))
    real = event_loader.manifest_write
    calls = {"n": 0}

    def crash_on_second_step(where: Path, manifest: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk gone")  # the Parquet file of step 2 is written, its offset is not
        real(where, manifest)

    monkeypatch.setattr(event_loader, "manifest_write", crash_on_second_step)
    with pytest.raises(OSError):
        load(log, store, chunk_bytes=2000)
    committed = len(stored_ids(store))
    assert 0 < committed < 100
    assert len(list((store / DATA).iterdir())) == len(manifest_read(store).parts) + 1  # the orphan
    monkeypatch.setattr(event_loader, "manifest_write", real)
    assert load(log, store, chunk_bytes=2000).loaded == 100 - committed
    ids = stored_ids(store)
    assert sorted(ids) == sorted(f"r{n}" for n in range(100))  # none lost, none twice
    manifest = manifest_read(store)  # the orphan is gone; merged files wait out their grace
    assert {p.name for p in (store / DATA).iterdir()} == manifest.names() | {name for name, _ in manifest.retired}


def test_a_loader_killed_mid_file_resumes_without_loss_or_repeat(tmp_path: Path) -> None:
    log, store = tmp_path / "events.jsonl", tmp_path / "store"
    n = 20_000
    start = datetime.now(UTC) - timedelta(hours=3)  # the command runs at the real time: within retention
    append(log, b"".join(line(i, at=start + timedelta(seconds=i)) for i in range(n)))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "volttracker.settings", "WIDE_EVENTS_PATH": str(log),
           "EVENTS_STORE_DIR": str(store)}
    command = [sys.executable, "manage.py", "events_load", "--chunk-bytes", "60000"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while manifest_read(store).loaded_total < 2000:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read() if proc.stdout else ""
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = manifest_read(store).loaded_total
    assert 2000 <= killed_at < n, "the kill came too late to be mid-file"
    out = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    assert f"Loaded {n - killed_at} events" in out
    ids = stored_ids(store)
    assert len(ids) == n and len(set(ids)) == n


def test_finished_hours_are_merged_into_one_file_and_old_files_expire(tmp_path: Path) -> None:
    log, store = tmp_path / "events.jsonl", tmp_path / "store"
    old = NOW - timedelta(days=40)
    append(log, line(1, at=old), line(2))
    load(log, store)
    append(log, line(3))
    load(log, store)  # a second file for r2's hour; merged with the first
    manifest = manifest_read(store)
    assert [(p.hour, p.rows) for p in manifest.parts] == [((NOW - timedelta(hours=2)).strftime("%Y-%m-%dT%H"), 2)]
    assert sorted(stored_ids(store)) == ["r2", "r3"]  # r1 is past the 30-day retention
    retired = {name for name, _ in manifest.retired}
    assert len(retired) == 3 and all((store / DATA / name).exists() for name in retired)  # readers' grace
    later = time.time() + RETIRED_GRACE_S + 1
    from logging_policy.event_store import files_sweep

    manifest.retired = files_sweep(store, manifest, later)
    assert manifest.retired == [] and {p.name for p in (store / DATA).iterdir()} == manifest.names()


def test_the_tail_not_yet_loaded_is_read_from_the_stored_offset(tmp_path: Path) -> None:
    log, store = tmp_path / "events.jsonl", tmp_path / "store"
    append(log, line(1), line(2))
    load(log, store)
    append(log, line(3), b"not json\n", line(4)[:15])
    tail = log_tail(log=log, source=manifest_read(store).source, max_bytes=1 << 20)
    assert [r["request_id"] for r in tail.rows] == ["r3"] and tail.malformed == 1


@pytest.mark.django_db
def test_the_beat_task_loads_and_says_so_in_its_event(tmp_path: Path, settings: Any, wide_events: Any) -> None:
    from logging_policy.emit import event_emit, event_open
    from logging_policy.current import event_bound
    from logging_policy.tasks import events_load as task

    settings.WIDE_EVENTS_PATH = str(tmp_path / "events.jsonl")
    settings.EVENTS_STORE_DIR = tmp_path / "store"
    recent = datetime.now(UTC) - timedelta(minutes=5)
    append(Path(settings.WIDE_EVENTS_PATH), line(1, at=recent), b"{bad\n", line(2, at=recent))
    event = event_open(operation="events_load", kind="task")
    with event_bound(event):
        assert task() == 2
    event_emit(event)
    [emitted] = [e for e in wide_events.events if e["operation"] == "events_load"]
    assert emitted["events_store"] == {"loaded": 2, "malformed": 1, "busy": False, "files_written": 1, "merged": 0,
                                       "expired": 0, "rotated": False, "rotated_lost": False}
