"""Orphaned anchors (issue 19, §1): a claim whose quote a revision of its article's text no longer holds.

The scene: an article with three claims, revised so that one claim moved, one was reworded slightly (an
orphan with a suggestion for an editor) and one was removed (an orphan without). The first tests are the
defects the issue reproduced on main; each failed there.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from evidence.article_text import claim_context, context_around
from evidence.models import Article, ArticleRevision, Claim
from evidence.opendata import TABLES, dataset_export, dataset_import
from evidence.services import article_revise, claim_accept_suggestion, claim_requote
from reviews.consensus import publish_blockers
from reviews.models import consensus_of
from reviews.services import verdict_publish
from tests import builders
from tests.builders import publish, rate

pytestmark = pytest.mark.django_db

OLD_TEXT = builders.TEXT
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


@dataclass
class Scene:
    article: Article
    moved: Claim
    reworded: Claim
    removed: Claim

    def refresh(self) -> Scene:
        for claim in (self.moved, self.reworded, self.removed):
            claim.refresh_from_db()
        self.article.refresh_from_db()
        return self


def build(revise: bool = True) -> Scene:
    article = builders.article(title="Drugs and moods")
    scene = Scene(
        article=article,
        moved=builders.claim(article, MOVED, key="MOVED"),
        reworded=builders.claim(article, REWORDED, key="REWORDED"),
        removed=builders.claim(article, REMOVED, key="REMOVED"),
    )
    # readers were told the removed claim is supported
    publish(scene.removed, verdict="supported", certainty="moderate")
    if revise:
        article_revise(article=article, text=REVISED, headings=builders.HEADINGS, note="the author's update")
    return scene.refresh()


@pytest.fixture
def scene() -> Scene:
    return build()


# --- The defects the issue reproduced on main --------------------------------------------------------------

MARK = re.compile(r'<a class="claim [^"]*" id="claim-(\d+)"[^>]*>(.*?)<span class="claim-tag">', re.S)


def test_the_article_page_marks_no_other_words_as_a_lost_claim(client, scene):
    """On main the removed claim's old offsets marked other words of the revised text as that claim,
    with its old verdict ("Supported")."""
    html = client.get(scene.article.get_absolute_url()).content.decode()
    marks = MARK.findall(html)
    quotes = dict(Claim.objects.filter(article=scene.article).values_list("pk", "quote"))
    assert marks, "the page marks no claim at all"
    for pk, words in marks:
        assert words in quotes[int(pk)], f"claim {pk} marks “{words}”, not its quote"
    assert {int(pk) for pk, _ in marks} == {scene.moved.pk}


def test_the_claim_page_of_a_lost_claim_shows_no_garbled_context(client, scene):
    """On main the claim page cut the revised text at the claim's stale offsets."""
    orphan = scene.reworded
    context = claim_context(orphan)
    assert context[:3] == context_around(OLD_TEXT, builders.HEADINGS, orphan.start, orphan.end)[:3]
    assert context.revision == 1
    html = client.get(orphan.get_absolute_url()).content.decode()
    assert "no longer found in the current text" in html
    stale = REVISED[orphan.start : orphan.end]
    assert stale not in html


def test_annotations_select_exactly_their_quotes(client, scene):
    """On main annotations.jsonld exported the lost claims' positions, which selected other words."""
    response = client.get(reverse("evidence:article-annotations", args=[scene.article.slug]))
    items = response.json()["first"]["items"]
    assert items
    for item in items:
        quote, position = item["target"]["selector"]
        assert REVISED[position["start"] : position["end"]] == quote["exact"]


def test_the_open_dataset_round_trips_with_orphans_present(scene, tmp_path):
    """On main export_dataset wrote a dump that import_dataset refused: the orphans' offsets did not
    select their quotes in the current text."""
    dataset_export(directory=tmp_path / "first")
    _wipe()
    dataset_import(directory=tmp_path / "first")
    dataset_export(directory=tmp_path / "second")
    for name in TABLES:
        first = json.loads((tmp_path / "first" / f"{name}.json").read_text())
        second = json.loads((tmp_path / "second" / f"{name}.json").read_text())
        assert first == second, name


