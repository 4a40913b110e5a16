"""All settings, read from the environment.

Every value that differs between a laptop and production comes from an environment variable, and a
value that cannot be understood stops the process at start-up with a message saying which variable is
wrong: a typo in ``DJANGO_DEBUG`` must never quietly turn debug mode on in production.

Variables (see README.md and docs/deploy.md):

DJANGO_DEBUG          "1"/"true"/"yes"/"on" or "0"/"false"/"no"/"off"; off when unset.
DJANGO_SECRET_KEY     required unless DJANGO_DEBUG is on.
DJANGO_ALLOWED_HOSTS  comma-separated host names; required unless DJANGO_DEBUG is on.
DATABASE_URL          e.g. postgres://user@127.0.0.1:5432/evidence; a SQLite file when unset.
DATABASE_CONN_MAX_AGE seconds a connection is kept open (default 60; 0 closes after each request).
DATABASE_REPLICA_URLS comma-separated postgres:// URLs of streaming replicas; safe requests read from them
                      (evidence/db_routers.py, docs/deploy.md). None by default.
DATABASE_REPLICA_PIN_SECONDS  how long a client's reads stay on the primary after it writes (default 10).
EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS, EMAIL_USE_SSL, EMAIL_TIMEOUT,
DEFAULT_FROM_EMAIL    the SMTP server for password-reset mail and notifications when DJANGO_DEBUG is off (debug
                      prints them to the console); docs/operations.md.
EVIDENCE_SITE_URL     the site's address as emails link to it, e.g. https://evidence.example (default
                      http://127.0.0.1:8000, the address of `make run`).
EVIDENCE_DUE_SOON_DAYS  how many days before its due date an assignment's reminder goes out (default 2).

Security (docs/security.md; the production values are in docs/deploy.md):
DJANGO_SECURE_SSL_REDIRECT  redirect http:// to https:// (default off; production: 1). Never on in debug.
DJANGO_SECURE_COOKIES       session and CSRF cookies only over HTTPS (default: DJANGO_SECURE_SSL_REDIRECT).
DJANGO_HSTS_SECONDS         Strict-Transport-Security max-age (default 0 = no header; production: 31536000).
DJANGO_HSTS_INCLUDE_SUBDOMAINS, DJANGO_HSTS_PRELOAD  (default on whenever DJANGO_HSTS_SECONDS > 0).
DJANGO_BEHIND_PROXY         trust X-Forwarded-Proto and X-Forwarded-For from one reverse proxy (default off).
DJANGO_SESSION_COOKIE_AGE   seconds a sign-in lasts at most (default 43200, 12 hours).
DJANGO_SESSION_EXPIRE_AT_BROWSER_CLOSE  sign out when the browser closes (default on).
DJANGO_AXES_FAILURE_LIMIT   failed sign-ins (per username and address) before a lockout (default 5).
DJANGO_AXES_COOLOFF_MINUTES how long a lockout lasts (default 15).
DJANGO_MAX_UPLOAD_MB        largest request body accepted with a file upload (default 10).

Imports:
EVIDENCE_IMPORT_MAX_BYTES   largest bibliography file an import reads, in bytes (default 52428800, 50 MB).

Background jobs (evidence/celery.py, docs/operations.md):
CELERY_BROKER_URL           the Redis broker, e.g. redis://127.0.0.1:6379/1; unset: jobs run in-process.
EVIDENCE_RETRACTION_CHECK_HOURS  how often the scheduler checks cited studies for retractions (default 24).

Lookups in Crossref and NCBI (evidence/lookup.py):
EVIDENCE_LOOKUP_ENABLED     ask api.crossref.org and eutils.ncbi.nlm.nih.gov (default off: no network).
EVIDENCE_LOOKUP_MAILTO      the address Crossref's polite pool and NCBI ask callers to give.
EVIDENCE_LOOKUP_TIMEOUT     seconds to wait for an answer (default 10).
EVIDENCE_LOOKUP_CACHE_SECONDS  how long an answer is kept in the cache (default 86400, a day).
NCBI_API_KEY                optional; NCBI allows 10 requests a second with one instead of 3.

Readers (docs/readers.md):
EVIDENCE_EMBED_ORIGINS      comma-separated origins (https://publisher.example) that may show the claim card
                            /claims/<id>/embed/ in a frame; none by default (only our own pages may).
EVIDENCE_CONTACT_EMAIL      the address readers write to with corrections and questions (/about/).
EVIDENCE_READER_REPORTS_PER_HOUR  "Report a problem" forms one address may send an hour (default 5).

API (docs/api.md):
DJANGO_API_ANON_RATE        requests an anonymous client may make to /api/ (default 60/minute; n/second|minute|hour|day)
DJANGO_API_USER_RATE        requests a signed-in client may make to /api/ (default 600/minute).
DJANGO_API_TOKEN_RATE       attempts to obtain a token from one address (default 10/hour).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off. "
            "For local development run `make run`, which turns debug on."
        )
    # Only ever used with DEBUG on, on a developer's machine.
    SECRET_KEY = "django-insecure-development-key-never-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS is required when DJANGO_DEBUG is off (comma-separated).")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # whitenoise serves static files under runserver too, so development matches production.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    "simple_history",
    # Content-Security-Policy header (settings below); failed sign-in tracking and lockout
    "csp",
    "axes",
    # the REST API under /api/ (evidence/api/, docs/api.md), its token auth, OpenAPI schema and docs
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "evidence",
    "reviews",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Under /api/, any error answer that is not already JSON (a 404 for an unknown path, a 500, the 413,
    # 400 and 503 pages of the middleware below) becomes the API's JSON error body (evidence/api/errors.py).
    "evidence.api.errors.ApiJsonErrorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Refuses an oversized body (from its Content-Length, before anything reads it) and NUL characters
    # in the address, cookies or headers (PostgreSQL cannot take them) with a 413 or 400 page.
    "evidence.middleware.RequestGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records the signed-in user on every history entry written during a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    # A view that loses the database answers 503 with a plain page (evidence/middleware.py).
    "evidence.middleware.DatabaseUnavailableMiddleware",
    # Turns a lockout into the lockout page; django-axes wants to be last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "evidence.urls"
WSGI_APPLICATION = "evidence.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------------
# PostgreSQL is the database of record (CI and production); SQLite is only the zero-setup default for
# `make run` on a machine without DATABASE_URL.
_database_url = os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    _default_db = dj_database_url.parse(
        _database_url,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL Django understands: {exc}") from None
if _default_db["ENGINE"] not in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}:
    raise ImproperlyConfigured(f"DATABASE_URL must point at PostgreSQL or SQLite, not {_default_db['ENGINE']}.")
if not _default_db["NAME"]:
    # otherwise start-up succeeds and the first request fails on a connection to database ""
    raise ImproperlyConfigured("DATABASE_URL names no database; end it with /<database name>.")
DATABASES = {"default": _default_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def replica_databases(urls: list[str], conn_max_age: int) -> dict[str, dict]:
    """DATABASES entries "replica_1", "replica_2" … for DATABASE_REPLICA_URLS; a bad URL stops start-up.
    In tests each is a mirror of "default" (TEST MIRROR): no test database is created on a replica."""
    replicas = {}
    for index, url in enumerate(urls, start=1):
        where = f"DATABASE_REPLICA_URLS entry {index}"
        try:
            replica = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{where} is not a database URL Django understands: {exc}") from None
        if replica["ENGINE"] != "django.db.backends.postgresql":
            raise ImproperlyConfigured(f"{where} must be a PostgreSQL replica (postgres://…), not {replica['ENGINE']}.")
        if not replica["NAME"]:
            raise ImproperlyConfigured(f"{where} names no database; end it with /<database name>.")
        replica["TEST"] = {"MIRROR": "default"}
        replicas[f"replica_{index}"] = replica
    return replicas


# Read replicas (PostgreSQL streaming replication): safe requests read from them, writes go to the primary
# and a client that has just written reads from the primary for a while (evidence/db_routers.py).
DATABASES.update(replica_databases(env_list("DATABASE_REPLICA_URLS", []), env_int("DATABASE_CONN_MAX_AGE", 60)))
DATABASE_REPLICAS = [alias for alias in DATABASES if alias != "default"]
DATABASE_REPLICA_PIN_SECONDS = env_int("DATABASE_REPLICA_PIN_SECONDS", 10)
if DATABASE_REPLICAS:
    if _default_db["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URLS needs DATABASE_URL to point at the PostgreSQL primary.")
    DATABASE_ROUTERS = ["evidence.db_routers.PrimaryReplicaRouter"]
    # first, so the session, the user and everything after read from the same database
    MIDDLEWARE.insert(0, "evidence.db_routers.ReadReplicaMiddleware")

# --- Auth ---------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Django's own auth views under /accounts/ (templates/registration/); signing in lands on the page for
# the user's role (reviews:start), signing out on the articles.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "reviews:start"
LOGOUT_REDIRECT_URL = "evidence:home"
PASSWORD_RESET_TIMEOUT = env_int("DJANGO_PASSWORD_RESET_TIMEOUT", 60 * 60 * 24)

# --- Email (password reset) ---------------------------------------------------------------------------
# Printed to the console in development; in production sent through the SMTP server in EMAIL_*.
if DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
    EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise ImproperlyConfigured("Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both.")
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Evidence review <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Notifications (reviews.services.notifications) link to the site by this address: a command or a task
# sending them has no request to take the host from.
SITE_URL = os.environ.get("EVIDENCE_SITE_URL", "http://127.0.0.1:8000").strip().rstrip("/")
if urlsplit(SITE_URL).scheme not in ("http", "https") or not urlsplit(SITE_URL).netloc:
    raise ImproperlyConfigured(f"EVIDENCE_SITE_URL={SITE_URL!r} is not an http:// or https:// address.")
EVIDENCE_DUE_SOON_DAYS = env_int("EVIDENCE_DUE_SOON_DAYS", 2)
if EVIDENCE_DUE_SOON_DAYS < 0:
    raise ImproperlyConfigured("EVIDENCE_DUE_SOON_DAYS must be 0 or a number of days.")

# --- Internationalisation -------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
# The interface is English only; without translation machinery every lazy label costs less to render.
USE_I18N = False
USE_TZ = True

# --- Static files ----------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed files in production (collectstatic writes the manifest); plain files in debug.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Cache ----------------------------------------------------------------------------------------------
# Redis in production (shared by every worker, so cached aggregates are computed once and the API's
# request rates are counted once for the site, evidence/ratelimit.py); memory of the process otherwise,
# which `check --deploy` warns about (evidence/checks.py). Cached values are keyed by the data version
# (evidence/caching.py), never stale.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    # While Redis is away the site runs uncached rather than failing (evidence/cache.py)
    from evidence.cache import redis_cache

    CACHES = {"default": redis_cache(REDIS_URL)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "evidence"}}
# Part of every public page's ETag; set it to the release (e.g. the commit) when deploying.
ETAG_SALT = os.environ.get("DJANGO_ETAG_SALT", "")
# Public pages rendered for a signed-out reader are kept per data version and served to the next one
# (evidence/caching.py). Off to measure or debug the uncached pages.
PAGE_CACHE = env_bool("DJANGO_PAGE_CACHE", default=True)

# --- Security -------------------------------------------------------------------------------------------
# docs/security.md explains each choice. HTTPS is the proxy's job and comes from the environment: the
# test suite and `make run` use production settings over plain http://, so nothing here may assume TLS
# unless the deployment says so. The documented production environment (docs/deploy.md) passes
# `manage.py check --deploy` with no warnings; tests/test_security.py runs that check.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=False) and not DEBUG
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=SECURE_SSL_REDIRECT)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0)
if SECURE_HSTS_SECONDS < 0:
    raise ImproperlyConfigured("DJANGO_HSTS_SECONDS must be 0 (no header) or a positive number of seconds.")
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", default=SECURE_HSTS_SECONDS > 0)
# Behind nginx (docs/deploy.md), which sets X-Forwarded-Proto and overwrites X-Forwarded-For. Only ever
# on behind a proxy that does so: otherwise any client could claim to be on HTTPS or at any address.
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
# A sign-in lasts at most SESSION_COOKIE_AGE (the server-side expiry, whatever the browser does) and, by
# default, ends when the browser closes: reviewers often work on shared newsroom machines.
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_COOKIE_AGE", 12 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("DJANGO_SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp 4.x format): scripts, styles, images and fonts only from our own
# origin, so an injected <script>, inline event handler or style attribute does nothing. Our templates
# have none (JavaScript lives in static/js/, styles in static/css/); JSON-LD blocks are data, not script,
# and CSP does not apply to them. The admin's own scripts and styles are files too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # one exception, by hash, for one attribute: the admin's history page (django-simple-history's
        # object_history_list.html) has <p class="paginator" style="border-top: 0">. The hash allows
        # exactly that value and nothing else (docs/security.md).
        "style-src-attr": ["'unsafe-hashes'", "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='"],
        # the admin's widgets use data: SVG icons in its stylesheets
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Embeds (evidence/embeds.py) ---------------------------------------------------------------------------
# Every page refuses to be framed (frame-ancestors 'none', X-Frame-Options DENY) except the claim card, which
# these publishers' origins may frame as well as our own pages: its own, narrow frame-ancestors.


def env_origins(name: str) -> list[str]:
    """Web origins (scheme://host[:port]), each checked: a path, a wildcard or a typo stops start-up."""
    origins = []
    for item in env_list(name, []):
        parts = urlsplit(item)
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path or parts.query or "*" in item:
            raise ImproperlyConfigured(f"{name}: {item!r} is not an origin like https://publisher.example")
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


EMBED_ORIGINS = env_origins("EVIDENCE_EMBED_ORIGINS")
# Where readers send corrections and questions (the about page shows it).
CONTACT_EMAIL = os.environ.get("EVIDENCE_CONTACT_EMAIL", "corrections@localhost").strip()
if "@" not in CONTACT_EMAIL:
    raise ImproperlyConfigured(f"EVIDENCE_CONTACT_EMAIL={CONTACT_EMAIL!r} is not an email address.")

# A claim page's "Report a problem" form needs no account: this many an hour from one address, then 429.
READER_REPORTS_PER_HOUR = env_int("EVIDENCE_READER_REPORTS_PER_HOUR", 5)
if READER_REPORTS_PER_HOUR < 1:
    raise ImproperlyConfigured("EVIDENCE_READER_REPORTS_PER_HOUR must be at least 1.")

# --- Request size -----------------------------------------------------------------------------------------
# Set deliberately rather than left to Django's defaults. A form post (no file) may carry 2.5 MB: an
# article's full text is far less. The admin's article form posts about ten fields per claim inline, so an
# article with a few hundred claims needs more than Django's default 1000 fields. A body with a file
# (the bibliography upload, capped at 5 MB by its form) may be DJANGO_MAX_UPLOAD_MB; bigger ones are
# refused from their Content-Length by evidence.middleware.RequestGuardMiddleware before being read.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
DATA_UPLOAD_MAX_NUMBER_FILES = 10
MAX_UPLOAD_SIZE = env_int("DJANGO_MAX_UPLOAD_MB", 10) * 1024 * 1024
# Uploads up to this size stay in memory; larger ones go to a temporary file that Django deletes after
# the request (the bibliography upload never stores the file: it reads it and keeps the text).
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

# --- Bibliography imports ---------------------------------------------------------------------------------
# An import holds the whole file, its parsed entries and their records in memory at once (docs/performance.md
# gives the peak memory measured for a 10,000-record and a 50 MB file), so the command, the upload form and
# the parser (evidence.importers.detect) refuse a file above this many bytes before reading it.
EVIDENCE_IMPORT_MAX_BYTES = env_int("EVIDENCE_IMPORT_MAX_BYTES", 50 * 1024 * 1024)
if EVIDENCE_IMPORT_MAX_BYTES <= 0:
    raise ImproperlyConfigured(
        f"EVIDENCE_IMPORT_MAX_BYTES={EVIDENCE_IMPORT_MAX_BYTES} must be a positive number of bytes."
    )

# --- Background jobs (Celery on Redis) --------------------------------------------------------------------
# Bibliography uploads, lookups and the retraction check run as Celery tasks (evidence/tasks.py). With no
# broker configured (a laptop, `make run`) a task runs in-process when it is sent, and the log says so once
# (evidence.jobs.enqueue): the page then waits for the import, as before.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "").strip()
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# In-process, a task's retries run at once (Celery's eager apply); an error it cannot handle is logged and
# recorded on its job (evidence.tasks), not raised into the page that sent it.
CELERY_TASK_EAGER_PROPAGATES = False
# the job row (evidence.models.ImportJob, RetractionCheck) is the result: no result backend to run
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged when it has finished, so a worker killed mid-import leaves it to run again; the
# tasks are idempotent (an import is one transaction; a finished job is not run twice).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Sending a task while Redis is down fails after this long instead of hanging the page (docs/operations.md)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
    # an unreachable host (not only a refused port) gives up as quickly
    "socket_connect_timeout": 2,
}
CELERY_TIMEZONE = TIME_ZONE
EVIDENCE_RETRACTION_CHECK_HOURS = env_int("EVIDENCE_RETRACTION_CHECK_HOURS", 24)
if EVIDENCE_RETRACTION_CHECK_HOURS <= 0:
    raise ImproperlyConfigured("EVIDENCE_RETRACTION_CHECK_HOURS must be a positive number of hours.")
