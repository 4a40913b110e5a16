"""Production settings, security headers, the Content Security Policy, sign-in lockout and sessions.

docs/security.md says why each setting is what it is; these tests hold the settings to it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from tests.builders import publish

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
ARTICLE_SLUG = "ketamine-vs-mdma-in-psychotherapy"
PASSWORD = "a-long-test-password"

# The production environment docs/deploy.md documents (with a real secret and the real host name).
PRODUCTION = {
    "DJANGO_SECRET_KEY": "x7Rk2-production-like-secret-for-this-test-only-9fQzLw3mNc8vB1tY6uJ0hE5",
    "DJANGO_ALLOWED_HOSTS": "evidence.example.org",
    "DJANGO_SECURE_SSL_REDIRECT": "1",
    "DJANGO_HSTS_SECONDS": "31536000",
    "DJANGO_BEHIND_PROXY": "1",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def run_python(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """python with only PATH, the database and the given variables: settings are read at start-up."""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "evidence.settings",
        "DATABASE_URL": os.environ.get("DATABASE_URL", ""),
        **env,
    }
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name, None) for name in [
    "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER",
]}))
"""


def settings_with(**env: str) -> dict:
    result = run_python("-c", PROBE, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- Production settings ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_documented_production_environment_passes_check_deploy_without_warnings():
    result = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.slow
def test_check_deploy_warns_when_https_is_not_configured():
    """Without the HTTPS variables the deployment check says what is missing: the variables matter."""
    env = {k: v for k, v in PRODUCTION.items() if k in {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"}}
    result = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr + result.stdout


@pytest.mark.slow
def test_https_settings_follow_the_environment():
    production = settings_with(**PRODUCTION)
    assert production == {
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }
    # the test suite's and `make test`'s environment: production settings over plain http
    plain = settings_with(DJANGO_SECRET_KEY="k", DJANGO_ALLOWED_HOSTS="testserver")
    assert not plain["SECURE_SSL_REDIRECT"] and not plain["SESSION_COOKIE_SECURE"]
    assert plain["SECURE_HSTS_SECONDS"] == 0 and plain["SECURE_PROXY_SSL_HEADER"] is None
    # never an https redirect in debug, whatever the environment says
    debug = settings_with(DJANGO_DEBUG="1", DJANGO_SECURE_SSL_REDIRECT="1")
    assert not debug["SECURE_SSL_REDIRECT"]


@pytest.mark.parametrize("env", [{"DJANGO_HSTS_SECONDS": "-1"}, {"DJANGO_SECURE_SSL_REDIRECT": "maybe"}])
def test_a_bad_security_value_stops_start_up(env: dict[str, str]):
    result = run_python("-c", PROBE, DJANGO_SECRET_KEY="k", DJANGO_ALLOWED_HOSTS="testserver", **env)
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr
    assert next(iter(env)) in result.stderr.strip().splitlines()[-1]


def test_the_secret_key_comes_only_from_the_environment():
    source = (ROOT / "evidence" / "settings.py").read_text()
    assert re.findall(r"^SECRET_KEY = (.*)$", source, re.M) == ['os.environ.get("DJANGO_SECRET_KEY", "")']


@pytest.mark.django_db
@override_settings(
    SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=31536000, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")
)
def test_behind_the_proxy_http_is_redirected_and_https_gets_hsts(client):
    response = client.get("/claims/?q=x", HTTP_HOST="localhost")
    assert response.status_code == 301 and response["Location"] == "https://localhost/claims/?q=x"
    response = client.get("/claims/", HTTP_HOST="localhost", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000"


# --- Headers and the Content Security Policy -----------------------------------------------------------


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.fixture
def published(seed):
    """The seed article with one claim published, so its page carries ClaimReview JSON-LD."""
    claim = seed.claims.order_by("start").first()
    publish(claim)
    return seed


def public_urls(article) -> list[str]:
    claim = article.claims.order_by("start").first()
    study = claim.citations.first().study
    return [
        reverse("evidence:home"),
        article.get_absolute_url(),
        reverse("evidence:article-map", args=[article.slug]),
        reverse("evidence:gap-map"),
        reverse("evidence:claim-list"),
        claim.get_absolute_url(),
        reverse("evidence:study-list"),
        study.get_absolute_url(),
        reverse("login"),
        reverse("password_reset"),
        "/no/such/page/",
    ]


@pytest.mark.django_db
@pytest.mark.slow
def test_every_page_sends_the_security_headers(client, published):
    for url in public_urls(published):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        directives = csp_directives(response)
        assert directives["default-src"] == ["'self'"], url
        assert directives["script-src"] == ["'self'"], url
        assert directives["style-src"] == ["'self'"], url
        assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"], url
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert "'unsafe-eval'" not in response["Content-Security-Policy"]
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "same-origin", url
        assert response["X-Frame-Options"] == "DENY", url
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", url


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"(?:href|src|action)\s*=\s*[\"']?\s*javascript:", re.I)


def inline_code(html: str) -> list[str]:
    found = []
    for name, pattern in [
        ("inline script", INLINE_SCRIPT),
        ("inline style", INLINE_STYLE),
        ("event handler", EVENT_HANDLER),
        ("javascript: URL", JAVASCRIPT_URL),
    ]:
        found += [f"{name}: {m.group(0)[:80]}" for m in pattern.finditer(html)]
    return found


@pytest.mark.django_db
@pytest.mark.slow
def test_rendered_pages_have_no_inline_script_or_style(client, published, make_user):
    editor = make_user("Editors", "Reviewers")
    client.force_login(editor)
    claim = published.claims.order_by("start").first()
    urls = [
        *public_urls(published),
        reverse("reviews:queue"),
        reverse("reviews:review-claim", args=[claim.pk]),
        reverse("reviews:desk"),
        reverse("reviews:editor-claim", args=[claim.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert inline_code(response.content.decode()) == [], url


TEMPLATE_COMMENT = re.compile(r"{#.*?#}|{% comment %}.*?{% endcomment %}", re.S)


def test_our_templates_have_no_inline_script_or_style():
    """What the pages above do not reach (error pages, e-mails) is checked in the source."""
    offenders = {}
    for path in TEMPLATES.rglob("*.html"):
        found = inline_code(TEMPLATE_COMMENT.sub("", path.read_text()))
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}


# --- Sign-in abuse ---------------------------------------------------------------------------------------


def sign_in(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_repeated_failed_sign_ins_lock_the_username_from_that_address(client, make_user):
    user = make_user("Reviewers")
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = sign_in(client, user.username, "wrong password")
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = sign_in(client, user.username, "wrong password")
    assert response.status_code == 429
    text = response.content.decode()
    assert "Too many failed sign-ins" in text and f"{settings.AXES_COOLOFF_TIME.seconds // 60} minutes" in text
    assert 'class="site-header"' in text  # the site's own page, not a bare message
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    # the right password does not get in while the lockout lasts
    response = sign_in(client, user.username, PASSWORD)
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    # the admin's sign-in is the same authenticate() and is locked too
    response = client.post(reverse("admin:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429


@pytest.mark.django_db
def test_a_lockout_is_for_one_username_from_one_address(client, make_user):
    """Neither a guesser elsewhere nor a colleague on the same newsroom network is locked out."""
    victim, colleague = make_user("Reviewers"), make_user("Reviewers")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, victim.username, "guess", address="203.0.113.9")
    assert sign_in(client, victim.username, PASSWORD, address="203.0.113.9").status_code == 429
    response = sign_in(client, colleague.username, PASSWORD, address="203.0.113.9")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(colleague.pk)
    client.logout()
    response = sign_in(client, victim.username, PASSWORD, address="198.51.100.4")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(victim.pk)


@pytest.mark.django_db
def test_the_lockout_ends_after_the_cool_off(client, make_user):
    from axes.models import AccessAttempt

    user = make_user("Reviewers")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, user.username, "guess")
    assert sign_in(client, user.username, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(minutes=1))
    assert sign_in(client, user.username, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_a_successful_sign_in_resets_the_failures(client, make_user):
    user = make_user("Reviewers")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, user.username, "guess")
    assert sign_in(client, user.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, user.username, "guess")
    assert sign_in(client, user.username, PASSWORD).status_code == 302


@override_settings(BEHIND_PROXY=True)
def test_behind_the_proxy_the_lockout_uses_the_address_the_proxy_saw(rf):
    from evidence.middleware import client_ip

    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert client_ip(request) == "203.0.113.9"  # a client-supplied entry further left is ignored
    assert client_ip(rf.get("/", REMOTE_ADDR="127.0.0.1")) == "127.0.0.1"
    with override_settings(BEHIND_PROXY=False):
        assert client_ip(request) == "127.0.0.1"  # without a proxy the header is not trusted


@pytest.mark.parametrize("password", ["short", "password123", "12345678901234", "evidence-reviewer"])
def test_weak_passwords_are_refused(password: str):
    from django.contrib.auth.models import User

    with pytest.raises(ValidationError):
        validate_password(password, User(username="evidence-reviewer", email="reviewer@example.org"))


# --- Sessions --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_sign_in_ends_with_the_browser_and_after_the_session_age_whatever_the_browser(client, make_user):
    user = make_user("Reviewers")
    response = sign_in(client, user.username, PASSWORD)
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"] and not cookie["expires"]  # a browser-session cookie
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    session = Session.objects.get(session_key=cookie.value)
    lifetime = session.expire_date - timezone.now()
    assert (
        timedelta(seconds=settings.SESSION_COOKIE_AGE - 60) < lifetime <= timedelta(seconds=settings.SESSION_COOKIE_AGE)
    )
    assert settings.SESSION_COOKIE_AGE <= 12 * 60 * 60
    # once the server-side expiry has passed the cookie is worth nothing
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("reviews:queue"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- API throttling --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_rate_cannot_be_escaped_by_forging_x_forwarded_for(client, settings):
    """DRF counts anonymous clients by address; with its default NUM_PROXIES it would take the whole
    X-Forwarded-For header, which a client can change on every request."""
    from django.core.cache import cache

    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "3/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    cache.clear()
    statuses = [client.get("/api/articles/", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(1, 6)]
    assert statuses == [200, 200, 200, 429, 429]
    cache.clear()


@pytest.mark.django_db
def test_behind_the_proxy_the_api_counts_the_address_the_proxy_saw(client, settings):
    from django.core.cache import cache

    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "2/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates, "NUM_PROXIES": 1}
    cache.clear()

    def get(forwarded: str) -> int:
        return client.get("/api/articles/", HTTP_X_FORWARDED_FOR=forwarded).status_code

    # a forged entry on the left changes nothing: the proxy's own (right-most) entry is the client
    assert [get(f"10.0.0.{n}, 198.51.100.7") for n in range(3)] == [200, 200, 429]
    assert get("198.51.100.8") == 200  # another reader has their own allowance
    cache.clear()


@pytest.mark.django_db
def test_failed_api_token_requests_count_towards_the_sign_in_lockout(client, make_user):
    from django.core.cache import cache

    cache.clear()
    user = make_user("Reviewers")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            "/api/auth/token/", {"username": user.username, "password": "guess"}, content_type="application/json"
        )
        assert response.status_code == 400
    # locked out, on the API and on the sign-in page alike, even with the right password
    response = client.post(
        "/api/auth/token/", {"username": user.username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code in (400, 403, 429) and "token" not in response.json()
    assert sign_in(client, user.username, PASSWORD).status_code == 429
    cache.clear()