def test_an_orphan_restored_from_a_dataset_has_no_revision_to_show_and_says_so(client, scene, tmp_path):
    dataset_export(directory=tmp_path)
    _wipe()
    dataset_import(directory=tmp_path)
    article = Article.objects.get()
    html = client.get(article.get_absolute_url()).content.decode()
    assert "Not found since revision 2 of the text" in html and "/revisions/" not in html
    html = client.get(Claim.objects.get(key="REMOVED").get_absolute_url()).content.decode()
    assert "no longer found in the current text" in html and "/revisions/" not in html


def test_a_reviewer_resaving_does_not_make_a_lost_claim_publishable(make_user):
    """On main a lost claim went to "needs re-review"; a reviewer's re-saved review moved it back to "in
    review", and the editor could publish it again over words the text no longer holds."""
    scene = build(revise=False)
    claim = scene.reworded
    first, second = make_user("Reviewers"), make_user("Reviewers")
    rate(claim, first)
    rate(claim, second)
    article_revise(article=scene.article, text=REVISED, headings=builders.HEADINGS)
    rate(claim, first)  # re-saved
    assert Claim.objects.get(pk=claim.pk).is_orphaned  # the review does not touch the anchor
    with pytest.raises(ValidationError, match="no longer in the article's text"):
        verdict_publish(claim=claim, published_by=make_user("Editors"), rationale="Holds.")


# --- Revising the text: moved, reworded, removed ------------------------------------------------------------


def test_a_revision_reanchors_the_moved_claim_and_orphans_the_others(scene):
    revision = ArticleRevision.objects.get(article=scene.article)
    assert (revision.number, revision.text) == (1, OLD_TEXT)

    moved = scene.moved
    assert moved.anchor_state == Claim.AnchorState.ANCHORED
    assert REVISED[moved.start : moved.end] == MOVED
    assert (moved.anchor_revision, moved.anchor_suggestion) == (None, None)
    assert moved.history.latest().history_change_reason.startswith("re-anchored to revision 2")
    assert moved.status == Claim.Status.AWAITING_REVIEW  # a claim that only moved is not sent back

    # reworded slightly: an orphan whose offsets still select its quote in revision 1, with a suggestion
    reworded = scene.reworded
    assert reworded.anchor_state == Claim.AnchorState.ORPHANED
    assert reworded.anchor_revision == 1
    assert OLD_TEXT[reworded.start : reworded.end] == reworded.quote == REWORDED
    suggestion = reworded.anchor_suggestion
    assert suggestion["quote"] == "Ketamine can cause bladder damage with very heavy use."
    assert REVISED[suggestion["start"] : suggestion["end"]] == suggestion["quote"]
    assert 75 <= suggestion["score"] < 100
    assert reworded.status == Claim.Status.NEEDS_REREVIEW
    reasons = list(reworded.history.order_by("-history_id").values_list("history_change_reason", flat=True)[:2])
    assert reasons[0].startswith("sent back for re-review: its quote is no longer")
    assert reasons[1].startswith("orphaned: its quote is not in revision 2 of the text; last found in revision 1")

    # removed: an orphan with nothing to suggest
    removed = scene.removed
    assert (removed.anchor_state, removed.anchor_revision, removed.anchor_suggestion) == ("orphaned", 1, None)
    assert OLD_TEXT[removed.start : removed.end] == REMOVED
    assert removed.status == Claim.Status.NEEDS_REREVIEW


def test_a_later_revision_keeps_an_orphans_last_position_and_finds_it_again(scene):
    # revision 3 still lacks both orphans: they keep revision 1 and their offsets; the suggestion follows
    third = REVISED.replace("very heavy use", "very, very heavy use")
    article_revise(article=scene.article, text=third, headings=builders.HEADINGS)
    scene.refresh()
    assert (scene.reworded.anchor_revision, scene.reworded.start) == (1, OLD_TEXT.index(REWORDED))
    suggestion = scene.reworded.anchor_suggestion
    assert (
        third[suggestion["start"] : suggestion["end"]]
        == suggestion["quote"]
        == ("Ketamine can cause bladder damage with very, very heavy use.")
    )
    # revision 4 puts the removed sentence back word for word: an exact match is applied, no editor needed
    fourth = third.replace("Both drugs raise", f"{REMOVED} Both drugs raise")
    article_revise(article=scene.article, text=fourth, headings=builders.HEADINGS)
    removed = Claim.objects.get(pk=scene.removed.pk)
    assert removed.anchor_state == Claim.AnchorState.ANCHORED and fourth[removed.start : removed.end] == REMOVED
    assert removed.history.latest().history_change_reason.startswith("found again in revision 4")


