"""Production settings plus the benchmark's reference views. Used only by ``make bench``.

The references live here, not in evidence/urls.py, so that production never serves them. WhiteNoise serves
the benchmark's static files of each page's size from BENCH_STATIC_ROOT (written before gunicorn starts;
WhiteNoise indexes its files at start-up when DEBUG is off).
"""

import os

from evidence.settings import *  # noqa: F403
from evidence.settings import BASE_DIR, TEMPLATES

ROOT_URLCONF = "benchmarks.bench_urls"
TEMPLATES = [{**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], BASE_DIR / "benchmarks" / "templates"]}]
WHITENOISE_ROOT = os.environ.get("BENCH_STATIC_ROOT") or None
