"""The OpenAPI schema: valid, complete (every endpoint, parameter and error answer), and true. Schemathesis
generates requests from /api/schema/ and checks every answer against it: no server error, and every
status, header and body as the schema says. Reads are made anonymously, writes as an administrator (who
may make every one), with a bounded number of examples per operation."""

from __future__ import annotations

import json
import os
import re

import pytest
import schemathesis
import yaml
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.config import SchemathesisConfig

from reviews.services import claims_send_back
from tests.builders import FlagFactory, article_with_claims, cite, publish, rate, trial

# --- The schema itself -------------------------------------------------------------------------------------


@pytest.fixture
def schema_doc(client, db) -> dict:
    response = client.get(reverse("api:schema"))
    assert response.status_code == 200
    return yaml.safe_load(response.content)


@pytest.mark.django_db
def test_schema_validates_without_warnings(tmp_path):
    """What CI would run: manage.py spectacular --validate --fail-on-warn (in-process, on the test database)."""
    output = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(output))
    assert output.read_text().startswith("openapi: 3.0.3")


def test_schema_describes_every_endpoint(schema_doc):
    paths = schema_doc["paths"]
    expected = {
        "/api/articles/": {"get"},
        "/api/articles/{slug}/": {"get"},
        "/api/claims/": {"get"},
        "/api/claims/{id}/": {"get"},
        "/api/claims/{id}/review/": {"get", "put"},
        "/api/claims/{id}/adjudicate/": {"post"},
        "/api/claims/{id}/publish/": {"post"},
        "/api/studies/": {"get", "post"},
        "/api/studies/{id}/": {"get", "put", "patch"},
        "/api/citations/": {"get", "post"},
        "/api/citations/{id}/": {"get", "put", "patch", "delete"},
        "/api/flags/": {"get", "post"},
        "/api/flags/{id}/": {"get"},
        "/api/flags/{id}/resolve/": {"post"},
        "/api/flags/{id}/dismiss/": {"post"},
        "/api/reviews/": {"get"},
        "/api/reviews/{id}/": {"get"},
        "/api/auth/token/": {"post"},
    }
    assert {path: set(ops) - {"parameters"} for path, ops in paths.items()} == expected


def test_schema_describes_verdict_versions_and_rounds(schema_doc):
    components = schema_doc["components"]["schemas"]
    detail = components["ClaimDetail"]["properties"]
    assert {"verdict_versions", "under_rereview"} <= set(detail)
    assert set(components["VerdictVersion"]["properties"]) >= {"number", "round", "verdict", "how_reached", "html_url"}
    assert {"version", "how_reached", "n_reviews"} <= set(components["PublishedConsensus"]["properties"])
    assert "round" in components["Review"]["properties"]


def test_schema_lists_the_filtersets_parameters(schema_doc):
    from evidence.filters import ClaimFilter, StudyFilter

    def params(path: str) -> set[str]:
        return {p["name"] for p in schema_doc["paths"][path]["get"]["parameters"]}

    assert params("/api/claims/") == set(ClaimFilter.base_filters) | {"page", "page_size"}
    assert params("/api/studies/") == set(StudyFilter.base_filters) | {"page", "page_size"}
    verdict = next(p for p in schema_doc["paths"]["/api/claims/"]["get"]["parameters"] if p["name"] == "verdict")
    assert "unreviewed" in verdict["schema"]["enum"]


def test_schema_documents_the_error_answers(schema_doc):
    paths = schema_doc["paths"]
    every_code = set()
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            every_code |= codes
            assert {"401", "429"} <= codes, (method, path)
            if method in ("post", "put", "patch") and path != "/api/auth/token/":
                assert {"400", "403"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref in ("#/components/schemas/Error", "#/components/schemas/ValidationError")
            assert operation["responses"]["429"]["headers"]["Retry-After"]
    assert every_code >= {"200", "201", "204", "400", "401", "403", "404", "429"}
    error = schema_doc["components"]["schemas"]["ValidationError"]
    assert set(error["required"]) == {"status", "code", "detail"} and "errors" in error["properties"]


def test_every_list_parameter_given_empty_counts_as_not_given(schema_doc, client, make_user):
    """The schema says every optional query parameter may be empty (the pages' forms send ?year_max= for an
    empty box), the year bounds declared over StudyFilter's own included; and the API answers so: the same
    list as with no parameter at all."""
    article = article_with_claims(2)
    claim = article.claims.first()
    cite(claim, trial(doi="10.5555/empty.parameters"))
    for _ in range(2):
        rate(claim, make_user("Reviewers"), "moderate", "supported")
    publish(claim)  # reviews are public once the claim's verdict is
    FlagFactory(claim=claim)
    checked = 0
    for path, operations in schema_doc["paths"].items():
        if "{" in path or "get" not in operations:
            continue
        unfiltered = client.get(path)
        assert unfiltered.status_code == 200, path
        for parameter in operations["get"]["parameters"]:
            assert parameter.get("allowEmptyValue") is True, (path, parameter["name"])
            empty = client.get(path, {parameter["name"]: ""})
            assert empty.status_code == 200, (path, parameter["name"], empty.content)
            assert empty.json()["count"] == unfiltered.json()["count"] > 0, (path, parameter["name"])
            checked += 1
    assert checked >= 40


def test_writes_need_credentials_and_reads_do_not(schema_doc):
    claims = schema_doc["paths"]["/api/claims/"]["get"]
    assert {} in claims["security"]
    create = schema_doc["paths"]["/api/studies/"]["post"]
    assert {} not in create["security"] and {"tokenAuth": []} in create["security"]
    assert schema_doc["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"


# --- The interactive docs ----------------------------------------------------------------------------------


def test_docs_page_runs_under_the_content_security_policy(client, db):
    response = client.get(reverse("api:docs"))
    assert response.status_code == 200
    html = response.content.decode()
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    # no inline script or style, and nothing from another origin: every script and stylesheet is ours
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline <script>"
    assert "<style" not in html and " style=" not in html
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources and all(src.startswith("/") and not src.startswith("//") for src in sources), sources
    for src in sources:
        if src.startswith(django_settings.STATIC_URL if django_settings.STATIC_URL.startswith("/") else "/static/"):
            assert finders.find(src.split("/static/", 1)[1]), f"{src} is not a static file we ship"
    # the start-up script the page loads: a script file, naming our schema
    script_url = re.search(r'<script src="(/api/docs/\?[^"]*)"', html).group(1)
    script = client.get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert reverse("api:schema") in script.content.decode()


def test_docs_and_schema_load_from_the_sidecar_not_a_cdn(client, db):
    html = client.get(reverse("api:docs")).content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html


# --- Schemathesis: the answers are what the schema says ----------------------------------------------------

# Values valid for the schema may still break a rule it cannot express (a DOI that is not one, a slug of
# no article, adjudicating a claim nobody reviewed): a 400 with the reasons is the right answer to those.
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]}}}
)
# API_FUZZ_EXAMPLES=200 for a longer hunt on a developer's machine; CI runs the bounded default
EXAMPLES_PER_OPERATION = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))


