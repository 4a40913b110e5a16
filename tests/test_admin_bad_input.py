"""Bad input to the admin (issue 17, item 22 and the study's JSON fields): a form error or an empty
list, never a server error."""

from __future__ import annotations

import json
from datetime import date

import pytest

from evidence.models import Article, Study
from tests import builders
from tests.test_admin_roles import admin_url, form_errors, signed_in, submit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("year", ["99999999999999999999", "9999", "10000", "0", "-5", "abc", "２０２４", " 2024"])
def test_a_year_out_of_range_in_the_article_date_filter_is_not_a_server_error(make_user, year):
    builders.claim()
    client = signed_in(make_user(superuser=True))
    response = client.get(admin_url(Article, "changelist"), {"published_on__year": year})
    assert response.status_code in (200, 302), response.status_code


def test_a_year_in_range_still_filters_the_article_list(make_user):
    builders.article(title="Published in 2024", published_on=date(2024, 5, 1))
    builders.article(title="Published in 2023", published_on=date(2023, 5, 1))
    client = signed_in(make_user(superuser=True))
    response = client.get(admin_url(Article, "changelist"), {"published_on__year": "2024"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Published in 2024" in html and "Published in 2023" not in html


AUTHORS_OF_THE_WRONG_SHAPE = {
    "a string": '"Berman, Robert M."',
    "a list of numbers": "[1, 2, 3]",
    "an object": '{"family": "Berman", "given": "Robert M."}',
    "a list of strings": '["Berman", "Zarate"]',
    "a name with a number": '[{"family": "Berman", "given": 7}]',
    "an empty name": "[{}]",
    "a number": "42",
}


@pytest.mark.parametrize("authors", AUTHORS_OF_THE_WRONG_SHAPE.values(), ids=AUTHORS_OF_THE_WRONG_SHAPE.keys())
def test_study_authors_of_the_wrong_shape_are_a_form_error(make_user, authors):
    study = builders.study(title="Ketamine in depression", authors=[{"family": "Berman", "given": "R. M."}])
    client = signed_in(make_user(superuser=True))
    url = admin_url(Study, "change", study.pk)
    response = submit(client, url, "study", {"authors": authors})
    assert "authors" in form_errors(response)
    study.refresh_from_db()
    assert study.authors == [{"family": "Berman", "given": "R. M."}]
    # and the study list and pages still show the stored names
    assert client.get(admin_url(Study, "changelist")).status_code == 200


def test_study_authors_in_the_right_shape_are_saved(make_user):
    study = builders.study(title="Ketamine in depression")
    client = signed_in(make_user(superuser=True))
    names = '[{"family": "Zarate", "given": "Carlos A."}, {"literal": "SUSTAIN-1 investigators"}]'
    response = submit(client, admin_url(Study, "change", study.pk), "study", {"authors": names})
    assert response.status_code == 302
    study.refresh_from_db()
    assert study.authors == [{"family": "Zarate", "given": "Carlos A."}, {"literal": "SUSTAIN-1 investigators"}]


@pytest.mark.parametrize("authors", ["Berman", [1, 2], {"family": "Berman"}, [{"family": 7}]])
def test_the_api_applies_the_same_rule_to_authors(client, make_user, authors):
    client.force_login(make_user("Curators"))
    body = {"title": "A trial", "doi": "10.5555/authors.api", "authors": authors}
    response = client.post("/api/studies/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert "A list of CSL names" in json.dumps(response.json())
    assert not Study.objects.filter(doi="10.5555/authors.api").exists()
