"""Separation of duties (issue 19, §3): nobody adjudicates or publishes a claim they reviewed in its current
round, a verdict needs two reviews by people other than its publisher, and the public sentence saying how a
verdict was reached says what happened.

The defect: a user in both Reviewers and Editors reviewed, adjudicated and published a claim alone, and the
public page then said "decided by an editor after the reviewers disagreed". Here that user is refused by
the service (one at a time and in bulk), the editor's page, the desk, the API and the admin; two other
reviewers and an editor who did not review succeed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from reviews import queues
from reviews.consensus import how_reached, publish_blockers
from reviews.models import Consensus
from reviews.services import (
    Adjudication,
    Publication,
    claim_adjudicate,
    claims_adjudicate_bulk,
    verdict_publish,
    verdicts_publish_bulk,
)
from tests.builders import article_with_claims, publish, rate

DECISION = {"certainty": "low", "verdict": "partly_supported", "rationale": "Half of it holds."}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def scene(make_user):
    """A claim reviewed by someone who is also an editor ("both") and by a plain reviewer, two levels apart
    with split verdicts (disputed), and an editor who reviewed nothing."""
    claim = article_with_claims(1).claims.get()
    both = make_user("Reviewers", "Editors", username="both")
    rate(claim, both, "high", "supported")
    rate(claim, make_user("Reviewers", username="rosa"), "low", "unsupported")
    return {"claim": claim, "both": both, "editor": make_user("Editors", username="ed")}


def consensus(claim) -> Consensus:
    return Consensus.objects.get(claim=claim)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def with_token(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")


# --- The services ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reviewer_who_is_an_editor_may_not_adjudicate_the_claim(scene):
    with pytest.raises(ValidationError, match="You reviewed this claim in its current round"):
        claim_adjudicate(claim=scene["claim"], adjudicated_by=scene["both"], **DECISION)
    assert not consensus(scene["claim"]).is_adjudicated
    at = timezone.now()
    with pytest.raises(ValidationError, match="You reviewed this claim in its current round"):
        claims_adjudicate_bulk(
            items=[Adjudication(claim=scene["claim"], adjudicated_by=scene["both"], at=at, **DECISION)]
        )
    assert not consensus(scene["claim"]).is_adjudicated


@pytest.mark.django_db
def test_a_reviewer_who_is_an_editor_may_not_publish_the_claim(scene, make_user):
    claim = scene["claim"]
    rate(claim, make_user("Reviewers"), "low", "partly_supported")  # a third review: two besides "both"
    claim_adjudicate(claim=claim, adjudicated_by=scene["editor"], **DECISION)
    assert publish_blockers(claim, consensus(claim), publisher=scene["editor"]) == []
    with pytest.raises(ValidationError, match="you reviewed it in its current round"):
        verdict_publish(claim=claim, published_by=scene["both"])
    with pytest.raises(ValidationError, match="you reviewed it in its current round"):
        verdicts_publish_bulk(items=[Publication(claim=claim, published_by=scene["both"], at=timezone.now())])
    assert not consensus(claim).is_published
    # the editor who reviewed nothing may
    row = verdict_publish(claim=claim, published_by=scene["editor"])
    assert (row.published_verdict, row.published_by) == ("partly_supported", scene["editor"])


@pytest.mark.django_db
def test_two_other_reviewers_and_an_editor_adjudicate_and_publish(make_user):
    claim = article_with_claims(1).claims.get()
    editor = make_user("Reviewers", "Editors")  # in both groups, but reviewed nothing of this claim
    rate(claim, make_user("Reviewers"), "high", "supported")
    rate(claim, make_user("Reviewers"), "very_low", "unsupported")
    claim_adjudicate(claim=claim, adjudicated_by=editor, **DECISION)
    row = verdict_publish(claim=claim, published_by=editor)
    assert (row.adjudicated_by, row.published_by, row.published_verdict) == (editor, editor, "partly_supported")


@pytest.mark.django_db
def test_publishing_needs_two_reviews_even_when_adjudicated(make_user):
    """An adjudication settles what reviewers said; it does not stand in for the second reviewer."""
    claim = article_with_claims(1).claims.get()
    editor = make_user("Editors")
    rate(claim, make_user("Reviewers"), "high", "supported")
    claim_adjudicate(claim=claim, adjudicated_by=editor, **DECISION)
    with pytest.raises(ValidationError, match="1 of the 2 reviews a verdict needs"):
        verdict_publish(claim=claim, published_by=editor)
    assert claim not in queues.ready_to_publish() and claim in queues.awaiting_reviews()
    rate(claim, make_user("Reviewers"), "high", "supported")  # agrees with the first: no new dispute
    assert claim in queues.ready_to_publish() and claim not in queues.awaiting_reviews()
    assert verdict_publish(claim=claim, published_by=editor).is_published


@pytest.mark.django_db
def test_a_review_by_the_publisher_does_not_count_towards_the_two(make_user):
    claim = article_with_claims(1).claims.get()
    both = make_user("Reviewers", "Editors")
    rate(claim, both, "moderate", "supported")
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    blockers = publish_blockers(claim, consensus(claim), publisher=both)
    assert any("you reviewed it" in b for b in blockers)
    assert any("1 of the 2 reviews a verdict needs, not counting yours" in b for b in blockers)
    assert publish_blockers(claim, consensus(claim), publisher=make_user("Editors")) == []


@pytest.mark.django_db
def test_an_adjudication_by_someone_who_then_reviewed_does_not_count(scene, make_user):
    """Adjudicating first and reviewing after is the same two duties in one hand: the adjudication stops
    counting, the claim goes back to the disputed queue, and another editor must decide."""
    claim, editor = scene["claim"], scene["editor"]
    claim_adjudicate(claim=claim, adjudicated_by=editor, **DECISION)
    assert claim in queues.ready_to_publish()
    rate(claim, editor, "moderate", "supported")  # the adjudicator (an Editor) files a review as well
    other = make_user("Editors")
    blockers = publish_blockers(claim, consensus(claim), publisher=other)
    assert any("adjudicated by one of its own reviewers" in b for b in blockers)
    assert claim not in queues.ready_to_publish() and claim in queues.disputed()
    with pytest.raises(ValidationError, match="adjudicated by one of its own reviewers"):
        verdict_publish(claim=claim, published_by=other)
    claim_adjudicate(claim=claim, adjudicated_by=other, **DECISION)
    assert claim in queues.ready_to_publish() and claim not in queues.disputed()
    assert verdict_publish(claim=claim, published_by=other).is_published


# --- The editor's pages, the API and the admin ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_editors_page_offers_neither_action_to_a_reviewer_and_says_why(scene, make_user):
    claim, both = scene["claim"], scene["both"]
    url = reverse("reviews:editor-claim", args=[claim.pk])
    page = signed_in(both).get(url).content.decode()
    adjudicate, publish = (reverse(f"reviews:{name}", args=[claim.pk]) for name in ("adjudicate", "publish"))
    assert f'action="{adjudicate}"' not in page and f'action="{publish}"' not in page  # no form posts there
    assert "You reviewed this claim in its current round, and nobody adjudicates a claim they reviewed" in page
    assert "Not ready to publish by you" in page and "You reviewed it in its current round" in page
    # another editor sees the adjudication form
    assert f'action="{adjudicate}"' in signed_in(scene["editor"]).get(url).content.decode()


@pytest.mark.django_db
def test_posting_to_the_editors_page_is_refused_with_the_reason(scene, make_user):
    claim, both = scene["claim"], scene["both"]
    client = signed_in(both)
    response = client.post(reverse("reviews:adjudicate", args=[claim.pk]), DECISION)
    assert response.status_code == 400 and "nobody adjudicates a claim they reviewed" in response.content.decode()
    assert not consensus(claim).is_adjudicated
    rate(claim, make_user("Reviewers"), "low", "partly_supported")  # a third review: two besides "both"
    claim_adjudicate(claim=claim, adjudicated_by=scene["editor"], **DECISION)
    response = client.post(reverse("reviews:publish", args=[claim.pk]), {"rationale": "Mine."})
    assert response.status_code == 400 and "nobody publishes a claim they reviewed" in response.content.decode()
    assert not consensus(claim).is_published


@pytest.mark.django_db
def test_the_desk_marks_the_claims_the_editor_reviewed(scene, make_user):
    claim = scene["claim"]
    rate(claim, make_user("Reviewers"), "low", "partly_supported")  # a third review: two besides "both"
    claim_adjudicate(claim=claim, adjudicated_by=scene["editor"], **DECISION)
    mark = "You reviewed it: another editor adjudicates and publishes it"
    desk = signed_in(scene["both"]).get(reverse("reviews:desk")).content.decode()
    ready = desk[desk.index('id="queue-publish"') :]
    assert claim.quote in ready and mark in ready
    queue = signed_in(scene["both"]).get(reverse("reviews:desk-queue", args=["publish"])).content.decode()
    assert mark in queue
    assert mark not in signed_in(scene["editor"]).get(reverse("reviews:desk")).content.decode()


@pytest.mark.django_db
def test_the_api_refuses_a_reviewer_with_400(scene, make_user):
    claim, both = scene["claim"], scene["both"]
    api = with_token(both)
    response = api.post(reverse("api:claim-adjudicate", args=[claim.pk]), DECISION, content_type="application/json")
    assert response.status_code == 400 and "nobody adjudicates a claim they reviewed" in response.content.decode()
    assert not consensus(claim).is_adjudicated
    rate(claim, make_user("Reviewers"), "low", "partly_supported")  # a third review: two besides "both"
    claim_adjudicate(claim=claim, adjudicated_by=scene["editor"], **DECISION)
    response = api.post(reverse("api:claim-publish", args=[claim.pk]), {}, content_type="application/json")
    assert response.status_code == 400 and "nobody publishes a claim they reviewed" in response.content.decode()
    assert not consensus(claim).is_published
    response = with_token(scene["editor"]).post(
        reverse("api:claim-publish", args=[claim.pk]), {}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["published_verdict"] == "partly_supported"


@pytest.mark.django_db
def test_the_admin_actions_refuse_a_reviewer_with_a_message(scene, make_user):
    claim, both = scene["claim"], scene["both"]
    client = signed_in(both)
    url = reverse("admin:reviews_consensus_changelist")
    selected = {"_selected_action": [str(claim.pk)], "index": "0"}
    response = client.post(url, {**selected, "action": "adjudicate_selected", **DECISION}, follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "Adjudicated 0 claim(s)." in page
    assert "nobody adjudicates a claim they reviewed" in page and not consensus(claim).is_adjudicated
    rate(claim, make_user("Reviewers"), "low", "partly_supported")  # a third review: two besides "both"
    claim_adjudicate(claim=claim, adjudicated_by=scene["editor"], **DECISION)
    response = client.post(url, {**selected, "action": "publish_selected", "rationale": ""}, follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "Published 0 verdict(s)." in page
    assert "nobody publishes a claim they reviewed" in page and not consensus(claim).is_published


# --- How the verdict was reached -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_two_agreeing_reviewers_published_by_an_editor(make_user):
    claim = article_with_claims(1).claims.get()
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    row = verdict_publish(claim=claim, published_by=make_user("Editors"), rationale="Both agree.")
    assert how_reached(row) == "Two reviewers agreed; published by an editor."
    page = Client().get(reverse("evidence:claim-detail", args=[claim.pk])).content.decode()
    assert "Two reviewers agreed; published by an editor." in page and "decided by an editor" not in page
    api = Client().get(reverse("api:claim-detail", args=[claim.pk])).json()
    assert api["consensus"]["how_reached"] == "Two reviewers agreed; published by an editor."


@pytest.mark.django_db
def test_agreeing_reviewers_a_level_apart(make_user):
    claim = article_with_claims(1).claims.get()
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    rate(claim, make_user("Reviewers"), "low", "supported")
    row = verdict_publish(claim=claim, published_by=make_user("Editors"), rationale="Both agree.")
    assert how_reached(row) == "Two reviewers agreed (certainties 1 level apart); published by an editor."


@pytest.mark.django_db
def test_disagreeing_reviewers_and_an_editors_decision(make_user):
    claim = article_with_claims(1).claims.get()
    editor = make_user("Editors")
    rate(claim, make_user("Reviewers"), "high", "supported")
    rate(claim, make_user("Reviewers"), "low", "supported")
    rate(claim, make_user("Reviewers"), "moderate", "unsupported")
    claim_adjudicate(claim=claim, adjudicated_by=editor, **DECISION)
    row = verdict_publish(claim=claim, published_by=editor)
    sentence = (
        "Three reviewers disagreed (certainties 2 levels apart, verdicts split); "
        "an editor decided: Partly supported, low certainty."
    )
    assert how_reached(row) == sentence
    assert sentence in Client().get(reverse("evidence:claim-detail", args=[claim.pk])).content.decode()
    assert Client().get(reverse("api:claim-detail", args=[claim.pk])).json()["consensus"]["how_reached"] == sentence


@pytest.mark.django_db
def test_an_editor_overruling_agreeing_reviewers_is_not_called_a_dispute(make_user):
    claim = article_with_claims(1).claims.get()
    editor = make_user("Editors")
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    claim_adjudicate(claim=claim, adjudicated_by=editor, **DECISION)
    row = verdict_publish(claim=claim, published_by=editor)
    assert how_reached(row) == "Two reviewers agreed; an editor decided: Partly supported, low certainty."
    assert "disagreed" not in Client().get(reverse("evidence:claim-detail", args=[claim.pk])).content.decode()


@pytest.mark.django_db
def test_an_adjudication_after_publication_is_not_claimed_for_the_published_verdict(make_user):
    claim = article_with_claims(1).claims.get()
    editor = make_user("Editors")
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    verdict_publish(claim=claim, published_by=editor, rationale="Both agree.")
    claim_adjudicate(claim=claim, adjudicated_by=editor, **DECISION)  # not published (yet)
    published = consensus(claim).published_version  # the sentence was frozen with the verdict
    assert published.how_reached == "Two reviewers agreed; published by an editor."
    page = Client().get(reverse("evidence:claim-detail", args=[claim.pk])).content.decode()
    assert "Two reviewers agreed; published by an editor." in page and "an editor decided" not in page


@pytest.mark.django_db
def test_the_sentence_for_a_verdict_older_than_the_rule_and_for_none():
    """One reviewer (a verdict published before the two-review rule, or restored from a dump), and no
    published verdict at all."""
    claim = article_with_claims(1).claims.get()
    row = publish(claim, n_reviews=1)
    assert how_reached(row) == "One reviewer; published by an editor."
    row.adjudicated_at = row.published_at - timedelta(minutes=1)
    row.adjudicated_certainty, row.adjudicated_verdict = "moderate", "supported"
    assert how_reached(row) == "One reviewer; an editor decided: Supported, moderate certainty."
    assert how_reached(Consensus(n_reviews=0)) == ""  # nothing decided, nothing to say
