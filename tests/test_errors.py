"""Error pages and the database-outage answer: plain pages that look like the site, need no database,
and never show a stack trace; a lost database is a 503 with Retry-After, logged with its cause, and the
next request after it comes back succeeds (benchmarks/fault.sh does the same with a real restart)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import IntegrityError, OperationalError, close_old_connections, connection
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import include, path

from evidence.models import Claim

ROOT = Path(__file__).resolve().parent.parent


def database_gone(request: HttpRequest) -> HttpResponse:
    raise OperationalError("could not connect to server: Connection refused")


def integrity_bug(request: HttpRequest) -> HttpResponse:
    raise IntegrityError("duplicate key value violates unique constraint")


def bug(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug, with a secret in its message: s3cr3t")


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("tampered")


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def claim_count(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(Claim.objects.count()))


# The project's URLs plus views that fail on purpose.
urlpatterns = [
    path("test-errors/database-gone/", database_gone),
    path("test-errors/integrity/", integrity_bug),
    path("test-errors/bug/", bug),
    path("test-errors/suspicious/", suspicious),
    path("test-errors/forbidden/", forbidden),
    path("test-errors/count/", claim_count),
    path("", include("evidence.urls")),
]

pytestmark = pytest.mark.urls("tests.test_errors")


def looks_like_the_site(html: str) -> None:
    assert 'class="site-header"' in html and "css/site.css" in html
    assert "Traceback" not in html and "s3cr3t" not in html and "<script" not in html


# --- 503 when the database is lost ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_view_that_loses_the_database_answers_503_with_a_plain_page(client, caplog):
    with caplog.at_level(logging.ERROR, logger="evidence.availability"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/test-errors/database-gone/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    html = response.content.decode()
    assert "The site is briefly unavailable" in html
    looks_like_the_site(html)
    assert len(queries) == 0  # the page itself needs no database
    assert "Content-Security-Policy" in response  # the usual headers still apply
    (record,) = [r for r in caplog.records if r.name == "evidence.availability"]
    assert record.levelno == logging.ERROR
    message = record.getMessage()
    assert "database unavailable" in message and "GET /test-errors/database-gone/" in message
    assert "Connection refused" in message
    # logged once, with its cause: django.request does not add a second, bare "Service Unavailable"
    assert not [r for r in caplog.records if r.name == "django.request" and r.levelno >= logging.ERROR]


@pytest.mark.django_db
def test_other_database_errors_are_still_500s(caplog):
    client = Client(raise_request_exception=False)
    response = client.get("/test-errors/integrity/")
    assert response.status_code == 500
    looks_like_the_site(response.content.decode())


def terminate_backend_of(conn) -> None:
    """What a PostgreSQL restart does to a connection: the server ends it under the client's feet."""
    pid = conn.connection.info.backend_pid
    settings = conn.settings_dict
    admin = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
    )
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        admin.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_connection_killed_by_the_server_is_a_503_then_the_next_request_reconnects(caplog):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL to end a connection")
    client = Client(raise_request_exception=False)
    assert client.get("/test-errors/count/").status_code == 200
    terminate_backend_of(connection)
    with caplog.at_level(logging.ERROR, logger="evidence.availability"):
        response = client.get("/test-errors/count/")
    assert response.status_code == 503
    assert any("database unavailable" in r.getMessage() for r in caplog.records if r.name == "evidence.availability")
    # What Django's handler does at the end of every request (the test client leaves it out): the
    # connection that failed is found unusable and closed, so the next request opens a new one.
    close_old_connections()
    response = client.get("/test-errors/count/")
    assert response.status_code == 200 and response.content == b"0"


def test_with_the_database_down_a_real_request_gets_the_503_page():
    """A fresh process whose DATABASE_URL points at a port nobody listens on: the connection itself
    fails, through the whole middleware stack."""
    probe = (
        "import django; django.setup()\n"
        "from django.test import Client, override_settings\n"
        "from django.conf import settings\n"
        # no collectstatic here: the plain storage instead of the manifest, as tests/conftest.py does
        "storages = {**settings.STORAGES, 'staticfiles': {'BACKEND': "
        "'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n"
        "with override_settings(STORAGES=storages):\n"
        "    response = Client(raise_request_exception=False).get('/claims/?q=ketamine')\n"
        "print(response.status_code, response['Retry-After'])\n"
        "print('briefly unavailable' in response.content.decode())\n"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "evidence.settings",
        "DJANGO_SECRET_KEY": "a-secret-for-this-test-only",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": "postgres://evidence:evidence@127.0.0.1:9/evidence_nowhere",
    }
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["503", "5", "True"]
    assert "ERROR evidence.availability: database unavailable, answered 503 to GET /claims/" in result.stderr
    assert "Traceback" not in result.stderr


# --- The other error pages ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unexpected_error_is_a_plain_500_page():
    client = Client(raise_request_exception=False)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/test-errors/bug/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    looks_like_the_site(html)
    assert len(queries) == 0


@pytest.mark.django_db
def test_a_suspicious_request_is_a_plain_400_page(client):
    response = client.get("/test-errors/suspicious/")
    assert response.status_code == 400
    looks_like_the_site(response.content.decode())
    response = client.get("/", HTTP_HOST="evil.example.com")  # not in ALLOWED_HOSTS
    assert response.status_code == 400
    assert "could not be understood" in response.content.decode()


@pytest.mark.django_db
def test_forbidden_is_the_sites_403_page(client):
    response = client.get("/test-errors/forbidden/")
    assert response.status_code == 403
    assert 'class="site-header"' in response.content.decode()


@pytest.mark.django_db
def test_a_form_without_its_csrf_token_gets_a_page_that_says_what_to_do():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "a", "password": "b"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "This form has expired" in html
    looks_like_the_site(html)
