"""docker-compose.yml cannot run here (no Docker engine): parse it and check what it points at."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "worker", "beat")


def test_the_stack_has_every_part() -> None:
    assert set(SERVICES) >= {"web", "worker", "beat", "postgres", "redis", "migrate"}
    assert {"pgdata", "redisdata"} <= set(COMPOSE["volumes"])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_share_one_image_and_env(name: str) -> None:
    service = SERVICES[name]
    assert service["build"] == "." and service["image"] == "volttracker:latest"
    assert service["env_file"] == ".env.production"
    assert service["environment"]["DATABASE_URL"].startswith("postgres://")
    assert service["environment"]["REDIS_URL"].startswith("redis://redis:6379")


def test_web_command_points_at_the_wsgi_application() -> None:
    command = SERVICES["web"]["command"]
    assert command[0] == "gunicorn"
    module, attr = command[1].split(":")
    assert callable(getattr(importlib.import_module(module), attr))


@pytest.mark.parametrize("name", ["worker", "beat"])
def test_celery_commands_point_at_the_celery_app(name: str) -> None:
    command = SERVICES[name]["command"]
    assert command[:3] == ["celery", "-A", "volttracker"]
    assert command[3] == name
    from volttracker.celery import app

    assert importlib.import_module("volttracker").celery_app is app


def test_migrate_runs_a_real_management_command() -> None:
    from django.core.management import get_commands

    command = SERVICES["migrate"]["command"]
    assert command[:2] == ["python", "manage.py"] and command[2] in get_commands()


@pytest.mark.parametrize("name", ["postgres", "redis", "web", "worker"])
def test_services_have_health_checks(name: str) -> None:
    assert SERVICES[name]["healthcheck"]["test"]


def test_web_health_check_hits_a_real_url(client, db) -> None:
    test = " ".join(SERVICES["web"]["healthcheck"]["test"])
    found = re.search(r"127\.0\.0\.1:8000(/[\w/]*)", test)
    assert found is not None, test
    path = found.group(1)
    response = client.get(path)
    assert response.status_code == 200 and response.json()["checks"]["database"] == "ok"


def test_env_example_names_only_settings_that_exist() -> None:
    settings_source = (ROOT / "volttracker" / "settings.py").read_text()
    names = re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
    assert len(names) >= 15
    for name in names:
        assert f'"{name}"' in settings_source, f"{name} in .env.example is not read by settings.py"


def test_dockerfile_builds_static_files_with_production_settings() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ENVIRONMENT=production" in dockerfile and "collectstatic" in dockerfile
    assert "requirements.txt" in dockerfile


def test_only_the_proxy_is_published_and_it_fronts_gunicorn() -> None:
    published = {name for name, service in SERVICES.items() if service.get("ports")}
    assert published == {"proxy"}
    proxy = SERVICES["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert proxy["ports"] == [f"8000:{proxy['environment']['VT_LISTEN']}"]
    # gunicorn's bind address, as the proxy reaches it on the compose network.
    bind = SERVICES["web"]["command"][SERVICES["web"]["command"].index("--bind") + 1]
    assert proxy["environment"]["VT_UPSTREAM"] == f"web:{bind.rsplit(':', 1)[1]}"
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    # The image renders /etc/nginx/templates/*.template into conf.d: the repository's file, replacing the default.
    source, target, mode = proxy["volumes"][0].split(":")
    assert (ROOT / source).is_file() and target == "/etc/nginx/templates/default.conf.template" and mode == "ro"


def test_the_proxy_limits_equal_the_apps_defaults() -> None:
    from tests.proxy import TEMPLATE, PLACEHOLDER, template_values

    environment = SERVICES["proxy"]["environment"]
    assert set(PLACEHOLDER.findall(TEMPLATE.read_text())) == set(environment)
    expected = template_values(listen="", upstream="", access_log="")  # the settings' defaults under test
    assert environment["VT_UPLOAD_MAX_BODY"] == expected["VT_UPLOAD_MAX_BODY"] == "262144"
    assert environment["VT_ADMIN_MAX_BODY"] == expected["VT_ADMIN_MAX_BODY"] == "51m"
