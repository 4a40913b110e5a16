"""The migrations describe the models exactly, and the roles migration creates the three groups as designed."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

pytestmark = pytest.mark.django_db

# What each role may do, written out here rather than imported from the migration, so a change to the
# migration's ROLES has to be made twice, on purpose.
VIEW_ARTICLES_AND_CLAIMS = {"evidence.view_article", "evidence.view_claim"}
EXPECTED = {
    # studies, citations, imports; claims and articles read-only; no reviews
    "Curators": VIEW_ARTICLES_AND_CLAIMS
    | {
        "evidence.view_articlerevision",
        "evidence.add_study",
        "evidence.change_study",
        "evidence.view_study",
        "evidence.add_citation",
        "evidence.change_citation",
        "evidence.delete_citation",
        "evidence.view_citation",
        "reviews.view_flag",
    },
    # their own reviews (the admin narrows change to the reviewer's own); everything else read-only
    "Reviewers": VIEW_ARTICLES_AND_CLAIMS
    | {
        "evidence.view_study",
        "evidence.view_citation",
        "reviews.add_review",
        "reviews.change_review",
        "reviews.view_review",
    },
    # articles, claims, flags and adjudication; every review read-only; studies read-only
    "Editors": VIEW_ARTICLES_AND_CLAIMS
    | {
        "evidence.add_article",
        "evidence.change_article",
        "evidence.view_articlerevision",
        "evidence.add_claim",
        "evidence.change_claim",
        "evidence.view_study",
        "evidence.view_citation",
        "reviews.view_review",
        "reviews.view_others_reviews",
        "reviews.add_flag",
        "reviews.change_flag",
        "reviews.view_flag",
        "reviews.view_consensus",
        "reviews.adjudicate_claim",
        "reviews.publish_verdict",
        # reviews 0008: the about page's texts, and reader reports
        "evidence.change_sitepage",
        "evidence.view_sitepage",
        "reviews.view_readerreport",
        "reviews.change_readerreport",
        # reviews 0010: assigning reviewers to claims
        "reviews.assign_reviewers",
    },
}


def test_no_migrations_are_pending():
    """makemigrations --check exits with status 1 when a model differs from its migrations."""
    try:
        call_command("makemigrations", "--check", "--dry-run", verbosity=0)
    except SystemExit as exc:
        pytest.fail(f"models have changes without a migration (makemigrations exited {exc.code}); run makemigrations")


def test_the_roles_are_exactly_the_three_groups():
    assert set(Group.objects.values_list("name", flat=True)) == set(EXPECTED)


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_has_exactly_its_permissions(role: str):
    granted = {
        f"{app_label}.{codename}"
        for app_label, codename in Group.objects.get(name=role).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }
    assert granted == EXPECTED[role], (
        f"{role}: missing {sorted(EXPECTED[role] - granted)}, unexpected {sorted(granted - EXPECTED[role])}"
    )
