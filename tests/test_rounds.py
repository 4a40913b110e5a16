"""Blind re-review rounds and numbered verdict versions (issue 19 §2 and §5): a published claim sent back
opens a new round, blind for everyone but editors and those who submitted in it, while readers keep the
published verdict, its figures frozen at publication, under a banner; every publication is a version with
a permalink, named in the changelog, the API and the open dataset."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evidence.models import Article, Citation, Claim, RetractionStatus, Study
from evidence.opendata import NEW_IN_V3, TABLES, VERSION, dataset_export, dataset_import
from evidence.services import study_set_retraction
from reviews.access import visible_reviews
from reviews.models import Consensus, Flag, Review, ReviewRound, VerdictVersion
from reviews.queues import awaiting_my_review, my_reviews, reviewer_queue
from reviews.services import (
    Publication,
    ReviewSubmission,
    claim_adjudicate,
    claims_send_back,
    reviews_submit_bulk,
    verdict_publish,
    verdicts_publish_bulk,
)
from tests.builders import article_with_claims, cite, graded, rate, trial

pytestmark = pytest.mark.django_db

ROUND_1_TEXT = "Round one reasoning, public once published, string r1q."
ROUND_2_TEXT = "Round two reasoning, blind until published, string r2z."


@dataclass
class Scene:
    """A claim published once from two reviewers' reviews, then sent back: round 2 is open, and reviewer
    ``a`` has re-reviewed in it, ``b`` not yet."""

    claim: Claim
    a: AbstractBaseUser
    b: AbstractBaseUser
    editor: AbstractBaseUser


def published_claim(make_user) -> Scene:
    claim = article_with_claims(1).claims.get()
    cite(claim, trial())
    a, b, editor = make_user("Reviewers"), make_user("Reviewers"), make_user("Editors")
    rate(claim, a, "moderate", "supported", rationale=ROUND_1_TEXT)
    rate(claim, b, "moderate", "supported", rationale=ROUND_1_TEXT)
    verdict_publish(claim=claim, published_by=editor, rationale="Two consistent trials.")
    return Scene(claim, a, b, editor)


@pytest.fixture
def scene(make_user) -> Scene:
    """Round 2 open, ``a`` has re-reviewed in it, ``b`` has not."""
    s = published_claim(make_user)
    claims_send_back(claims=[s.claim], reason="a larger trial disagrees", user=s.editor)
    rate(s.claim, s.a, "very_low", "contradicted", rationale=ROUND_2_TEXT)
    return s


# --- Services --------------------------------------------------------------------------------------------


def test_publishing_numbers_each_verdict_and_freezes_its_figures(make_user):
    s = published_claim(make_user)
    first = VerdictVersion.objects.get(claim=s.claim)
    assert (first.number, first.round, first.verdict, first.certainty) == (1, 1, "supported", "moderate")
    assert (first.n_reviews, first.certainty_spread, first.verdict_split) == (2, 0, False)
    assert first.how_reached == "Two reviewers agreed; published by an editor."
    assert first.published_by == s.editor
    consensus = Consensus.objects.get(claim=s.claim)
    assert consensus.published_version == first and consensus.round == 1

    claims_send_back(claims=[s.claim], reason="a larger trial disagrees", user=s.editor)
    rate(s.claim, s.a, "low", "partly_supported")
    rate(s.claim, s.b, "low", "partly_supported")
    verdict_publish(claim=s.claim, published_by=s.editor, rationale="The larger trial tempers it.")
    second = VerdictVersion.objects.get(claim=s.claim, number=2)
    assert (second.round, second.verdict, second.certainty, second.n_reviews) == (2, "partly_supported", "low", 2)
    # the first version is untouched
    first.refresh_from_db()
    assert (first.verdict, first.rationale) == ("supported", "Two consistent trials.")
    assert Consensus.objects.get(claim=s.claim).published_version == second


def test_sending_back_a_published_claim_opens_a_round_and_starts_it_empty(make_user):
    s = published_claim(make_user)
    claim_adjudicate(claim=s.claim, certainty="low", verdict="supported", rationale="Decided.", adjudicated_by=s.editor)
    claims_send_back(claims=[s.claim], reason="a larger trial disagrees", user=s.editor)
    round_ = ReviewRound.objects.get(claim=s.claim)
    assert (round_.number, round_.reason, round_.opened_by) == (2, "a larger trial disagrees", s.editor)
    consensus = Consensus.objects.get(claim=s.claim)
    # the new round is decided afresh: no reviews, no adjudication carried over
    assert (consensus.round, consensus.n_reviews, consensus.verdict, consensus.adjudicated_at) == (2, 0, "", None)
    assert consensus.under_rereview
    # the published verdict stays what readers see
    assert consensus.published_verdict == "supported" and consensus.published_version.number == 1
    # sending it back again while the round is open opens no other round
    claims_send_back(claims=[s.claim], reason="again")
    assert ReviewRound.objects.filter(claim=s.claim).count() == 1


def test_sending_back_an_unpublished_claim_keeps_its_round(make_user):
    claim = article_with_claims(1).claims.get()
    rate(claim, make_user("Reviewers"))
    claims_send_back(claims=[claim], reason="its quote was lost")
    assert Consensus.objects.get(claim=claim).round == 1
    assert not ReviewRound.objects.exists()


def test_a_reviewer_reviews_again_in_the_new_round_and_the_earlier_review_stays(scene):
    reviews = {r.round: r for r in Review.objects.filter(claim=scene.claim, reviewer=scene.a)}
    assert set(reviews) == {1, 2}
    assert reviews[1].rationale == ROUND_1_TEXT and reviews[2].rationale == ROUND_2_TEXT
    # the consensus is the new round's alone
    consensus = Consensus.objects.get(claim=scene.claim)
    assert (consensus.n_reviews, consensus.verdict, consensus.certainty) == (1, "contradicted", "very_low")
    # saving again edits the round-2 review in place
    rate(scene.claim, scene.a, "low", "contradicted", rationale=ROUND_2_TEXT)
    assert Review.objects.filter(claim=scene.claim, reviewer=scene.a).count() == 2


def test_a_retraction_opens_a_round_on_a_published_claim_relying_on_the_study(make_user):
    s = published_claim(make_user)
    cited = s.claim.citations.get().study
    study_set_retraction(study=cited, status=RetractionStatus.RETRACTED, note="Data fabricated.")
    round_ = ReviewRound.objects.get(claim=s.claim)
    assert round_.number == 2 and "retracted" in round_.reason
    assert Consensus.objects.get(claim=s.claim).round == 2


def test_an_expression_of_concern_opens_its_own_flag_on_the_claims_relying_on_the_study(make_user):
    s = published_claim(make_user)
    context_only = article_with_claims(1).claims.get()
    cited = s.claim.citations.get().study
    cite(context_only, cited, relation="context")
    study_set_retraction(study=cited, status=RetractionStatus.EXPRESSION_OF_CONCERN, note="Data questioned.")
    flag = Flag.objects.get(claim=s.claim)
    assert (flag.reason, flag.study, flag.status, flag.raised_by) == (Flag.Reason.CONCERN_SOURCE, cited, "open", None)
    # only the claims relying on it (supports, mixed), once
    assert not Flag.objects.filter(claim=context_only).exists()
    study_set_retraction(study=cited, status=RetractionStatus.EXPRESSION_OF_CONCERN, note="Still questioned.")
    assert Flag.objects.filter(claim=s.claim).count() == 1


# --- Who sees which reviews -----------------------------------------------------------------------------


def texts(reviews) -> set[str]:
    return {review.rationale for review in reviews}


def test_the_new_round_is_blind_for_all_but_editors_and_those_who_submitted_in_it(scene, make_user):
    from django.contrib.auth.models import AnonymousUser

    newcomer = make_user("Reviewers")
    assert texts(visible_reviews(AnonymousUser()).filter(claim=scene.claim)) == {ROUND_1_TEXT}
    # b reviewed in round 1 but not yet in round 2: round 1 only
    assert texts(visible_reviews(scene.b).filter(claim=scene.claim)) == {ROUND_1_TEXT}
    assert texts(visible_reviews(newcomer).filter(claim=scene.claim)) == {ROUND_1_TEXT}
    # a submitted in round 2
    assert texts(visible_reviews(scene.a).filter(claim=scene.claim)) == {ROUND_1_TEXT, ROUND_2_TEXT}
    assert texts(visible_reviews(scene.editor).filter(claim=scene.claim)) == {ROUND_1_TEXT, ROUND_2_TEXT}
    # once b submits in round 2, b reads it too
    rate(scene.claim, scene.b, "low", "unsupported", rationale="b in round two.")
    assert ROUND_2_TEXT in texts(visible_reviews(scene.b).filter(claim=scene.claim))
    # published: everyone reads round 2
    claim_adjudicate(
        claim=scene.claim, certainty="low", verdict="unsupported", rationale="Weighed.", adjudicated_by=scene.editor
    )
    verdict_publish(claim=scene.claim, published_by=scene.editor)
    assert ROUND_2_TEXT in texts(visible_reviews(AnonymousUser()).filter(claim=scene.claim))


def signed_in(user: AbstractBaseUser | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["anonymous", "b", "newcomer"])
def test_no_page_api_or_export_leaks_the_new_round(scene, make_user, who):
    user = {"anonymous": None, "b": scene.b, "newcomer": make_user("Reviewers")}[who]
    client = signed_in(user)
    pages = [
        scene.claim.get_absolute_url(),
        reverse("evidence:claim-verdict", args=[scene.claim.pk, 1]),
        reverse("api:review-list") + f"?claim={scene.claim.pk}",
        reverse("api:claim-detail", args=[scene.claim.pk]),
        reverse("evidence:claim-export"),
    ]
    if user is not None:
        pages.append(reverse("reviews:review-claim", args=[scene.claim.pk]))
    for url in pages:
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code == 200, url
        assert ROUND_2_TEXT not in body, url
    # the published round stays readable on the claim page and in the API
    assert ROUND_1_TEXT in client.get(scene.claim.get_absolute_url()).content.decode()
    listed = client.get(reverse("api:review-list") + f"?claim={scene.claim.pk}").json()
    assert {row["rationale"] for row in listed["results"]} == {ROUND_1_TEXT}


def test_the_reviewer_who_submitted_in_the_new_round_sees_it_in_the_api(scene):
    listed = signed_in(scene.a).get(reverse("api:review-list") + f"?claim={scene.claim.pk}").json()
    assert {row["rationale"] for row in listed["results"]} == {ROUND_1_TEXT, ROUND_2_TEXT}


# --- What readers see ------------------------------------------------------------------------------------


def test_the_claim_page_shows_the_published_verdict_under_a_banner_with_its_own_figures(scene, client):
    html = client.get(scene.claim.get_absolute_url()).content.decode()
    opened = ReviewRound.objects.get(claim=scene.claim).opened_at
    assert f'Under re-review since <time datetime="{opened.isoformat()}"' in html.replace("+00:00", "+00:00")
    assert "a larger trial disagrees" in html
    # the figures are the publication's (2 reviewers, same certainty), not the live round's (1 reviewer)
    assert "2 reviewers, same certainty" in html
    assert "1 reviewer" not in html
    assert "Verdict 1</a>, published" in html


def test_earlier_verdicts_and_their_permalinks(scene, client):
    rate(scene.claim, scene.b, "very_low", "contradicted", rationale="b in round two.")
    verdict_publish(claim=scene.claim, published_by=scene.editor, rationale="A larger trial contradicts it.")
    html = client.get(scene.claim.get_absolute_url()).content.decode()
    assert "Under re-review" not in html
    assert "Earlier verdicts (1)" in html
    first_url = reverse("evidence:claim-verdict", args=[scene.claim.pk, 1])
    assert f'href="{first_url}"' in html
    page = client.get(first_url)
    body = page.content.decode()
    assert page.status_code == 200
    assert "Verdict 1 of 2" in body and "superseded" in body and "Two consistent trials." in body
    assert ROUND_1_TEXT in body and ROUND_2_TEXT not in body
    assert client.get(reverse("evidence:claim-verdict", args=[scene.claim.pk, 3])).status_code == 404
    assert client.get(reverse("evidence:claim-verdict", args=[999999, 1])).status_code == 404


def test_the_changelog_says_which_verdict_was_published_and_names_nobody(scene, client):
    rate(scene.claim, scene.b, "very_low", "contradicted", rationale="b in round two.")
    verdict_publish(claim=scene.claim, published_by=scene.editor, rationale="A larger trial contradicts it.")
    response = client.get(scene.claim.get_absolute_url())
    whats = [entry.what for entry in response.context["changelog"]]
    assert "Verdict 1 published: Supported, moderate certainty" in whats
    assert "Verdict 2 published: Contradicted, very low certainty" in whats
    assert "Sent back for re-review, round 2: a larger trial disagrees" in whats
    changelog = response.content.decode().split('id="changelog-heading"')[1]
    for user in (scene.a, scene.b, scene.editor):
        assert user.get_username() not in changelog
    assert all(entry.who in ("", "system", "import") for entry in response.context["changelog"])


def test_api_claim_detail_lists_the_verdict_versions(scene, client):
    body = client.get(reverse("api:claim-detail", args=[scene.claim.pk])).json()
    assert body["consensus"]["n_reviews"] == 2 and body["consensus"]["version"] == 1
    assert body["under_rereview"] == {
        "round": 2,
        "since": ReviewRound.objects.get(claim=scene.claim).opened_at.isoformat().replace("+00:00", "Z"),
        "reason": "a larger trial disagrees",
    }
    assert [v["number"] for v in body["verdict_versions"]] == [1]
    version = body["verdict_versions"][0]
    assert version["verdict"] == "supported" and version["html_url"].endswith(f"/claims/{scene.claim.pk}/verdicts/1/")
    assert json.dumps(body).count(ROUND_2_TEXT) == 0


# --- The open dataset -----------------------------------------------------------------------------------


def wipe() -> None:
    """An empty database for the import (reviews and flags first: they protect their rows)."""
    Flag.objects.all().delete()
    Review.objects.all().delete()
    Consensus.objects.all().delete()
    Citation.objects.all().delete()
    Claim.objects.all().delete()
    Study.objects.all().delete()
    Article.objects.all().delete()


def read(folder: Path) -> dict[str, list[dict]]:
    return {name: json.loads((folder / f"{name}.json").read_text(encoding="utf-8")) for name in TABLES}


def test_the_dataset_round_trips_versions_and_an_open_round(scene, tmp_path, client):
    twice = article_with_claims(1).claims.get()
    rate(twice, scene.a, "high", "supported")
    rate(twice, scene.b, "high", "supported")
    verdict_publish(claim=twice, published_by=scene.editor, rationale="First.")
    claims_send_back(claims=[twice], reason="new evidence", user=scene.editor)
    rate(twice, scene.a, "low", "partly_supported")
    rate(twice, scene.b, "low", "partly_supported")
    verdict_publish(claim=twice, published_by=scene.editor, rationale="Second.")
    first, second = tmp_path / "first", tmp_path / "second"
    dataset_export(directory=first)
    before = read(first)
    assert json.loads((first / "manifest.json").read_text())["version"] == VERSION == 3
    assert [(r["claim"], r["number"]) for r in before["verdict_versions"]] == [
        (scene.claim.pk, 1),
        (twice.pk, 1),
        (twice.pk, 2),
    ]
    verdicts = {row["claim"]: row for row in before["verdicts"]}
    # the published snapshot's figures, not the open round's (which has one review)
    assert (verdicts[scene.claim.pk]["version"], verdicts[scene.claim.pk]["n_reviews"]) == (1, 2)
    assert (verdicts[twice.pk]["version"], verdicts[twice.pk]["verdict"]) == (2, "partly_supported")
    assert [(r["claim"], r["number"], r["reason"]) for r in before["review_rounds"]] == [
        (scene.claim.pk, 2, "a larger trial disagrees"),
        (twice.pk, 2, "new evidence"),
    ]
    # no review's reasoning travels, published or not
    assert ROUND_2_TEXT not in json.dumps(before) and ROUND_1_TEXT not in json.dumps(before)
    wipe()
    dataset_import(directory=first)
    dataset_export(directory=second)
    after = read(second)
    for name in TABLES:
        assert after[name] == before[name], name
    # readers see the same: the banner over verdict 1, and verdict 2 with verdict 1 as an earlier one
    consensus = Consensus.objects.get(claim=scene.claim)
    assert consensus.round == 2 and consensus.under_rereview and consensus.n_reviews == 0
    assert "Under re-review since" in client.get(scene.claim.get_absolute_url()).content.decode()
    html = client.get(twice.get_absolute_url()).content.decode()
    assert "Under re-review" not in html and "Earlier verdicts (1)" in html


def test_a_version_2_dataset_loads_its_verdicts_as_verdict_1(scene, tmp_path):
    dataset_export(directory=tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["version"] = 2
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    verdicts = [{k: v for k, v in row.items() if k != "version"} for row in read_one(tmp_path, "verdicts")]
    (tmp_path / "verdicts.json").write_text(json.dumps(verdicts))
    for name in NEW_IN_V3:
        (tmp_path / f"{name}.json").unlink()
    wipe()
    dataset_import(directory=tmp_path)
    version = VerdictVersion.objects.get(claim_id=scene.claim.pk)
    assert (version.number, version.round, version.verdict, version.n_reviews) == (1, 1, "supported", 2)
    consensus = Consensus.objects.get(claim_id=scene.claim.pk)
    assert consensus.published_version == version and consensus.round == 1 and not ReviewRound.objects.exists()


def read_one(folder: Path, name: str) -> list[dict]:
    return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))


# --- The bulk services keep the same rules --------------------------------------------------------------


def test_bulk_reviews_go_to_the_current_round_and_bulk_publication_numbers_versions(scene):
    now = timezone.now()
    reviews_submit_bulk(
        items=[
            ReviewSubmission(
                scene.claim, scene.b, "very_low", "contradicted", "b in round two, in bulk.", now, **graded("very_low")
            ),
            ReviewSubmission(scene.claim, scene.a, "low", "contradicted", ROUND_2_TEXT, now, **graded("low")),
        ]
    )
    assert dict(Review.objects.filter(claim=scene.claim).values_list("reviewer", "round").filter(round=2)) == {
        scene.a.pk: 2,
        scene.b.pk: 2,
    }
    assert Review.objects.filter(claim=scene.claim).count() == 4  # round 1's two stay
    consensus = Consensus.objects.get(claim=scene.claim)
    assert (consensus.n_reviews, consensus.verdict) == (2, "contradicted")
    verdicts_publish_bulk(items=[Publication(scene.claim, scene.editor, now, rationale="In bulk.")])
    version = VerdictVersion.objects.get(claim=scene.claim, number=2)
    assert (version.round, version.verdict, version.n_reviews, version.published_at) == (2, "contradicted", 2, now)
    assert Consensus.objects.get(claim=scene.claim).published_version == version


# --- The reviewer's queue and the admin -----------------------------------------------------------------


def test_a_claim_in_a_new_round_waits_for_its_earlier_reviewers_again(scene):
    # b reviewed in round 1 only: the claim waits for b again
    assert list(awaiting_my_review(scene.b)) == [scene.claim]
    assert scene.claim not in awaiting_my_review(scene.a)  # a re-reviewed in round 2
    # a's lists show the round-2 review once, not both rounds'
    assert [r.round for r in my_reviews(scene.a).filter(claim=scene.claim)] == [2]
    lists = reviewer_queue(scene.a, {}, per_page=20)
    assert [r.claim_id for r in lists.reviewed] == [scene.claim.pk]
    assert lists.reviewed[0].pk == Review.objects.get(claim=scene.claim, reviewer=scene.a, round=2).pk


def test_the_admin_keeps_an_earlier_rounds_review_as_it_was(scene):
    earlier = Review.objects.get(claim=scene.claim, reviewer=scene.b, round=1)
    client = Client()
    client.force_login(scene.b)
    data = {"certainty": "high", "verdict": "supported", "rationale": "Rewritten later.", "_save": "Save"}
    response = client.post(reverse("admin:reviews_review_change", args=[earlier.pk]), data)
    assert response.status_code == 200
    assert "belongs to round 1; the claim is in round 2" in response.content.decode()
    earlier.refresh_from_db()
    assert earlier.rationale == ROUND_1_TEXT
    assert not Review.objects.filter(claim=scene.claim, reviewer=scene.b, round=2).exists()
