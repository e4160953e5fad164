"""`make run` as the README promises: the documented port, a clean checkout, a quiet worker log."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent


def shell(args: list[str], env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "PORT"}
    return subprocess.run(args, cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize(("env", "port"), [({}, "8000"), ({"PORT": "8123"}, "8123")])
def test_make_run_hands_the_web_process_the_documented_port(env: dict[str, str], port: str) -> None:
    recipe = next(line for line in shell(["make", "-n", "run"], env).splitlines() if "honcho start" in line)
    # make -n prints the recipe unexpanded by the shell; expand it as `make run` would.
    assert shell(["sh", "-c", f"echo {recipe}"], env).split()[1:] == ["start", "-f", "Procfile", "--port", port]
    first = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert first.startswith("web:") and "${PORT" in first  # honcho gives the first process --port itself


def checkout_copy(dest: Path) -> Path:
    """The tracked files as they are in this working tree (a fresh clone, without the commit)."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in filter(None, tracked.stdout.split("\0")):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def migrated_copy(dest: Path, env: dict[str, str]) -> Path:
    """checkout_copy, migrated under `env` (the embedded SQLite database under its var/)."""
    copy = checkout_copy(dest)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=copy, env=env,
                   capture_output=True, check=True)
    return copy


def files_outside_var(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")
            if p.parts[len(root.parts)] != "var" and "__pycache__" not in p.parts}


def embedded_env() -> dict[str, str]:
    """What a newcomer's shell has: no DATABASE_URL / REDIS_URL, so SQLite and the file broker under var/."""
    dropped = {"DATABASE_URL", "REDIS_URL", "WIDE_EVENTS_PATH", "CELERY_TASK_LOG_LEVEL", "LOG_LEVEL", "PORT"}
    return {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("PYTEST")}


def test_the_file_broker_keeps_every_folder_under_var() -> None:
    code = "from django.conf import settings; import json; print(json.dumps(settings.CELERY_BROKER_TRANSPORT_OPTIONS))"
    out = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT,
                         env={**embedded_env(), "DJANGO_SETTINGS_MODULE": "volttracker.settings"},
                         capture_output=True, text=True, check=True).stdout
    folders = {k: Path(v) for k, v in json.loads(out).items() if k.endswith("_folder") or "_folder_" in k}
    # kombu's filesystem transport reads these four; any it defaults is relative to the working directory.
    assert set(folders) == {"data_folder_in", "data_folder_out", "processed_folder", "control_folder"}
    assert {k: p.is_relative_to(ROOT / "var") for k, p in folders.items()} == dict.fromkeys(folders, True)


def test_procfile_worker_leaves_the_checkout_clean_and_logs_failures_not_every_task(tmp_path: Path) -> None:
    """The Procfile's worker (with beat) on the embedded defaults, as `make run` starts it."""
    env = {**embedded_env(), "POLICY_SYNC_INTERVAL_SECONDS": "1"}
    copy = migrated_copy(tmp_path / "vt", env)
    before = files_outside_var(copy)
    line = next(line for line in (copy / "Procfile").read_text().splitlines() if line.startswith("worker:"))
    command = shlex.split(line.removeprefix("worker:"))
    assert command[0] == ".venv/bin/celery"
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "celery", *command[1:]], cwd=copy, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(log_path, proc, '"operation":"policy_sync"')  # beat sent it, the pool ran it
        subprocess.run([sys.executable, "-c", "from volttracker.celery import app; "
                        "app.send_task('logging_policy.tasks.policy_sync', args=[1, 2, 3])"],
                       cwd=copy, env=env, check=True)
        wait_for(log_path, proc, "raised unexpected")
    finally:
        proc.terminate()  # warm shutdown; its pool and beat children stop with it
        try:
            proc.wait(timeout=60)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # whatever of the group is left
    log = log_path.read_text(errors="replace")
    assert "ready." in log  # the startup lines stay
    # Through Django's LOGGING (volttracker/celery.py): its console format, with the redaction filter.
    assert re.search(r" ERROR celery\.app\.trace Task logging_policy\.tasks\.policy_sync\[.*raised unexpected: "
                     r"TypeError", log), log[-3000:]
    quiet = ("Sending due task", "] received", "succeeded in", "No hostname was supplied")
    assert [s for s in quiet if s in log] == [], log[-3000:]
    assert files_outside_var(copy) - before == set()  # no control/ (kombu's default) or anything else


def wait_for(log_path: Path, proc: subprocess.Popen[bytes], text: str) -> None:
    deadline = time.monotonic() + 60
    while text not in log_path.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"no {text!r} in the worker log:\n{log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