def test_an_orphan_needs_a_revision_and_only_an_orphan_has_a_suggestion(scene):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(pk=scene.removed.pk).update(anchor_revision=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(pk=scene.moved.pk).update(anchor_suggestion={"quote": "x", "start": 0, "end": 1})
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(pk=scene.moved.pk).update(anchor_state="lost")


# --- An editor re-anchors ------------------------------------------------------------------------------------


def test_accepting_the_suggestion_reanchors_and_records_who_and_why(scene, make_user):
    editor = make_user("Editors")
    claim = claim_accept_suggestion(claim=scene.reworded, user=editor)
    claim.refresh_from_db()
    assert claim.anchor_state == Claim.AnchorState.ANCHORED
    assert (claim.anchor_revision, claim.anchor_suggestion) == (None, None)
    assert claim.quote == "Ketamine can cause bladder damage with very heavy use."
    assert REVISED[claim.start : claim.end] == claim.quote
    assert (claim.prefix, claim.suffix) == (
        REVISED[claim.start - 32 : claim.start],
        REVISED[claim.end : claim.end + 32],
    )
    assert claim.section == "Risks"
    latest = claim.history.latest()
    assert latest.history_user == editor
    assert "accepted the suggested passage" in latest.history_change_reason
    assert REWORDED in latest.history_change_reason  # the quote it replaces
    # still sent back for re-review: the reviewers look at the new wording; no longer an orphan blocker
    assert claim.status == Claim.Status.NEEDS_REREVIEW
    assert "re-anchor" not in " ".join(publish_blockers(claim, consensus_of(claim)))


def test_accepting_is_refused_without_a_suggestion_for_an_anchored_claim_and_for_a_stale_one(scene):
    with pytest.raises(ValidationError, match="quote it again"):
        claim_accept_suggestion(claim=scene.removed)
    with pytest.raises(ValidationError, match="nothing to re-anchor"):
        claim_accept_suggestion(claim=scene.moved)
    # a suggestion that no longer stands in the text (written before a change it did not see)
    Claim.objects.filter(pk=scene.reworded.pk).update(
        anchor_suggestion={**scene.reworded.anchor_suggestion, "start": 0, "end": 5}
    )
    with pytest.raises(ValidationError, match="no longer in the article's text"):
        claim_accept_suggestion(claim=scene.reworded)
    assert Claim.objects.get(pk=scene.reworded.pk).is_orphaned


def test_requoting_anchors_an_orphan_to_words_that_occur_once(scene, make_user):
    editor = make_user("Editors")
    with pytest.raises(ValidationError) as refused:
        claim_requote(claim=scene.removed, quote="Words the article never had.", user=editor)
    assert "does not occur" in refused.value.message_dict["quote"][0]
    with pytest.raises(ValidationError) as refused:
        claim_requote(claim=scene.removed, quote="Ketamine", user=editor)
    assert "occurs 2 times" in refused.value.message_dict["quote"][0]
    assert Claim.objects.get(pk=scene.removed.pk).is_orphaned

    new = "A new trial reports on how long the effect lasts."
    claim = claim_requote(claim=scene.removed, quote=new, user=editor)
    claim.refresh_from_db()
    assert claim.anchor_state == Claim.AnchorState.ANCHORED and REVISED[claim.start : claim.end] == new
    assert claim.section == "Background"
    latest = claim.history.latest()
    assert latest.history_user == editor and "quoted again" in latest.history_change_reason


def test_an_orphan_is_not_ready_to_publish_and_waits_in_the_anchors_lost_queue(make_user):
    from reviews import queues

    scene = build(revise=False)
    for claim in (scene.moved, scene.reworded):
        rate(claim, make_user("Reviewers"))
        rate(claim, make_user("Reviewers"))
    assert set(queues.ready_to_publish().values_list("pk", flat=True)) == {scene.moved.pk, scene.reworded.pk}
    article_revise(article=scene.article, text=REVISED, headings=builders.HEADINGS)
    rate(scene.reworded, make_user("Reviewers"))  # a review after the revision moves it back to "in review"
    assert list(queues.ready_to_publish().values_list("pk", flat=True)) == [scene.moved.pk]
    # those with a suggestion first: one click re-anchors them
    assert list(queues.anchors_lost().values_list("pk", flat=True)) == [scene.reworded.pk, scene.removed.pk]
    assert Claim.objects.get(pk=scene.reworded.pk).is_orphaned


def _wipe() -> None:
    from reviews.models import Consensus, Flag, Review

    Flag.objects.all().delete()
    Review.objects.all().delete()
    Consensus.objects.all().delete()
    Claim.objects.all().delete()
    Article.objects.all().delete()


# --- Re-importing an article file with a revised text --------------------------------------------------------


def test_reimporting_a_revised_text_orphans_a_lost_claim_line_by_line(tmp_path):
    from tests.test_import_article import HEADINGS, K1, K2, K3, TEXT, run, write

    run(write(tmp_path, [K1, K2, K3]))
    revised = TEXT.replace("Background\n", "Background\nA new opening sentence.\n").replace(
        "Its effect fades within a week.", "Its effect fades within a fortnight."
    )
    # the file lists K2 with its old quote, which the new text no longer holds: not a refusal any more
    out = run(write(tmp_path, [K1, K2, K3], text=revised, headings=HEADINGS))
    lines = out.splitlines()
    assert any(
        re.search(r"orphaned\s+claim\s+small-article/K2\s+its quote is not in the revised text", line) for line in lines
    ), out  # said at the default verbosity
    # updated: K1 and K3 re-anchored, K2 sent back for re-review (the review workflow's line)
    assert "claim: 1 orphaned, 3 updated" in lines[-1]

    third = revised.replace("Background\n", "Background\nAnother opening.\n")
    verbose = run(write(tmp_path, [K1, K2, K3], text=third, headings=HEADINGS), "-v", "2")
    assert re.search(r"updated\s+claim\s+small-article/K1\s+re-anchored: it moved", verbose)
    assert re.search(r"orphaned\s+claim\s+small-article/K2\s+its quote is still not in the text", verbose)

    article = Article.objects.get(slug="small-article")
    k2 = article.claims.get(key="K2")
    assert (k2.anchor_state, k2.anchor_revision) == (Claim.AnchorState.ORPHANED, 1)
    assert TEXT[k2.start : k2.end] == k2.quote
    assert k2.anchor_suggestion["quote"] == "Its effect fades within a fortnight."


def test_reimporting_cannot_add_an_unplaced_claim_or_give_a_stored_one_a_missing_quote(tmp_path):
    from tests.test_import_article import HEADINGS, K1, K2, K3, TEXT, refused, run, write

    run(write(tmp_path, [K1, K2, K3]))
    revised = TEXT.replace("Its effect fades within a week.", "Its effect fades within a fortnight.")
    new_claim = {"key": "K4", "quote": "Words the text never had.", "claim_type": "other"}
    message = refused(write(tmp_path, [K1, K2, K3, new_claim], text=revised, headings=HEADINGS))
    assert "claim small-article/K4" in message and "does not occur" in message
    message = refused(write(tmp_path, [K1, {**K2, "quote": "Its effect lasts for years."}], text=revised))
    assert "claim small-article/K2" in message and "Its effect lasts for years." in message


def test_a_file_that_quotes_an_orphan_again_anchors_it(tmp_path):
    from tests.test_import_article import HEADINGS, K1, K2, K3, TEXT, run, write

    run(write(tmp_path, [K1, K2, K3]))
    revised = TEXT.replace("Its effect fades within a week.", "Its effect fades within a fortnight.")
    run(write(tmp_path, [K1, K2, K3], text=revised, headings=HEADINGS))
    requoted = {**K2, "quote": "Its effect fades within a fortnight."}
    out = run(write(tmp_path, [K1, requoted, K3], text=revised, headings=HEADINGS), "-v", "2")
    assert re.search(r"updated\s+claim\s+small-article/K2\s+re-anchored: the file quotes it again", out)
    k2 = Claim.objects.get(article__slug="small-article", key="K2")
    assert k2.anchor_state == Claim.AnchorState.ANCHORED and revised[k2.start : k2.end] == k2.quote


# --- Machine outputs -----------------------------------------------------------------------------------------


def test_the_api_gives_an_orphans_state_and_no_offsets(client, scene):
    moved = client.get(reverse("api:claim-detail", args=[scene.moved.pk])).json()["anchor"]
    assert moved == {
        "state": "anchored",
        "start": scene.moved.start,
        "end": scene.moved.end,
        "prefix": scene.moved.prefix,
        "suffix": scene.moved.suffix,
    }
    removed = client.get(reverse("api:claim-detail", args=[scene.removed.pk])).json()["anchor"]
    assert removed == {
        "state": "orphaned",
        "start": None,
        "end": None,
        "prefix": scene.removed.prefix,
        "suffix": scene.removed.suffix,
    }
    listed = client.get(reverse("api:claim-list"), {"article": scene.article.slug}).json()["results"]
    assert {row["id"]: row["anchor"]["state"] for row in listed} == {
        scene.moved.pk: "anchored",
        scene.reworded.pk: "orphaned",
        scene.removed.pk: "orphaned",
    }


def test_claimreviews_leave_an_orphan_out_of_the_feed_and_its_page(client, scene):
    publish(scene.moved, verdict="supported")
    feed = client.get(reverse("evidence:article-claimreview", args=[scene.article.slug])).json()
    assert [review["claimReviewed"] for review in feed] == [MOVED]  # the removed claim was published too
    page = client.get(scene.removed.get_absolute_url()).content.decode()
    assert "ClaimReview" not in page
    assert "ClaimReview" in client.get(scene.moved.get_absolute_url()).content.decode()
    annotations = client.get(reverse("evidence:article-annotations", args=[scene.article.slug])).json()
    assert [item["target"]["selector"][0]["exact"] for item in annotations["first"]["items"]] == [MOVED]


def test_the_dataset_carries_the_anchor_state_and_reads_version_1(scene, tmp_path):
    dataset_export(directory=tmp_path / "data")
    claims = {row["key"]: row for row in json.loads((tmp_path / "data" / "claims.json").read_text())}
    assert (claims["REMOVED"]["anchor_state"], claims["REMOVED"]["anchor_revision"]) == ("orphaned", 1)
    assert (claims["MOVED"]["anchor_state"], claims["MOVED"]["anchor_revision"]) == ("anchored", None)

    # a version-1 folder (before anchor states) of the anchored claims still imports
    folder = tmp_path / "data"
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "version": 1}))
    rows = [
        {k: v for k, v in row.items() if not k.startswith("anchor_")}
        for row in claims.values()
        if row["anchor_state"] == "anchored"
    ]
    (folder / "claims.json").write_text(json.dumps(rows))
    (folder / "verdicts.json").write_text("[]")
    _wipe()
    dataset_import(directory=folder)
    assert list(Claim.objects.values_list("key", "anchor_state")) == [("MOVED", "anchored")]


