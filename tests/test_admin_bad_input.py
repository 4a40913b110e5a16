"""Bad input to the admin (issue 17, item 22 and the study's JSON fields): a form error or an empty
list, never a server error."""

from __future__ import annotations

from datetime import date

import pytest

from evidence.models import Article
from tests import builders
from tests.test_admin_roles import admin_url, signed_in

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