def make_run_defaults() -> dict[str, str]:
    """The variables `make run` exports by default (`run: export NAME ?= value` in the Makefile)."""
    found = re.findall(r"^run: export (\w+) \?= (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    return dict(found)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_make_run_sends_events_and_access_lines_to_files() -> None:
    assert make_run_defaults() == {"WIDE_EVENTS_PATH": "var/events.jsonl", "ACCESS_LOG_PATH": "var/access.log"}


def test_procfile_web_access_lines_show_no_upload_token(tmp_path: Path) -> None:
    """runserver logs every request line; an upload's carries its token (the only credential Torque sends).

    Under `make run`'s defaults the lines go to var/access.log, and those of failed requests (4xx, 5xx)
    to the terminal as well: the token is in neither, nor in the events' file."""
    env = {**embedded_env(), **make_run_defaults()}
    copy = migrated_copy(tmp_path / "vt", env)
    line = next(line for line in (copy / "Procfile").read_text().splitlines() if line.startswith("web:"))
    assert "manage.py runserver" in line
    port = free_port()
    log_path = tmp_path / "web.log"
    token = "S3cretUpl0adT0kenXYZ"
    with log_path.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                                cwd=copy, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/torque/upload/{token}?eml=owner@example.com")
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(log_path.read_text(errors="replace")[-3000:])
                time.sleep(0.2)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "E400"
        # As a client may spell them (http.client sends the target as written): a percent-encoded
        # upload path (Django decodes it and routes it to the view) and a query on a path with no token.
        for target, status in ((f"/api/torque/%75pload/{token}?eml=owner@example.com", 401),
                               ("/api/torque/upload?eml=owner@example.com", 404),
                               ("/static/admin/img/icon-changelink.svg", 200)):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", target)
            assert connection.getresponse().status == status
            connection.close()
        wait_for(copy / "var" / "access.log", proc, "icon-changelink.svg")  # the last access line
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    terminal = log_path.read_text(errors="replace")
    access = (copy / "var" / "access.log").read_text(errors="replace")
    events = (copy / "var" / "events.jsonl").read_text(errors="replace")
    # Torque's GET uploads carry the owner's e-mail (eml) and the readings in the query: gone too.
    for shown in (terminal, access):
        assert shown.count('"GET /api/torque/upload/[redacted] HTTP/1.1" 401') == 2, shown[-2000:]
        assert '"GET /api/torque/upload?[redacted] HTTP/1.1" 404' in shown, shown[-2000:]
    assert '"GET /static/admin/img/icon-changelink.svg HTTP/1.1" 200' in access  # a file name is no secret
    assert "/static/" not in terminal and '"operation"' not in terminal, terminal[-2000:]
    assert events.count('"operation":"telemetry_upload"') == 2  # the events went to their file
    for shown in (terminal, access, events):
        assert token not in shown and "owner@example.com" not in shown, shown[-2000:]


def test_make_run_on_a_fresh_clone_shows_no_event_or_static_lines(tmp_path: Path) -> None:
    """`make run` itself (honcho, web and worker), as a newcomer starts it; its terminal output is read."""
    env = embedded_env()
    copy = checkout_copy(tmp_path / "vt")
    (copy / ".venv").symlink_to((ROOT / ".venv").resolve())  # the shared, installed venv
    port = free_port()
    log_path = tmp_path / "terminal.log"
    with log_path.open("wb") as log:
        # -o: the venv is installed (its stamp may be older than a requirements.txt copied just now).
        proc = subprocess.Popen(["make", "-o", ".venv/.installed", "run"], cwd=copy, env={**env, "PORT": str(port)},
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/admin/login/", timeout=10)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(log_path.read_text(errors="replace")[-3000:])
                time.sleep(0.5)
        statics = sorted(set(re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)))
        assert len(statics) >= 3 and all(httpx.get(f"http://127.0.0.1:{port}{s}").status_code == 200 for s in statics)
        assert httpx.get(f"http://127.0.0.1:{port}/api/torque/upload/x?eml=a@b.org").status_code == 401
        events_path = copy / "var" / "events.jsonl"
        wait_for(log_path, proc, "ready.")  # the worker's; then a task that fails, whose event is always kept
        subprocess.run([sys.executable, "-c", "from volttracker.celery import app; "
                        "app.send_task('logging_policy.tasks.policy_sync', args=[1, 2, 3])"],
                       cwd=copy, env=env, check=True)
        deadline = time.monotonic() + 90
        while '"operation":"policy_sync"' not in events_path.read_text(errors="replace"):  # the worker's too
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no policy_sync event; make run's terminal:\n{log_path.read_text(errors='replace')[-4000:]}")
            time.sleep(0.5)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    terminal = log_path.read_text(errors="replace")
    assert "web.1" in terminal and "worker.1" in terminal and "ready." in terminal, terminal[-3000:]
    assert '"operation"' not in terminal and "/static/" not in terminal, terminal[-3000:]
    assert '"GET /api/torque/upload/[redacted]' in terminal  # a failed request still shows
    access = (copy / "var" / "access.log").read_text()
    assert all(s in access for s in statics)
    assert '"operation":"telemetry_upload"' in events_path.read_text()


def test_every_readme_url_follows_port() -> None:
    readme = (ROOT / "README.md").read_text()
    local = re.findall(r"https?://(?:localhost|127\.0\.0\.1|[\d.]+)(:[^/\s`)>]*)?", readme)
    assert local and all(port == ":$PORT" for port in local), local  # no hard-coded 8000 after "pick a port"
    assert "export PORT=" in readme
