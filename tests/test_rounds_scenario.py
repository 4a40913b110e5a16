"""The issue 19 scenario, end to end: an article whose claims were published is revised (one claim moved,
one reworded slightly, one removed), a study a published claim relies on is retracted, and a re-review round
runs. At each step every output (claim page, API, both feeds, open dataset round trip, changelog) is checked
for what a reader and a reviewer of the new round who has not yet submitted may see."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse

from evidence.models import Article, Citation, Claim, RetractionStatus, Study
from evidence.opendata import TABLES, dataset_export, dataset_import
from evidence.services import article_revise, study_set_retraction
from reviews.models import Consensus, Flag, Review, ReviewRound, VerdictVersion
from reviews.services import claim_adjudicate, verdict_publish
from tests import builders
from tests.builders import cite, rate, trial

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # end to end, each some 20 s

REVISED = (
    "A test article\n"
    "Background\n"
    "Ketamine lifts mood within hours. A new trial reports on how long the effect lasts.\n"
    "Risks\n"
    "Ketamine can cause bladder damage with very heavy use. Both drugs raise blood pressure.\n"
)
MOVED = "Both drugs raise blood pressure."
REWORDED = "Ketamine can cause bladder damage with heavy use."
REMOVED = "MDMA makes people feel close to each other."
ROUND_1 = "Round one: two trials measured it, string s1a."
ROUND_2 = "Round two: the trial is retracted, string s2b."


def as_user(user: AbstractBaseUser | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def everything(client: Client, article: Article, claim: Claim) -> dict[str, str]:
    """Every output that speaks of ``claim``, as ``client`` gets it."""
    urls = {
        "page": claim.get_absolute_url(),
        "verdict": reverse("evidence:claim-verdict", args=[claim.pk, 1]),
        "api claim": reverse("api:claim-detail", args=[claim.pk]),
        "api reviews": reverse("api:review-list") + f"?claim={claim.pk}",
        "claimreview": reverse("evidence:article-claimreview", args=[article.slug]),
        "annotations": reverse("evidence:article-annotations", args=[article.slug]),
        "article": article.get_absolute_url(),
        "export": reverse("evidence:claim-export"),
    }
    out = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        out[name] = response.content.decode()
    return out


def wipe() -> None:
    Flag.objects.all().delete()
    Review.objects.all().delete()
    Consensus.objects.all().delete()
    Citation.objects.all().delete()
    Claim.objects.all().delete()
    Study.objects.all().delete()
    Article.objects.all().delete()


def read(folder: Path) -> dict[str, list[dict]]:
    return {name: json.loads((folder / f"{name}.json").read_text(encoding="utf-8")) for name in TABLES}


def test_revision_retraction_and_a_re_review_round_end_to_end(make_user, tmp_path):
    a, b, newcomer, editor = (
        make_user("Reviewers"),
        make_user("Reviewers"),
        make_user("Reviewers"),
        make_user("Editors"),
    )
    article = builders.article(title="Drugs and moods")
    moved = builders.claim(article, MOVED, key="MOVED")
    reworded = builders.claim(article, REWORDED, key="REWORDED")
    removed = builders.claim(article, REMOVED, key="REMOVED")
    paper = trial(doi="10.5555/scenario.trial")
    cite(moved, paper)
    for claim in (moved, removed):
        rate(claim, a, "moderate", "supported", rationale=ROUND_1)
        rate(claim, b, "moderate", "supported", rationale=ROUND_1)
        verdict_publish(claim=claim, published_by=editor, rationale="Two trials agree.")

    # the article is revised: MOVED moves, REWORDED and REMOVED are lost
    article_revise(article=article, text=REVISED, headings=builders.HEADINGS, note="the author's update")
    moved, reworded, removed = (Claim.objects.get(pk=c.pk) for c in (moved, reworded, removed))
    assert moved.anchor_state == "anchored" and moved.status == Claim.Status.PUBLISHED
    assert (reworded.anchor_state, removed.anchor_state) == ("orphaned", "orphaned")
    # the lost published claim is in a new round; the never-published one keeps its first
    assert ReviewRound.objects.get(claim=removed).reason == "its quote is no longer in the article's text"
    assert not ReviewRound.objects.filter(claim=reworded).exists()

    # the moved claim's trial is retracted: round 2, and a reviewer re-reviews
    study_set_retraction(study=paper, status=RetractionStatus.RETRACTED, note="Fabricated data.")
    opened = ReviewRound.objects.get(claim=moved)
    assert opened.number == 2 and opened.reason.startswith("relies on a retracted study")
    rate(moved, a, "very_low", "contradicted", rationale=ROUND_2)

    # what a reader and a new-round reviewer who has not submitted may see: round 1, not round 2
    for who in (None, newcomer, b):
        seen = everything(as_user(who), article, moved)
        for name, body in seen.items():
            assert ROUND_2 not in body, (who, name)
        assert "Under re-review since" in seen["page"] and opened.reason in seen["page"]
        assert "2 reviewers, same certainty" in seen["page"]
        assert ROUND_1 in seen["page"] and ROUND_1 in seen["api reviews"]
        api = json.loads(seen["api claim"])
        assert api["consensus"]["verdict"] == "supported" and api["consensus"]["n_reviews"] == 2
        assert api["under_rereview"]["round"] == 2
        # the feeds still carry the published verdict of the anchored claim, and no orphan
        claimreview = json.loads(seen["claimreview"])
        reviewed = json.dumps(claimreview)
        assert MOVED in reviewed and REMOVED not in reviewed and REWORDED not in reviewed
        annotations = json.loads(seen["annotations"])
        assert REMOVED not in json.dumps(annotations)
        # the changelog says what happened, naming nobody
        page = as_user(who).get(moved.get_absolute_url())
        whats = [entry.what for entry in page.context["changelog"]]
        assert "Verdict 1 published: Supported, moderate certainty" in whats
        assert f"Sent back for re-review, round 2: {opened.reason}" in whats
        changelog = seen["page"].split('id="changelog-heading"')[1]
        assert all(user.get_username() not in changelog for user in (a, b, editor))
    # the reviewer who submitted in round 2 reads it; the editor too
    assert ROUND_2 in as_user(a).get(reverse("api:review-list") + f"?claim={moved.pk}").content.decode()
    assert ROUND_2 in as_user(editor).get(reverse("reviews:editor-claim", args=[moved.pk])).content.decode()

    # the open dataset round-trips the open round and the orphans, and carries no review
    first, second = tmp_path / "first", tmp_path / "second"
    dataset_export(directory=first)
    before = read(first)
    assert ROUND_2 not in json.dumps(before) and ROUND_1 not in json.dumps(before)
    assert {r["claim"] for r in before["review_rounds"]} == {moved.pk, removed.pk}
    wipe()
    dataset_import(directory=first)
    dataset_export(directory=second)
    after = read(second)
    for name in TABLES:
        assert after[name] == before[name], name
    assert "Under re-review since" in Client().get(moved.get_absolute_url()).content.decode()


def test_the_round_closes_with_verdict_2_and_its_reviews_become_public(make_user):
    a, b, newcomer, editor = (
        make_user("Reviewers"),
        make_user("Reviewers"),
        make_user("Reviewers"),
        make_user("Editors"),
    )
    article = builders.article(title="Drugs and moods")
    moved = builders.claim(article, MOVED, key="MOVED")
    paper = trial(doi="10.5555/scenario.trial2")
    cite(moved, paper)
    rate(moved, a, "moderate", "supported", rationale=ROUND_1)
    rate(moved, b, "moderate", "supported", rationale=ROUND_1)
    verdict_publish(claim=moved, published_by=editor, rationale="Two trials agree.")
    study_set_retraction(study=paper, status=RetractionStatus.RETRACTED, note="Fabricated data.")
    rate(moved, a, "very_low", "contradicted", rationale=ROUND_2)
    rate(moved, b, "low", "unsupported", rationale="Round two, b.")
    claim_adjudicate(
        claim=moved, certainty="very_low", verdict="contradicted", rationale="The trial is gone.", adjudicated_by=editor
    )
    verdict_publish(claim=moved, published_by=editor)
    second = VerdictVersion.objects.get(claim=moved, number=2)
    assert (second.round, second.adjudicated, second.n_reviews, second.certainty_spread) == (2, True, 2, 1)
    assert second.how_reached == (
        "Two reviewers disagreed (certainties 1 level apart, verdicts split); "
        "an editor decided: Contradicted, very low certainty."
    )
    for who in (None, newcomer):
        client = as_user(who)
        page = client.get(moved.get_absolute_url())
        body = page.content.decode()
        assert ROUND_2 in body and ROUND_1 in body and "Under re-review" not in body
        assert "Earlier verdicts (1)" in body and "an editor decided: Contradicted, very low certainty." in body
        whats = [entry.what for entry in page.context["changelog"]]
        assert "Verdict 2 published: Contradicted, very low certainty" in whats
        api = client.get(reverse("api:claim-detail", args=[moved.pk])).json()
        assert [v["number"] for v in api["verdict_versions"]] == [2, 1]
        assert api["under_rereview"] is None and api["consensus"]["version"] == 2
