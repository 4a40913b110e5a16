"""Settings read from the environment and fail loudly, naming the variable, on a value they cannot use.

Each case starts a fresh Python process with exactly the environment given (nothing inherited from the
test run), because settings are read once, at start-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {"DJANGO_SECRET_KEY": "a-secret-for-this-test-only", "DJANGO_ALLOWED_HOSTS": "evidence.example.org"}
PROBE = """
import json
import django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SECRET_KEY": settings.SECRET_KEY,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "ENGINE": db["ENGINE"],
    "NAME": str(db["NAME"]),
    "HOST": db.get("HOST", ""),
    "PORT": str(db.get("PORT", "")),
    "USER": db.get("USER", ""),
    "CONN_MAX_AGE": db["CONN_MAX_AGE"],
    "STATICFILES": settings.STORAGES["staticfiles"]["BACKEND"],
}))
"""


def start(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run python with args in the project's root, with only PATH and the given variables set."""
    environment = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "evidence.settings", **env}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def settings_with(**env: str) -> dict:
    result = start("-c", PROBE, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refused(**env: str) -> str:
    result = start("-c", PROBE, **env)
    assert result.returncode != 0, f"settings accepted {env}: {result.stdout}"
    assert "ImproperlyConfigured" in result.stderr
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_debug_value_that_is_not_a_boolean_stops_start_up(value: str):
    assert f"DJANGO_DEBUG={value!r} is not a boolean" in refused(DJANGO_DEBUG=value, **PRODUCTION)


@pytest.mark.parametrize("value, debug", [("1", True), ("Yes", True), ("off", False)])
def test_debug_values(value: str, debug: bool):
    assert settings_with(DJANGO_DEBUG=value, **PRODUCTION)["DEBUG"] is debug


def test_debug_is_off_unless_asked_for():
    settings = settings_with(**PRODUCTION)
    assert settings["DEBUG"] is False
    assert settings["SECRET_KEY"] == PRODUCTION["DJANGO_SECRET_KEY"]
    assert settings["ALLOWED_HOSTS"] == ["evidence.example.org"]
    assert settings["STATICFILES"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.mark.parametrize("env", [{}, {"DJANGO_SECRET_KEY": ""}, {"DJANGO_DEBUG": "0"}])
def test_no_secret_key_with_debug_off_stops_start_up(env: dict[str, str]):
    assert "DJANGO_SECRET_KEY is required" in refused(DJANGO_ALLOWED_HOSTS="evidence.example.org", **env)


@pytest.mark.parametrize("hosts", [None, "", " , "])
def test_no_allowed_hosts_with_debug_off_stops_start_up(hosts: str | None):
    env = {"DJANGO_SECRET_KEY": "a-secret"} | ({} if hosts is None else {"DJANGO_ALLOWED_HOSTS": hosts})
    assert "DJANGO_ALLOWED_HOSTS is required" in refused(**env)


def test_allowed_hosts_are_a_comma_separated_list():
    hosts = settings_with(DJANGO_SECRET_KEY="s", DJANGO_ALLOWED_HOSTS=" a.example.org, b.example.org ,")
    assert hosts["ALLOWED_HOSTS"] == ["a.example.org", "b.example.org"]


def test_debug_on_needs_no_secret_key_or_hosts():
    settings = settings_with(DJANGO_DEBUG="1")
    assert settings["DEBUG"] is True
    assert settings["SECRET_KEY"].startswith("django-insecure-")
    assert "localhost" in settings["ALLOWED_HOSTS"]
    assert settings["STATICFILES"] == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_manage_py_check_passes_in_debug_without_a_secret_key():
    result = start("manage.py", "check", DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_manage_py_check_fails_loudly_on_a_bad_value():
    result = start("manage.py", "check", DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG='maybe' is not a boolean" in result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "not-a-url",
        "mysql://evidence:secret@127.0.0.1:3306/evidence",
        "postgres://evidence@127.0.0.1:notaport/evidence",
        "postgres://evidence@127.0.0.1:5432",
    ],
)
def test_a_bad_database_url_stops_start_up(url: str):
    assert "DATABASE_URL" in refused(DATABASE_URL=url, **PRODUCTION)


def test_a_bad_connection_age_stops_start_up():
    assert "DATABASE_CONN_MAX_AGE='soon' is not an integer" in refused(DATABASE_CONN_MAX_AGE="soon", **PRODUCTION)


@pytest.mark.parametrize("url", [None, "", "  "])
def test_without_database_url_the_database_is_a_sqlite_file(url: str | None):
    env = {"DJANGO_DEBUG": "1"} | ({} if url is None else {"DATABASE_URL": url})
    settings = settings_with(**env)
    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["NAME"] == str(ROOT / "db.sqlite3")


def test_a_postgres_database_url_gives_postgresql():
    settings = settings_with(
        DATABASE_URL="postgres://evidence:secret@db.internal:5433/evidence_prod",
        DATABASE_CONN_MAX_AGE="0",
        **PRODUCTION,
    )
    assert (settings["ENGINE"], settings["NAME"], settings["HOST"], settings["PORT"], settings["USER"]) == (
        "django.db.backends.postgresql",
        "evidence_prod",
        "db.internal",
        "5433",
        "evidence",
    )
    assert settings["CONN_MAX_AGE"] == 0
