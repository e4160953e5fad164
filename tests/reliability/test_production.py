"""Production settings, as a real process loads them: secure cookies, HTTPS, and ALLOWED_HOSTS enforced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from tests.live import ROOT, LiveWeb, live_env, live_web_running

HOST = "volt.example.org"
PRODUCTION = {"ENVIRONMENT": "production", "SECRET_KEY": "p" * 50 + "-Prod-Secret-42!", "ALLOWED_HOSTS": HOST,
              "DEBUG": ""}
SECURITY_SETTINGS = ("DEBUG", "ALLOWED_HOSTS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
                     "SESSION_COOKIE_HTTPONLY", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER",
                     "SECURE_HSTS_SECONDS", "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS")


def production_settings() -> dict[str, Any]:
    """The security settings a process started with the production environment ends up with."""
    code = ("import django, json; django.setup(); from django.conf import settings as s; "
            f"print(json.dumps({{n: getattr(s, n) for n in {SECURITY_SETTINGS!r}}}))")
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**env, **PRODUCTION, "DJANGO_SETTINGS_MODULE": "volttracker.settings"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_production_settings_are_secure() -> None:
    values = production_settings()
    assert values == {
        "DEBUG": False, "ALLOWED_HOSTS": [HOST], "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True, "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"], "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_CONTENT_TYPE_NOSNIFF": True, "X_FRAME_OPTIONS": "DENY",
    }


@pytest.mark.django_db
def test_production_cookies_are_secure_and_http_only(client) -> None:
    values = production_settings()
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    User.objects.create_user("admin-p", password="pw-admin-123", is_staff=True)
    with override_settings(**values):
        https = {"Host": HOST, "X-Forwarded-Proto": "https"}
        plain = client.get("/admin/login/", headers={"Host": HOST})
        assert plain.status_code == 301 and plain["Location"] == f"https://{HOST}/admin/login/"
        page = client.get("/admin/login/", headers=https)
        assert page.status_code == 200 and page["Strict-Transport-Security"].startswith("max-age=31536000")
        login = client.post("/admin/login/", {"username": "admin-p", "password": "pw-admin-123",
                                              "csrfmiddlewaretoken": page.cookies["csrftoken"].value},
                            headers=https)
        assert login.status_code == 302
    session, csrf = login.cookies["sessionid"], page.cookies["csrftoken"]
    assert (session["secure"], session["httponly"], session["samesite"]) == (True, True, "Lax")
    assert (csrf["secure"], csrf["samesite"]) == (True, "Lax")


@pytest.fixture
def production_web(tmp_path: Path) -> Iterator[LiveWeb]:
    with live_web_running(tmp_path, live_env(tmp_path, **PRODUCTION), workers=1) as web:
        yield web


@pytest.mark.django_db(transaction=True)
@pytest.mark.live_web
def test_a_foreign_host_is_refused_with_400_e006_and_an_event_by_a_production_server(
        production_web: LiveWeb) -> None:
    https = {"X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=production_web.base_url, timeout=10) as http:
        foreign = http.get("/healthz", headers={**https, "Host": "evil.example", "X-Request-ID": "foreign-host"})
        ours = http.get("/healthz", headers={**https, "Host": HOST, "X-Request-ID": "our-host"})
    assert foreign.status_code == 400
    assert foreign.json()["error"]["code"] == "E006"
    assert ours.status_code == 200 and ours.json()["status"] == "ok"
    events = production_web.events_by_request_id()
    assert events["foreign-host"]["http"]["status_code"] == 400
    assert events["foreign-host"]["error"]["code"] == "E006"
    assert events["foreign-host"]["deployment"]["environment"] == "production"
    assert "evil.example" not in json.dumps(events["foreign-host"])


@pytest.mark.django_db(transaction=True)
@pytest.mark.live_web
def test_the_compose_health_check_passes_against_a_production_server(production_web: LiveWeb) -> None:
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["web"]["healthcheck"]["test"]
    assert command[:3] == ["CMD", "python", "-c"]
    host_port = production_web.base_url.removeprefix("http://")
    code = command[3].replace("127.0.0.1:8000", host_port)
    env = {**os.environ, "ALLOWED_HOSTS": f"{HOST},other.example.org"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
