"""The services that add and edit articles and claims one at a time (the admin's write path)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from evidence.models import Article, ArticleRevision, Claim
from evidence.services import (
    article_create,
    article_delete,
    article_update,
    claim_create,
    claim_delete,
    claim_update,
)
from tests import builders

pytestmark = pytest.mark.django_db


def test_claim_create_anchors_the_quote_where_it_occurs_once(make_user):
    editor = make_user("Editors")
    article = builders.article()
    quote = "MDMA makes people feel close to each other."
    claim = claim_create(article=article, values={"key": "M1", "quote": quote, "claim_type": "mechanism"}, user=editor)
    claim.refresh_from_db()
    start = builders.TEXT.index(quote)
    assert (claim.start, claim.end, claim.section) == (start, start + len(quote), "Background")
    assert (claim.prefix, claim.suffix) == (
        builders.TEXT[start - 32 : start],
        builders.TEXT[claim.end : claim.end + 32],
    )
    assert claim.status == Claim.Status.AWAITING_REVIEW
    version = claim.history.get()
    assert (version.history_user, version.history_change_reason) == (editor, "created")


@pytest.mark.parametrize(
    "quote, reason", [("Ketamine cures everything.", "does not occur"), ("Ketamine", "occurs 2 times"), ("", "empty")]
)
def test_claim_create_refuses_a_quote_missing_ambiguous_or_empty(quote: str, reason: str):
    article = builders.article()
    with pytest.raises(ValidationError) as refused:
        claim_create(article=article, values={"quote": quote, "claim_type": "efficacy"})
    assert reason in " ".join(refused.value.message_dict["quote"])
    assert not Claim.objects.exists()


@pytest.mark.parametrize("field, value", [("status", "published"), ("start", 0), ("section", "Risks")])
def test_the_claim_services_refuse_workflow_and_anchor_fields(field: str, value):
    article = builders.article()
    quote = "Ketamine lifts mood within hours."
    with pytest.raises(ValidationError, match=field):
        claim_create(article=article, values={"quote": quote, "claim_type": "efficacy", field: value})
    claim = builders.claim(article, quote)
    with pytest.raises(ValidationError, match=field):
        claim_update(claim=claim, values={field: value})
    assert Claim.objects.values_list("status", "start", "section").get() == (
        Claim.Status.AWAITING_REVIEW,
        claim.start,
        "Background",
    )


def test_claim_create_refuses_a_key_the_article_uses():
    article = builders.article()
    builders.claim(article, key="K1")
    with pytest.raises(ValidationError):
        claim_create(
            article=article, values={"key": "K1", "quote": "Both drugs raise blood pressure.", "claim_type": "safety"}
        )
    assert Claim.objects.count() == 1


def test_claim_update_saves_what_changed_and_anchors_a_new_quote(make_user):
    editor = make_user("Editors")
    claim = builders.claim(quote="Ketamine lifts mood within hours.", status=Claim.Status.PUBLISHED)
    claim.history.all().delete()

    claim_update(claim=claim, values={"substance": "ketamine", "quote": claim.quote}, user=editor)
    moved = claim_update(claim=claim, values={"quote": "Both drugs raise blood pressure."}, user=editor)

    moved.refresh_from_db()
    start = builders.TEXT.index("Both drugs raise blood pressure.")
    assert (moved.substance, moved.start, moved.section) == ("ketamine", start, "Risks")
    assert moved.status == Claim.Status.PUBLISHED  # the review workflow's, untouched
    reasons = list(moved.history.order_by("history_date").values_list("history_change_reason", flat=True))
    assert reasons == ["edited: substance", "edited: quote, start, end, prefix, suffix, section"]
    claim_update(claim=moved, values={"substance": "ketamine"}, user=editor)
    assert moved.history.count() == 2  # nothing changed, nothing written


def test_claim_update_refuses_a_quote_not_in_the_text_and_changes_nothing():
    claim = builders.claim()
    with pytest.raises(ValidationError) as refused:
        claim_update(claim=claim, values={"quote": "Not in the text.", "substance": "x"})
    assert "does not occur" in " ".join(refused.value.message_dict["quote"])
    assert Claim.objects.values_list("quote", "substance").get() == (claim.quote, "")


def test_claim_delete_records_who():
    claim = builders.claim()
    editor = builders.user()
    claim_delete(claim=claim, user=editor)
    assert not Claim.objects.exists()
    deleted = Claim.history.get(history_type="-")
    assert (deleted.history_user, deleted.history_change_reason) == (editor, "deleted")


def test_article_create_and_update_save_what_changed():
    editor = builders.user()
    article = article_create(
        values={"slug": "new", "title": "New", "text": builders.TEXT, "headings": builders.HEADINGS}, user=editor
    )
    assert article.history.get().history_user == editor
    claim = builders.claim(article, "Both drugs raise blood pressure.")

    lost = article_update(article=article, values={"title": "Newer", "slug": "new"}, user=editor)
    assert lost == [] and not ArticleRevision.objects.exists()
    assert Article.objects.get().title == "Newer"

    new_text = builders.TEXT.replace("Background\n", "Background\nAn added line.\n")
    assert article_update(article=article, values={"text": new_text}, user=editor) == []
    revision = ArticleRevision.objects.get()
    assert (revision.text, revision.created_by) == (builders.TEXT, editor)
    claim.refresh_from_db()
    assert new_text[claim.start : claim.end] == claim.quote  # re-anchored by article_revise


def test_article_update_sends_claims_the_new_text_lost_back_for_re_review():
    article = builders.article()
    claim = builders.claim(article, "Both drugs raise blood pressure.", status=Claim.Status.PUBLISHED)
    lost = article_update(article=article, values={"text": builders.TEXT.replace("Both drugs", "Neither drug")})
    assert [c.pk for c in lost] == [claim.pk]
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.NEEDS_REREVIEW


def test_article_services_refuse_bad_values():
    builders.article(slug="taken")
    with pytest.raises(ValidationError) as refused:
        article_create(values={"slug": "taken", "title": "Again", "text": "Text."})
    assert "slug" in refused.value.message_dict
    article = builders.article()
    with pytest.raises(ValidationError):
        article_update(article=article, values={"slug": "taken"})
    with pytest.raises(ValidationError):
        article_update(article=article, values={"created_at": None})
    assert Article.objects.filter(slug="taken").count() == 1


def test_article_delete_removes_its_claims():
    article = builders.article()
    builders.claim(article)
    article_delete(article=article, user=builders.user())
    assert not Article.objects.exists() and not Claim.objects.exists()
