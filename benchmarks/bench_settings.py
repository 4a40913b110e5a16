"""Production settings plus the benchmark's reference views. Used only by ``make bench``.

The references live here, not in evidence/urls.py, so that production never serves them; their narrow
table is the benchmark's own app (benchmarks/reference), installed only here. WhiteNoise serves the
benchmark's static files of each page's size from BENCH_STATIC_ROOT (written before gunicorn starts;
WhiteNoise indexes its files at start-up when DEBUG is off).

BENCH_CACHE=cold (the cold phase, benchmarks/phases.py) swaps the cache for one that keeps nothing it is
asked to store (benchmarks/cold_cache.py): every page, aggregate and formatted reference is computed on every
request, while the counters that must count (request rates, sign-in reservations) still do.
"""

import os

from evidence.settings import *  # noqa: F403
from evidence.settings import BASE_DIR, CACHES, INSTALLED_APPS, TEMPLATES

ROOT_URLCONF = "benchmarks.bench_urls"
INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks.reference"]
TEMPLATES = [{**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], BASE_DIR / "benchmarks" / "templates"]}]
WHITENOISE_ROOT = os.environ.get("BENCH_STATIC_ROOT") or None

if os.environ.get("BENCH_CACHE") == "cold":
    CACHES = {**CACHES, "default": {"BACKEND": "benchmarks.cold_cache.ColdCache", "LOCATION": "bench-cold"}}
