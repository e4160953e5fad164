"""Settings for benchmark servers only: the production settings plus bench/urls.py (the baseline view)."""

from __future__ import annotations

from volttracker.settings import *  # noqa: F403 - exactly production, plus the line below

ROOT_URLCONF = "bench.urls"
