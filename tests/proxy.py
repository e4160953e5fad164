"""Debian's nginx with the repository's config (deploy/nginx/volttracker.conf.template) in front of a
live gunicorn (tests/live.py): a foreground process with its own prefix, temp dirs and pid file."""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from tests.live import ROOT, free_port

TEMPLATE = ROOT / "deploy" / "nginx" / "volttracker.conf.template"
PLACEHOLDER = re.compile(r"\$\{(VT_[A-Z_]+)\}")


def template_render(template: str, values: Mapping[str, str]) -> str:
    """Fill in `${VT_...}` as envsubst does in the nginx image; every placeholder must have a value."""
    missing = set(PLACEHOLDER.findall(template)) - set(values)
    assert not missing, f"no value for {sorted(missing)}"
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def template_values(*, listen: str, upstream: str, access_log: str) -> dict[str, str]:
    """The values compose gives the template, from this process's settings (the app's limits)."""
    return {"VT_LISTEN": listen, "VT_UPSTREAM": upstream, "VT_ACCESS_LOG": access_log,
            "VT_UPLOAD_MAX_BODY": str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE),
            "VT_ADMIN_MAX_BODY": f"{settings.TRACKLOG_UPLOAD_MAX_MB + 1}m"}


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if found is None:
        pytest.fail("the proxy test needs Debian's nginx: apt-get install nginx (.ci/run installs it)")
    return found


@dataclass
class LiveProxy:
    proc: subprocess.Popen[bytes]
    port: int
    access_log: Path
    error_log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _main_config(prefix: Path, server_config: Path) -> str:
    # Workers run as this user: the default (nobody) could not write the temp dirs under the test's tmp.
    user = f"user {pwd.getpwuid(os.getuid()).pw_name} {grp.getgrgid(os.getgid()).gr_name};" if os.getuid() == 0 else ""
    temp = "\n".join(f"    {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                           "uwsgi", "scgi"))
    return (f"{user}\nworker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log stderr notice;\n"
            f"events {{ worker_connections 1024; }}\n"
            f"http {{\n{temp}\n    include {server_config};\n}}\n")


@contextmanager
def live_proxy_running(tmp: Path, upstream_url: str) -> Iterator[LiveProxy]:
    """nginx on a free port in front of `upstream_url` (http://host:port), until the block ends."""
    prefix = tmp / "nginx"
    prefix.mkdir()
    port = free_port()
    server_config = prefix / "volttracker.conf"
    server_config.write_text(template_render(TEMPLATE.read_text(), template_values(
        listen=f"127.0.0.1:{port}", upstream=upstream_url.removeprefix("http://"),
        access_log=str(prefix / "access.log"))))
    (prefix / "nginx.conf").write_text(_main_config(prefix, server_config))
    error_log = prefix / "stderr.log"
    with error_log.open("wb") as log:
        proc = subprocess.Popen([nginx_binary(), "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"),
                                 "-e", "stderr", "-g", "daemon off;"], stdout=log, stderr=subprocess.STDOUT)
    proxy = LiveProxy(proc, port, prefix / "access.log", error_log)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{proxy.base_url}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start:\n{error_log.read_text(errors='replace')}")
                time.sleep(0.1)
        yield proxy
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
