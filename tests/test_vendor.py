"""The browser libraries served by the app are the versions package.json pins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

ROOT = Path(__file__).resolve().parent.parent
PINNED: dict[str, str] = json.loads((ROOT / "package.json").read_text())["dependencies"]


@pytest.mark.parametrize(
    ("package", "static_path", "banner"),
    [
        ("uplot", "vendor/uplot/uPlot.iife.min.js", "uPlot (v{version})"),
        ("leaflet", "vendor/leaflet/leaflet.js", "Leaflet {version},"),
    ],
)
def test_vendored_file_is_the_pinned_version(package: str, static_path: str, banner: str) -> None:
    found = finders.find(static_path)
    assert found, f"{static_path} is not found by the static-file finders"
    head = Path(found).read_text(encoding="utf-8")[:400]
    assert banner.format(version=PINNED[package]) in head
