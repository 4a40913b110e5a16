"""Every error from an /api/ URL is JSON with one shape, whatever raised it: DRF, Django's URL resolver, a
bug, a lost database, the request guard. Request rates are limited (429), and tokens are obtained with a
password, under their own rate."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path, reverse
from rest_framework.authtoken.models import Token
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from evidence.models import Study
from evidence.settings import env_rate
from tests.builders import grade_fields


@api_view(["GET"])
@permission_classes([AllowAny])
def api_bug(request):
    raise RuntimeError("a bug, with a secret in its message: s3cr3t")


def plain_bug(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug outside DRF: s3cr3t")


@api_view(["GET"])
@permission_classes([AllowAny])
def database_gone(request):
    raise OperationalError("could not connect to server: Connection refused")


urlpatterns = [
    path("api/test-errors/bug/", api_bug),
    path("api/test-errors/plain-bug/", plain_bug),
    path("api/test-errors/database-gone/", database_gone),
    path("test-errors/plain-bug/", plain_bug),
    path("", include("evidence.urls")),
]

pytestmark = [pytest.mark.urls("tests.test_api_errors"), pytest.mark.django_db]


def assert_json_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == status and body["detail"]
    if code is not None:
        assert body["code"] == code
    text = response.content.decode()
    assert "Traceback" not in text and "s3cr3t" not in text and "<html" not in text.lower()
    return body


def test_unknown_api_paths_are_json_404s(client):
    assert_json_error(client.get("/api/no-such-thing/"), 404, "not_found")
    assert_json_error(client.get("/api/claims/not-a-number/"), 404, "not_found")
    assert_json_error(client.get(reverse("api:claim-detail", args=[987654])), 404, "not_found")
    # the rest of the site keeps its HTML pages
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_wrong_method_is_405_with_allow(client, seed):
    response = client.delete(reverse("api:article-list"))
    assert_json_error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_unreadable_bodies_are_400_and_415(client, make_user):
    client = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=make_user('Curators')).key}")
    url = reverse("api:study-list")
    assert_json_error(client.post(url, "{not json", content_type="application/json"), 400, "parse_error")
    assert_json_error(client.post(url, {"title": "x"}), 415, "unsupported_media_type")  # a form post
    body = assert_json_error(
        client.post(url, {"doi": "not a doi", "year": "soon"}, content_type="application/json"), 400
    )
    assert body["code"] == "invalid" and set(body["errors"]) == {"year"}
    body = assert_json_error(client.post(url, {"doi": "not a doi"}, content_type="application/json"), 400)
    assert "is not a DOI" in body["errors"]["doi"][0]
    body = assert_json_error(client.post(url, {"authors": ["Smith"]}, content_type="application/json"), 400)
    assert set(body["errors"]) == {"authors"}
    # a record nobody could identify: the model's rule, reported by the service
    body = assert_json_error(client.post(url, {"title": ""}, content_type="application/json"), 400)
    assert "non_field_errors" in body["errors"]


def test_values_must_have_their_documented_json_type(make_user, seed):
    """DRF would turn 2020 into "2020", "2020" into 2020 and "yes" into True; the schema promises types."""
    client = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=make_user(superuser=True)).key}")
    claim = seed.claims.first()
    study = claim.citations.first().study
    refused = [
        (client.post, reverse("api:study-list"), {"title": 2020}, "title"),
        (client.post, reverse("api:study-list"), {"title": "T", "year": "2020"}, "year"),
        (client.post, reverse("api:study-list"), {"title": "T", "verified": "yes"}, "verified"),
        (
            client.post,
            reverse("api:citation-list"),
            {"claim": str(claim.pk), "study": study.pk, "relation": "supports"},
            "claim",
        ),
        (
            client.put,
            reverse("api:claim-review", args=[claim.pk]),
            {
                **grade_fields("low"),
                "certainty": "low",
                "verdict": "unsupported",
                "rationale": "x",
                "read_full_text": 1,
            },
            "read_full_text",
        ),
    ]
    for method, url, data, field in refused:
        body = assert_json_error(method(url, data, content_type="application/json"), 400, "invalid")
        assert set(body["errors"]) == {field}, (url, data, body)
    assert client.get(reverse("api:citation-list"), {"claim": "1.0"}).status_code == 400
    assert not Study.objects.filter(title="T").exists()


def test_duplicate_identifiers_name_the_study_that_has_them(make_user, seed):
    client = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=make_user('Curators')).key}")
    berman = Study.objects.get(citation_key="berman2000")
    doi = "https://doi.org/" + berman.doi.upper()
    body = assert_json_error(
        client.post(reverse("api:study-list"), {"title": "Again", "doi": doi}, content_type="application/json"), 400
    )
    assert f"already recorded for study {berman.pk}" in body["errors"]["doi"][0]


def test_a_bug_in_an_api_view_is_a_json_500(caplog):
    client = Client(raise_request_exception=False)
    body = assert_json_error(client.get("/api/test-errors/bug/"), 500, "server_error")
    assert set(body) == {"status", "code", "detail"}
    assert_json_error(client.get("/api/test-errors/plain-bug/"), 500, "server_error")
    # logged with the traceback, for us
    assert any("s3cr3t" in str(r.exc_info) for r in caplog.records if r.exc_info)
    # outside /api/ a bug is still the site's HTML 500 page
    page = client.get("/test-errors/plain-bug/")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


def test_a_lost_database_is_a_json_503_with_retry_after(client):
    response = client.get("/api/test-errors/database-gone/")
    assert_json_error(response, 503, "service_unavailable")
    assert response["Retry-After"] == "5"


def test_the_request_guard_answers_in_json(client, settings):
    assert_json_error(client.get(reverse("api:claim-list"), {"q": "a\x00b"}), 400, "bad_request")
    too_big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    assert_json_error(client.post(reverse("api:study-list"), too_big, content_type="application/json"), 413)


# --- Throttling -----------------------------------------------------------------------------------------


def with_rates(settings, **rates: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


def test_anonymous_clients_are_throttled(client, settings):
    with_rates(settings, anon="3/minute")
    for _ in range(3):
        assert client.get(reverse("api:article-list")).status_code == 200
    response = client.get(reverse("api:claim-list"))
    body = assert_json_error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60
    assert "throttled" in body["detail"].lower()
    # another address has its own allowance
    assert Client(REMOTE_ADDR="192.0.2.7").get(reverse("api:article-list")).status_code == 200


def test_signed_in_clients_have_their_own_rate(settings, make_user):
    with_rates(settings, anon="1/minute", user="4/minute")
    user = make_user("Reviewers")
    client = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    statuses = [client.get(reverse("api:article-list")).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


def test_anonymous_clients_have_only_the_anonymous_rate(client, settings):
    # DRF's user throttle also counts anonymous clients by address; ours leaves them to the anonymous rate
    with_rates(settings, anon="5/minute", user="2/minute")
    statuses = [client.get(reverse("api:article-list")).status_code for _ in range(6)]
    assert statuses == [200, 200, 200, 200, 200, 429]


def test_default_rates_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_API_ANON_RATE", "100/hour")
    assert env_rate("DJANGO_API_ANON_RATE", "60/minute") == "100/hour"
    monkeypatch.delenv("DJANGO_API_ANON_RATE")
    assert env_rate("DJANGO_API_ANON_RATE", "60/minute") == "60/minute"
    from django.core.exceptions import ImproperlyConfigured

    for bad in ("lots", "0/minute", "60/fortnight", "-1/second"):
        monkeypatch.setenv("DJANGO_API_ANON_RATE", bad)
        with pytest.raises(ImproperlyConfigured, match="DJANGO_API_ANON_RATE"):
            env_rate("DJANGO_API_ANON_RATE", "60/minute")


# --- Tokens ---------------------------------------------------------------------------------------------


def test_obtain_a_token_and_use_it(client, make_user):
    user = make_user("Editors", username="script-editor")
    response = client.post(
        reverse("api:token"),
        {"username": "script-editor", "password": "a-long-test-password"},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=user).key
    # the same token again, not a new one each time
    again = client.post(
        reverse("api:token"),
        {"username": "script-editor", "password": "a-long-test-password"},
        content_type="application/json",
    )
    assert again.json()["token"] == token
    mine = Client(HTTP_AUTHORIZATION=f"Token {token}").get(reverse("api:review-list"))
    assert mine.status_code == 200


def test_a_wrong_password_gets_no_token(client, make_user):
    make_user("Editors", username="script-editor")
    response = client.post(
        reverse("api:token"), {"username": "script-editor", "password": "guess"}, content_type="application/json"
    )
    body = assert_json_error(response, 400, "invalid")
    assert "Unable to log in" in body["errors"]["non_field_errors"][0]
    assert not Token.objects.exists()
    # counted as a failed sign-in, towards the same lockout as the sign-in page's (django-axes)
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.get(username="script-editor").failures_since_start == 1


def test_a_locked_out_account_gets_no_token(client, settings, make_user):
    settings.AXES_FAILURE_LIMIT = 2
    make_user("Editors", username="script-editor")
    for _ in range(2):
        client.post(
            reverse("api:token"), {"username": "script-editor", "password": "guess"}, content_type="application/json"
        )
    right = {"username": "script-editor", "password": "a-long-test-password"}
    response = client.post(reverse("api:token"), right, content_type="application/json")
    # locked out: even the right password is refused, with the same answer as a wrong one
    assert_json_error(response, 400, "invalid")
    assert not Token.objects.exists()


def test_token_attempts_are_throttled(client, settings, make_user):
    with_rates(settings, token="2/hour")
    make_user("Editors", username="script-editor")
    data = {"username": "script-editor", "password": "guess"}
    statuses = [client.post(reverse("api:token"), data, content_type="application/json").status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
    # even with the right password, until the hour has passed
    right = {"username": "script-editor", "password": "a-long-test-password"}
    assert client.post(reverse("api:token"), right, content_type="application/json").status_code == 429