CELERY_BEAT_SCHEDULE = {
    "check-retractions": {
        "task": "evidence.tasks.check_retractions",
        "schedule": timedelta(hours=EVIDENCE_RETRACTION_CHECK_HOURS),
    },
    # jobs whose message was lost (sent while Redis was down) are sent again
    "requeue-waiting-jobs": {"task": "evidence.tasks.requeue_waiting_jobs", "schedule": timedelta(minutes=5)},
    # reviews/tasks.py: the "due soon" reminders and the daily digest of notifications
    # (at fixed hours of TIME_ZONE, so a digest arrives at the same time every morning)
    "remind-due-assignments": {"task": "reviews.tasks.remind_due_assignments", "schedule": crontab(minute=0, hour=6)},
    "send-notification-digests": {
        "task": "reviews.tasks.send_notification_digests",
        "schedule": crontab(minute=0, hour=7),
    },
}

# --- Lookups in Crossref and NCBI E-utilities (evidence/lookup.py) -----------------------------------------
# Off by default: tests, CI and these machines have no internet. On, the study form's "Look up" button, the
# import option, `manage.py lookup_studies` and the scheduled retraction check ask the two services.
EVIDENCE_LOOKUP_ENABLED = env_bool("EVIDENCE_LOOKUP_ENABLED", default=False)
EVIDENCE_LOOKUP_MAILTO = os.environ.get("EVIDENCE_LOOKUP_MAILTO", "").strip()
EVIDENCE_LOOKUP_TIMEOUT = env_int("EVIDENCE_LOOKUP_TIMEOUT", 10)
if EVIDENCE_LOOKUP_TIMEOUT <= 0:
    raise ImproperlyConfigured("EVIDENCE_LOOKUP_TIMEOUT must be a positive number of seconds.")
