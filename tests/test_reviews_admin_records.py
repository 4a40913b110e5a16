"""Verdict versions and review rounds in the back office: listed and shown to whoever may view them, never
added, changed or deleted there (the services write them; an edit would rewrite what readers were shown)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from reviews.models import ReviewRound, VerdictVersion
from reviews.services import claims_send_back
from tests.builders import article_with_claims, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(make_user):
    claim = article_with_claims(1).claims.get()
    publish(claim)
    editor = make_user("Editors", username="sender")
    claims_send_back(claims=[claim], reason="A new trial was published.", user=editor)
    return VerdictVersion.objects.get(claim=claim), ReviewRound.objects.get(claim=claim)


@pytest.fixture
def admin_client_(make_user) -> Client:
    client = Client()
    client.force_login(make_user(username="root", superuser=True))
    return client


@pytest.mark.parametrize("model", ["verdictversion", "reviewround"])
def test_the_records_are_listed_and_shown_read_only(records, admin_client_, model):
    record = records[0] if model == "verdictversion" else records[1]
    listing = admin_client_.get(reverse(f"admin:reviews_{model}_changelist"))
    assert listing.status_code == 200
    assert f"/admin/reviews/{model}/{record.pk}/change/" in listing.content.decode()
    assert f"/admin/reviews/{model}/add/" not in listing.content.decode()

    shown = admin_client_.get(reverse(f"admin:reviews_{model}_change", args=[record.pk]))
    assert shown.status_code == 200
    assert 'name="_save"' not in shown.content.decode()


@pytest.mark.parametrize("model", ["verdictversion", "reviewround"])
def test_the_records_cannot_be_added_changed_or_deleted(records, admin_client_, model):
    record = records[0] if model == "verdictversion" else records[1]
    assert admin_client_.get(reverse(f"admin:reviews_{model}_add")).status_code == 403
    assert admin_client_.post(reverse(f"admin:reviews_{model}_change", args=[record.pk]), {}).status_code == 403
    assert (
        admin_client_.post(reverse(f"admin:reviews_{model}_delete", args=[record.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert type(record).objects.filter(pk=record.pk).exists()


def test_the_round_reason_is_searchable(records, admin_client_):
    found = admin_client_.get(reverse("admin:reviews_reviewround_changelist"), {"q": "new trial"})
    assert found.status_code == 200
    assert found.context["cl"].result_count == 1
