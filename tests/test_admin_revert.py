"""Reverting from the admin's history pages (django-simple-history's "revert" form) keeps the services' rules.

simple_history's revert form saves the old version's row as it stands, read-only workflow fields included,
and lets anyone who may *view* an object post it. These tests post the revert form as a browser would and
check the database afterwards: a claim is never republished by restoring its old status, a consensus or a
flag is never rewritten from a version, and a user who may only view an object changes nothing. What is
offered (articles, claims, studies, citations, reviews) goes through the same service as a change.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from evidence.models import ArticleRevision, Citation, Claim, Study
from evidence.services import (
    article_revise,
    article_update,
    citation_create,
    citation_delete,
    claim_update,
    study_set_retraction,
)
from reviews.consensus import publish_blockers
from reviews.models import Consensus, Flag, consensus_of
from reviews.services import claim_adjudicate, flag_close, flag_raise, verdict_publish
from tests import builders
from tests.builders import article_with_claims, cite, rate, trial
from tests.test_admin_roles import admin_url, form_data, form_errors, signed_in

pytestmark = pytest.mark.django_db


def revert(user: User, obj, version) -> object:
    """Open the revert form of ``version`` of ``obj`` as ``user`` and post it back unchanged."""
    client = signed_in(user)
    url = admin_url(type(obj), "simple_history", obj.pk, version.history_id)
    page = client.get(url)
    data = form_data(page, f"historical{type(obj)._meta.model_name}") if page.status_code == 200 else {}
    return client.post(url, {**data, "_save": "Save"})


def version_where(obj, **values):
    """The newest version of ``obj`` whose fields have ``values``."""
    return obj.history.filter(**values).order_by("-history_date", "-history_id").first()


@pytest.fixture
def editor(make_user) -> User:
    return make_user("Editors")


@pytest.fixture
def republished_scene(make_user, editor) -> Claim:
    """A claim whose verdict was published, then sent back for re-review because a study it relies on was
    retracted: the publish service now refuses it."""
    claim = article_with_claims(1).claims.get()
    paper = trial()
    cite(claim, paper)
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    verdict_publish(claim=claim, published_by=editor, rationale="Two trials agree.")
    study_set_retraction(study=paper, status=Study.RetractionStatus.RETRACTED)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.NEEDS_REREVIEW
    assert publish_blockers(claim, consensus_of(claim))  # the service would refuse to publish it now
    return claim


def test_reverting_a_claim_to_its_published_version_does_not_republish_it(republished_scene, editor):
    claim = republished_scene
    published = version_where(claim, status=Claim.Status.PUBLISHED)
    assert published is not None

    response = revert(editor, claim, published)

    assert response.status_code in {302, 403}, response.content[:2000]
    claim.refresh_from_db()
    assert claim.status == Claim.Status.NEEDS_REREVIEW
    assert Flag.objects.open().filter(claim=claim, reason=Flag.Reason.RETRACTED_SOURCE).exists()


def test_a_user_who_may_only_view_a_claim_cannot_revert_it(republished_scene, make_user):
    claim = republished_scene
    published = version_where(claim, status=Claim.Status.PUBLISHED)
    history_before = claim.history.count()

    response = revert(make_user("Reviewers"), claim, published)

    assert response.status_code == 403
    claim.refresh_from_db()
    assert (claim.status, claim.history.count()) == (Claim.Status.NEEDS_REREVIEW, history_before)


@pytest.fixture
def published_twice(make_user, editor) -> Claim:
    """A disputed claim adjudicated and published, then adjudicated again and republished."""
    claim = article_with_claims(1).claims.get()
    rate(claim, make_user("Reviewers"), "high", "supported")
    rate(claim, make_user("Reviewers"), "very_low", "unsupported")
    claim_adjudicate(claim=claim, certainty="moderate", verdict="supported", rationale="Holds.", adjudicated_by=editor)
    verdict_publish(claim=claim, published_by=editor)
    claim_adjudicate(
        claim=claim, certainty="low", verdict="partly_supported", rationale="Half holds.", adjudicated_by=editor
    )
    verdict_publish(claim=claim, published_by=editor)
    return claim


@pytest.mark.parametrize("which", ["the first publication", "before publication"])
def test_reverting_a_consensus_is_refused(published_twice, editor, which: str):
    consensus = Consensus.objects.get(claim=published_twice)
    if which == "the first publication":
        version = version_where(consensus, published_verdict="supported")
    else:
        version = version_where(consensus, published_verdict="", adjudicated_verdict="supported")
    assert version is not None
    before = Consensus.objects.filter(pk=consensus.pk).values().get()

    response = revert(editor, consensus, version)

    assert response.status_code == 403
    assert Consensus.objects.filter(pk=consensus.pk).values().get() == before


@pytest.mark.parametrize("raised_again", [False, True], ids=["alone", "raised-again"])
def test_reverting_a_closed_flag_to_its_open_version_is_refused(editor, raised_again: bool):
    claim = article_with_claims(1).claims.get()
    flag = flag_raise(claim=claim, reason=Flag.Reason.OVERSTATED, note="Says cures.", raised_by=editor)
    flag_close(flag=flag, status=Flag.Status.RESOLVED, closed_by=editor, note="Reworded by the author.")
    if raised_again:
        # the same problem raised again: reopening the first would make two open flags for one problem
        flag_raise(claim=claim, reason=Flag.Reason.OVERSTATED, note="Says cures again.", raised_by=editor)

    response = revert(editor, flag, version_where(flag, status=Flag.Status.OPEN))

    assert response.status_code == 403
    flag.refresh_from_db()
    assert (flag.status, flag.resolution_note) == (Flag.Status.RESOLVED, "Reworded by the author.")


# --- Reverts that are offered go through the services -------------------------------------------------------


def test_reverting_a_claim_restores_what_it_said_through_claim_update(republished_scene, editor):
    """The fields an editor may change come back; the status and the anchor stay the workflow's."""
    claim = republished_scene
    published = version_where(claim, status=Claim.Status.PUBLISHED)
    claim_update(claim=claim, values={"substance": "esketamine", "evidence_note": "Re-read."}, user=editor)

    response = revert(editor, claim, published)

    assert response.status_code == 302, response.content[:2000]
    claim.refresh_from_db()
    assert (claim.substance, claim.evidence_note) == (published.substance, published.evidence_note)
    assert claim.status == Claim.Status.NEEDS_REREVIEW
    latest = claim.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (editor, "edited: substance, evidence_note")