EVIDENCE_LOOKUP_CACHE_SECONDS = env_int("EVIDENCE_LOOKUP_CACHE_SECONDS", 24 * 60 * 60)
if EVIDENCE_LOOKUP_CACHE_SECONDS < 0:
    raise ImproperlyConfigured("EVIDENCE_LOOKUP_CACHE_SECONDS must be 0 (no cache) or a number of seconds.")
NCBI_API_KEY = os.environ.get("NCBI_API_KEY", "").strip()

# --- Sign-in abuse (django-axes) -------------------------------------------------------------------------
# Axes checks every authenticate() call: after AXES_FAILURE_LIMIT failures for one username from one
# address, that pair is locked out for the cool-off time (a lockout by username alone would let anyone
# lock a reviewer out; by address alone, a newsroom behind one NAT). Attempts are kept in the database.
# Axes needs the request: tests sign in with client.force_login(), or client.login(request=HttpRequest()).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("DJANGO_AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("DJANGO_AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# axes' database handler, with the check and a reservation of the attempt made one atomic step in the
# shared cache, so parallel guesses get no more password checks than the limit (evidence/signin.py)
AXES_HANDLER = "evidence.signin.LockoutHandler"
AXES_LOCKOUT_CALLABLE = "evidence.middleware.lockout_response"  # templates/locked_out.html
AXES_CLIENT_IP_CALLABLE = "evidence.middleware.client_ip"
# Record failures and lockouts, not every successful sign-in (AccessLog would grow without bound).
AXES_DISABLE_ACCESS_LOG = True