def test_restoring_refuses_an_orphan_whose_offsets_miss_its_quote_in_a_kept_revision(scene):
    from evidence.services.restore import claims_restore

    orphan = Claim.objects.get(pk=scene.removed.pk)
    orphan.pk, orphan.key, orphan.start = None, "COPY", orphan.start + 1
    with pytest.raises(ValidationError, match="revision 1 of its article's text"):
        claims_restore(claims=[orphan], reason="test")


# --- Pages: readers and editors ------------------------------------------------------------------------------


def test_the_article_page_lists_orphans_with_their_verdict_struck_through(client, scene):
    response = client.get(scene.article.get_absolute_url())
    html = response.content.decode()
    section = html[html.index('id="orphans-heading"') :]
    assert "Claims no longer found in the current text" in section
    revised_on = ArticleRevision.objects.get(article=scene.article).created_at
    for claim in (scene.reworded, scene.removed):
        assert f'id="claim-{claim.pk}"' in section and claim.quote in section
    removed = section[section.index(f'id="claim-{scene.removed.pk}"') :]
    assert re.search(r'<del class="struck-verdict">\s*<span class="status-badge status-supported', removed)
    assert f"{revised_on:%-d %B %Y}" in removed
    changes_url = reverse("evidence:article-revision", args=[scene.article.slug, 2])
    assert changes_url in removed
    # the header says the article changed, and links to what changed
    header = re.search(r'class="page-header">(.*?)</header>', html, re.S).group(1)
    assert "Revised on" in header and changes_url in header
    # the verdict summary counts the claims the text holds
    assert response.context["summary"]["total"] == 1