@pytest.fixture
def api_world(db, make_user, settings) -> dict:
    """A small world in which writes can succeed: claims with citations, reviews, a published verdict, flags;
    an administrator's token; rates high enough not to throttle the run."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute", "token": "100000/minute"},
    }
    article = article_with_claims(3)
    claims = list(article.claims.order_by("pk"))
    studies = [trial(doi=f"10.5555/schemathesis.{i}") for i in range(3)]
    for claim, cited in zip(claims, studies, strict=True):
        cite(claim, cited)
    reviewers = [make_user("Reviewers"), make_user("Reviewers")]
    for reviewer in reviewers:
        rate(claims[0], reviewer, "moderate", "supported")
    publish(claims[0])
    # back in re-review: the claim's detail has a verdict version and a round under way (issue 19)
    claims_send_back(claims=[claims[0]], reason="an editor asked")
    rate(claims[1], reviewers[0], "low", "unsupported")
    FlagFactory(claim=claims[1])
    admin = make_user(superuser=True)
    return {
        "token": Token.objects.create(user=admin).key,
        "slug": article.slug,
        "ids": {
            "claims": [c.pk for c in claims],
            "studies": [s.pk for s in studies],
            "citations": list(article.claims.values_list("citations", flat=True)),
            "flags": list(article.claims.values_list("flags", flat=True).exclude(flags=None)),
            "reviews": list(article.claims.values_list("reviews", flat=True).exclude(reviews=None)),
        },
    }


def generated_schema() -> dict:
    """The document /api/schema/ serves, generated as its view does (test_served_schema_is_the_tested_one
    checks they are the same). Generating it reads no database, so it can happen while tests are collected."""
    generator = SchemaGenerator()
    return json.loads(OpenApiJsonRenderer().render(generator.get_schema(request=None, public=True)))


# Loaded once, when the tests are collected: schemathesis's loader from a pytest fixture does not work with
# pytest 9. The requests go to the WSGI application itself, in the test's process and transaction.
schema = schemathesis.openapi.from_dict(generated_schema(), config=CONFIG)
schema.app = WSGIHandler()


@pytest.fixture
def _requests_keep_the_test_transaction():
    """Django's test client does this around each request: the request signals must not close the
    connection that holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _point_at_existing_records(case, world: dict) -> None:
    """Half the generated ids are swapped for ids that exist, so the operations' success answers are
    exercised too (random integers almost never name a record)."""
    parameters = case.path_parameters or {}
    if "slug" in parameters and len(str(parameters["slug"])) % 2 == 0:
        parameters["slug"] = world["slug"]
    identifier = parameters.get("id")
    if isinstance(identifier, int) and identifier % 2 == 0:
        resource = case.path.split("/")[2]
        existing = world["ids"].get(resource) or [identifier]
        parameters["id"] = existing[identifier % len(existing)]


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    # the same examples on every CI run (a failure there is reproducible); new ones on each local run
    derandomize=os.environ.get("CI") == "true",
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@pytest.mark.slow
def test_api_answers_as_its_schema_says(case, api_world, _requests_keep_the_test_transaction):
    _point_at_existing_records(case, api_world)
    if case.method.upper() in ("GET", "HEAD"):
        case.call_and_validate()
    else:
        case.call_and_validate(headers={"Authorization": f"Token {api_world['token']}"})


def test_served_schema_is_the_tested_one(client, db):
    """Schemathesis tests the schema generated at collection; /api/schema/ serves the same document."""
    served = client.get(reverse("api:schema"), {"format": "json"})
    assert served.status_code == 200
    assert served.json() == generated_schema()
    operations = [(path, m) for path, ops in served.json()["paths"].items() for m in ops if m != "parameters"]
    assert len(operations) == 27  # and the parametrised test above runs once for each