# --- API (evidence/api/, docs/api.md) ----------------------------------------------------------------------
_RATE_PERIODS = {"s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day"}


def env_rate(name: str, default: str) -> str:
    """A DRF throttle rate such as "60/minute", refused at start-up when DRF could not read it."""
    raw = os.environ.get(name, "").strip() or default
    number, _, period = raw.partition("/")
    if not number.isdigit() or int(number) < 1 or period not in _RATE_PERIODS:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a rate; use e.g. 60/minute, 1000/hour or 5/second.")
    return raw


REST_FRAMEWORK = {
    # Token first: an anonymous request to a write endpoint then gets 401 with WWW-Authenticate: Token
    # (SessionAuthentication alone would answer 403). Sessions are for the browser and enforce CSRF.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Reads are public; each write names its permissions (evidence/api/permissions.py).
    "DEFAULT_PERMISSION_CLASSES": ["evidence.api.permissions.ActionPermissions"],
    # JSON only: no browsable HTML API (the interactive docs at /api/docs/ serve that purpose).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser, refusing bodies nested past evidence.jsonlimits.MAX_DEPTH with a 400
    "DEFAULT_PARSER_CLASSES": ["evidence.api.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "evidence.api.pagination.Pagination",
    "DEFAULT_THROTTLE_CLASSES": ["evidence.api.throttling.AnonThrottle", "evidence.api.throttling.UserThrottle"],
    # Whose address a throttle counts: DRF's default (None) takes the whole X-Forwarded-For header, which any
    # client can set to a new value per request and so escape the anonymous and token rates. Behind our one
    # proxy, the entry it appended (the right-most, as evidence.middleware.client_ip); else REMOTE_ADDR.
    "NUM_PROXIES": 1 if BEHIND_PROXY else 0,
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("DJANGO_API_ANON_RATE", "60/minute"),
        "user": env_rate("DJANGO_API_USER_RATE", "600/minute"),
        "token": env_rate("DJANGO_API_TOKEN_RATE", "10/hour"),
    },
    "EXCEPTION_HANDLER": "evidence.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "evidence.api.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # DRF's DEFAULT_VERSIONING is off: the API is version 1 until a change breaks clients (docs/api.md).
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Evidence review API",
    "DESCRIPTION": (
        "Read everything a reader can (articles, claims with their published verdicts, studies, citations, "
        "published reviews, flags) and, signed in, do what your role allows on the pages: reviewers rate "
        "claims, curators edit studies and citations, editors raise and resolve flags, adjudicate and publish. "
        "See docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # separate request and response components, so read-only fields are not asked for in requests
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the drf-spectacular-sidecar package, served as our own static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": False, "displayOperationId": False},
    "ENUM_NAME_OVERRIDES": {
        "CertaintyEnum": "reviews.models.Certainty",
        "VerdictEnum": "reviews.models.Verdict",
        "ClaimStatusEnum": "evidence.models.ClaimStatus",
        "FlagStatusEnum": "reviews.models.FlagStatus",
        "RetractionStatusEnum": "evidence.models.RetractionStatus",
        # one name for the five GRADE downgrade domains' rating, and for the reviews' GRADE choices
        "ConcernEnum": "reviews.grade.Concern",
        "EvidenceDesignEnum": "reviews.grade.EvidenceDesign",
        "LargeEffectEnum": "reviews.grade.LargeEffect",
        "ConflictOfInterestEnum": "reviews.models.Conflict",
    },
}

# --- History --------------------------------------------------------------------------------------------
# simple_history writes a history row on every save; services avoid no-op saves so that running the
# seed import twice leaves the history unchanged.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# --- Logging ----------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # failed sign-ins and lockouts are WARNING; its INFO lines (a start-up banner that would open
        # every management command's output, the handler's chatter) say nothing an operator needs
        "axes": {"level": "WARNING"},
        # httpx logs every request at INFO; lookups report their own outcome (evidence.lookup)
        "httpx": {"level": "WARNING"},
    },
}