def test_the_revision_page_shows_what_changed(client, scene):
    response = client.get(reverse("evidence:article-revision", args=[scene.article.slug, 2]))
    assert response.status_code == 200
    html = response.content.decode()
    removed = re.findall(r'<del class="diff-del"><span class="visually-hidden">\[removed: </span>(.*?)<', html, re.S)
    added = re.findall(r'<ins class="diff-ins"><span class="visually-hidden">\[added: </span>(.*?)<', html, re.S)
    assert removed == ["MDMA makes people feel close to each other.\n", "Both drugs raise blood pressure. "]
    assert added == [
        "A new trial reports on how long the effect lasts.\n",
        "very ",
        "Both drugs raise blood pressure.\n",
    ]
    assert "the author’s update" in html or "the author&#x27;s update" in html
    for missing in (1, 3):
        assert client.get(reverse("evidence:article-revision", args=[scene.article.slug, missing])).status_code == 404


def test_the_claim_page_of_an_orphan_says_so_and_strikes_its_verdict(client, scene):
    html = client.get(scene.removed.get_absolute_url()).content.decode()
    assert "This claim is no longer found in the current text of the article" in html
    assert re.search(r'<del class="struck-verdict">\s*<span class="status-badge status-supported', html)
    assert "revision 1" in html  # where it stood, from the kept revision
    assert "anchoring in the current text" in html  # the changelog says it was lost
    assert OLD_TEXT.split("\n")[2].split(REMOVED)[0].strip() in html