def test_reverting_a_claim_to_a_quote_the_text_no_longer_holds_is_refused_with_a_message(editor):
    claim = builders.claim(quote="Both drugs raise blood pressure.", key="K1")
    old = claim.history.get()
    article = claim.article
    new_text = article.text.replace("Both drugs raise blood pressure.", "Both drugs may raise blood pressure.")
    article_revise(article=article, text=new_text, headings=article.headings)
    claim_update(claim=claim, values={"quote": "Both drugs may raise blood pressure."})
    before = Claim.objects.filter(pk=claim.pk).values().get()

    response = revert(editor, claim, old)

    assert response.status_code == 200
    assert "does not occur" in " ".join(form_errors(response)["quote"])
    assert Claim.objects.filter(pk=claim.pk).values().get() == before


def test_reverting_a_review_goes_through_review_submit_for_its_author(make_user, editor):
    claim = article_with_claims(1).claims.get()
    author = make_user("Reviewers")
    first = rate(claim, author, "high", "supported", rationale="First reading.")
    rate(claim, author, "low", "unsupported", rationale="Second reading.")
    version = version_where(first, rationale="First reading.")

    assert revert(editor, first, version).status_code == 403  # editors read reviews, never write them
    assert Consensus.objects.get(claim=claim).certainty == "low"

    response = revert(author, first, version)

    assert response.status_code == 302, response.content[:2000]
    first.refresh_from_db()
    assert (first.certainty, first.verdict, first.rationale) == ("high", "supported", "First reading.")
    assert Consensus.objects.get(claim=claim).certainty == "high"  # review_submit refreshed it


def test_reverting_an_articles_headings_goes_through_article_revise(editor):
    article = builders.article()
    claim = builders.claim(article, "Both drugs raise blood pressure.")
    version = article.history.get()
    article_update(article=article, values={"headings": ["Background"]})
    assert Claim.objects.get(pk=claim.pk).section == "Background"

    response = revert(editor, article, version)

    assert response.status_code == 302, response.content[:2000]
    article.refresh_from_db()
    assert article.headings == ["Background", "Risks"]
    assert Claim.objects.get(pk=claim.pk).section == "Risks"  # re-anchored: the section follows the headings
    assert ArticleRevision.objects.filter(article=article).count() == 2


def test_a_deleted_citation_is_not_restored_from_its_history(make_user):
    claim = builders.claim()
    citation = citation_create(claim=claim, study=builders.study(), values={"relation": "supports"})
    version = citation.history.get()
    citation_delete(citation=citation)

    response = revert(make_user(superuser=True), version.instance, version)

    assert response.status_code == 403
    assert not Citation.objects.exists()


def test_the_revert_button_shows_only_where_a_revert_goes_through_a_service(republished_scene, editor, make_user):
    claim = republished_scene
    consensus = Consensus.objects.get(claim=claim)
    flag = Flag.objects.get(claim=claim)
    for user, obj, offered in [
        (editor, claim, True),
        (make_user("Reviewers"), claim, False),  # may view it, not change it
        (make_user("Curators"), claim, False),  # may link studies to it, not change it
        (editor, consensus, False),
        (editor, flag, False),
    ]:
        version = obj.history.order_by("history_date").first()
        page = signed_in(user).get(admin_url(type(obj), "simple_history", obj.pk, version.history_id))
        assert page.status_code == 200
        assert ('name="_save"' in page.content.decode()) is offered, (user, obj)
