"""Ingest throughput: gunicorn serving the real upload endpoint vs a one-INSERT baseline. Not a test.

    DATABASE_URL=... python bench/bench_ingest.py [--vehicles 200] [--seconds 8] [--rounds 3] [--compare DIR]

One gunicorn (3 sync workers, as in docker-compose.yml, bench.settings: production settings plus the baseline route) on
PostgreSQL over loopback; `wrk` (one thread, --connections) as the load generator, driven by
bench/ingest.lua: round-robin over the fleet, each request a new reading on its vehicle's open trip.
The baseline (bench/views.py) only inserts one row through the ORM, through the same middleware.
Modes alternate within each round (order flipped every round), so machine noise hits both.
`--compare DIR` also serves the upload from another checkout of the project (e.g. `git archive <commit>`
unpacked in DIR), as a third endpoint in the same rounds: the code before and after a change, side by side.
Each endpoint's CPU per request is reported too (gunicorn's workers + PostgreSQL's backends, from
/proc/PID/schedstat), and its ratio to the baseline's: steadier than req/s when neighbours share the machine.
Prints one JSON line last (for bench/run_all.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.fleet import PARAMS, START_MS, fleet_create  # noqa: E402
from telemetry.models import Trip  # noqa: E402

GAP_MS = 10_000_000  # between wrk runs: later runs carry later readings, so every trip stays in time order


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fleet_file(path: Path, vehicles: int, run: str) -> None:
    """The fleet, each vehicle with a closed trip for the baseline's rows."""
    now = timezone.now()
    lines = []
    for vehicle_id, token in fleet_create(vehicles=vehicles, prefix=f"ingest-{run}"):
        trip = Trip.objects.create(vehicle_id=vehicle_id, session=f"baseline-{run}", trip_key=f"baseline-{run}",
                                   started_at=now, last_reading_at=now, last_received_at=now, is_closed=True)
        lines.append(f"{token} {vehicle_id} {trip.pk}")
    path.write_text("\n".join(lines) + "\n")


def server_start(port: int, tmp: Path, root: Path = ROOT, name: str = "gunicorn") -> subprocess.Popen[bytes]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings",
           "WIDE_EVENTS_PATH": str(tmp / f"{name}-events.jsonl")}
    log = (tmp / f"{name}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "volttracker.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "3", "--timeout", "60"], cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/torque/upload/x", timeout=2)
        except urllib.error.HTTPError:
            return proc  # any HTTP answer: it serves
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(f"{name} did not start:\n" + (tmp / f"{name}.log").read_text()[-3000:]) from None
            time.sleep(0.2)


def _on_cpu_ns(pid: int) -> int:
    """Time the process has spent on a CPU, user and kernel (0 once it has gone)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except (OSError, ValueError):
        return 0


class CpuMeter:
    """CPU the servers spend: gunicorn's workers, and the database's client backends (the benchmark's
    database has no other clients; only the endpoint under load does work). What the shared machine's
    neighbours take moves req/s; CPU per request moves much less. wrk's own CPU is not counted."""

    def __init__(self, masters: list[int]) -> None:
        self.masters = set(masters)

    def read(self) -> tuple[dict[int, int], dict[int, int]]:
        workers = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) in self.masters:
                    workers.append(int(stat.parent.name))
            except (OSError, IndexError, ValueError):
                continue  # a process that ended while read
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                           "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
            backends = [row[0] for row in cursor.fetchall()]
        return {pid: _on_cpu_ns(pid) for pid in workers}, {pid: _on_cpu_ns(pid) for pid in backends}