@pytest.fixture
def editor_client(client, make_user):
    client.force_login(make_user("Editors"))
    return client


def test_the_editor_page_offers_the_suggestion_and_accepts_it_in_one_click(editor_client, scene):
    page = editor_client.get(reverse("reviews:editor-claim", args=[scene.reworded.pk])).content.decode()
    assert "Anchor lost" in page and "very heavy use" in page and "Accept this passage" in page
    response = editor_client.post(reverse("reviews:anchor-accept", args=[scene.reworded.pk]))
    assert response.status_code == 302
    claim = Claim.objects.get(pk=scene.reworded.pk)
    assert not claim.is_orphaned and REVISED[claim.start : claim.end] == claim.quote
    page = editor_client.get(reverse("reviews:editor-claim", args=[claim.pk])).content.decode()
    assert "Anchor lost" not in page and "anchored again" in page


def test_the_editor_page_refuses_a_requote_with_the_error_summary(editor_client, scene):
    url = reverse("reviews:anchor-requote", args=[scene.removed.pk])
    response = editor_client.post(url, {"quote": "Ketamine"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html and "occurs 2 times" in html and 'href="#id_requote-quote"' in html
    response = editor_client.post(url, {"quote": "A new trial reports on how long the effect lasts.\r\n"[:-2]})
    assert response.status_code == 302
    assert not Claim.objects.get(pk=scene.removed.pk).is_orphaned


def test_only_editors_may_reanchor(client, make_user, scene):
    client.force_login(make_user("Reviewers"))
    assert client.post(reverse("reviews:anchor-accept", args=[scene.reworded.pk])).status_code == 403
    assert Claim.objects.get(pk=scene.reworded.pk).is_orphaned


def test_the_desk_has_an_anchors_lost_queue(editor_client, scene):
    html = editor_client.get(reverse("reviews:desk")).content.decode()
    section = html[html.index('id="queue-anchors-lost"') :]
    section = section[: section.index("</section>")]
    assert "Anchors lost" in section and REWORDED in section and REMOVED in section and MOVED not in section
    awaiting = html[html.index('id="queue-awaiting"') :]
    assert "Anchor lost" in awaiting[: awaiting.index("</section>")]  # marked where it waits for reviews


# --- The migration that found the claims main had lost -------------------------------------------------------


def test_the_migration_orphans_claims_an_earlier_revision_lost():
    """Before anchor states, a revision left a lost claim's old offsets in place; 0010 makes it an orphan."""
    import importlib

    from django.apps import apps

    scene = build(revise=False)
    # what article_revise on main left: the old text kept, the claims' offsets untouched
    ArticleRevision.objects.create(article=scene.article, number=1, text=OLD_TEXT, headings=builders.HEADINGS)
    Article.objects.filter(pk=scene.article.pk).update(text=REVISED)
    migration = importlib.import_module("evidence.migrations.0010_claim_anchor_state")
    migration.orphan_lost_claims(apps, None)
    states = dict(Claim.objects.values_list("key", "anchor_state"))
    assert states == {"MOVED": "orphaned", "REWORDED": "orphaned", "REMOVED": "orphaned"} or states["REMOVED"] == (
        "orphaned"
    )
    removed = Claim.objects.get(pk=scene.removed.pk)
    assert (removed.anchor_revision, removed.anchor_suggestion) == (1, None)
    reworded = Claim.objects.get(pk=scene.reworded.pk)
    assert reworded.anchor_suggestion["quote"] == "Ketamine can cause bladder damage with very heavy use."