def _spent_ms(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU ms between two reads; a process that started in between counts from zero."""
    return sum(ns - before.get(pid, 0) for pid, ns in after.items() if ns) / 1e6


class Load:
    def __init__(self, ports: dict[str, int], fleet: Path, run: str, connections: int, meter: CpuMeter) -> None:
        self.ports, self.fleet, self.run, self.connections, self.meter = ports, fleet, run, connections, meter
        self.runs = 0
        self.query = "&".join(f"{k}={v.replace('@', '%40')}" for k, v in PARAMS.items())

    def __call__(self, mode: str, seconds: int) -> dict[str, float]:
        self.runs += 1
        start_ms = START_MS + self.runs * GAP_MS
        kind = "baseline" if mode == "baseline" else "upload"
        session = f"ingest-{self.run}" if kind == "upload" else f"baseline-{self.run}"
        before = self.meter.read()
        out = subprocess.run(
            ["wrk", "-t1", f"-c{self.connections}", f"-d{seconds}s", "--timeout", "10s",
             "-s", str(ROOT / "bench" / "ingest.lua"), f"http://127.0.0.1:{self.ports[mode]}", "--",
             kind, str(self.fleet), str(start_ms), session, self.query],
            check=True, capture_output=True, text=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        if result["non2xx"] or result["socket_errors"]:
            raise SystemExit(f"{mode}: {result['non2xx']} non-2xx answers, {result['socket_errors']} socket errors")
        after = self.meter.read()
        result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
        result["server_ms"] = _spent_ms(before[0], after[0]) / result["requests"]
        result["database_ms"] = _spent_ms(before[1], after[1]) / result["requests"]
        return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vehicles", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=6)
    parser.add_argument("--compare", help="another checkout whose upload endpoint runs in the same rounds")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (make bench does it)")
    run = f"{os.getpid()}-{int(time.time())}"
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        fleet_file(tmp / "fleet.txt", args.vehicles, run)
        connection.close()
        port = free_port()
        ports = {"upload": port, "baseline": port}
        procs = [server_start(ports["upload"], tmp)]
        modes = ["upload", "baseline"]
        try:
            if args.compare:
                ports["compare"] = free_port()
                procs.append(server_start(ports["compare"], tmp, Path(args.compare).resolve(), "compare"))
                modes.append("compare")
            load = Load(ports, tmp / "fleet.txt", run, args.connections, CpuMeter([proc.pid for proc in procs]))
            for mode in modes:  # warm-up: opens each vehicle's trip (trip_created), fills the workers' caches
                load(mode, 2)
            results: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
            for r in range(args.rounds):
                for mode in (modes if r % 2 == 0 else modes[::-1]):
                    results[mode].append(load(mode, args.seconds))
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=30)
        events = sum(path.read_bytes().count(b"\n") for path in tmp.glob("*events.jsonl"))
    med = statistics.median
    ratios = [u["rps"] / b["rps"] for u, b in zip(results["upload"], results["baseline"], strict=True)]
    print(f"{args.vehicles} vehicles, wrk 1 thread x {args.connections} connections, gunicorn 3 sync workers, "
          f"{args.rounds} rounds x {args.seconds:g} s per endpoint; {events} wide events kept")
    summary: dict[str, object] = {"bench": "ingest", "ratio": round(med(ratios), 3)}
    for mode, rows in results.items():
        rps, p50, p99 = med(x["rps"] for x in rows), med(x["p50_us"] for x in rows), med(x["p99_us"] for x in rows)
        rounds = ", ".join(f"{x['rps']:.0f}" for x in rows)
        server, database = med(x["server_ms"] for x in rows), med(x["database_ms"] for x in rows)
        print(f"{mode:>9}: {rps:7.1f} req/s (rounds {rounds})  "
              f"p50 {p50 / 1000:6.2f} ms  p99 {p99 / 1000:6.2f} ms  CPU/request {server:.2f} + {database:.2f} ms")
        summary[mode] = {"rps": round(rps, 1), "p50_ms": round(p50 / 1000, 2), "p99_ms": round(p99 / 1000, 2),
                         "server_cpu_ms": round(server, 3), "database_cpu_ms": round(database, 3)}
    print(f"upload / baseline: {med(ratios):.3f} (rounds {', '.join(f'{r:.3f}' for r in ratios)})")
    summary["cpu_ratio"] = _cpu_ratio(results["upload"], results["baseline"])
    if "compare" in results:
        before = [c["rps"] / b["rps"] for c, b in zip(results["compare"], results["baseline"], strict=True)]
        print(f"compare / baseline: {med(before):.3f} (rounds {', '.join(f'{r:.3f}' for r in before)})")
        summary["compare_ratio"] = round(med(before), 3)
        summary["compare_cpu_ratio"] = _cpu_ratio(results["compare"], results["baseline"], "compare")
    print(json.dumps(summary))


def _cpu_ratio(rows: list[dict[str, float]], baseline: list[dict[str, float]], name: str = "upload") -> float:
    """Baseline CPU per request over this endpoint's (servers and database), round by round: the req/s ratio
    the two would have on CPUs of their own."""
    ratios = [(b["server_ms"] + b["database_ms"]) / (x["server_ms"] + x["database_ms"])
              for x, b in zip(rows, baseline, strict=True)]
    print(f"{name} / baseline in CPU per request: {statistics.median(ratios):.3f} "
          f"(rounds {', '.join(f'{r:.3f}' for r in ratios)})")
    return round(statistics.median(ratios), 3)


if __name__ == "__main__":
    main()
