"""The reviewer's queue, the review form and the editor's desk through HTTP: contents, validation,
POST-redirect-GET with messages, and query counts that do not grow with the data."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evidence.models import Citation, Claim, Study
from evidence.services import citation_create, study_set_retraction
from reviews import queues
from reviews.consensus import agreement_by_article
from reviews.models import Consensus, Flag, Review
from reviews.services import claim_adjudicate, claims_flag_retracted_reliance, flag_raise, reader_report_submit
from tests.builders import article_with_claims, cite, grade_fields, rate, trial


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


# --- The reviewer's queue ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_queue_sorts_claims_into_waiting_changed_and_reviewed(make_user):
    article = article_with_claims(4)
    waiting, reviewed, changed, published = article.claims.order_by("start")
    anna, ben = make_user("Reviewers"), make_user("Reviewers")
    rate(reviewed, anna)
    rate(changed, anna)
    citation_create(claim=changed, study=trial(), values=SUPPORTS)  # after anna's review
    for reviewer in (anna, ben):
        rate(published, reviewer)
    Claim.objects.filter(pk=published.pk).update(status=Claim.Status.PUBLISHED)

    response = signed_in(anna).get(reverse("reviews:queue"))
    assert response.status_code == 200
    assert [c.pk for c in response.context["waiting"].object_list] == [waiting.pk]
    assert [r.claim_id for r in response.context["changed"].object_list] == [changed.pk]
    assert {r.claim_id for r in response.context["reviewed"].object_list} == {reviewed.pk, changed.pk, published.pk}
    page = text(response)
    assert reverse("reviews:review-claim", args=[waiting.pk]) in page
    assert "Evidence changed" in page


@pytest.mark.django_db
def test_queue_puts_claims_sent_back_first_then_the_least_reviewed(make_user):
    article = article_with_claims(3)
    reviewed_twice, sent_back, fresh = article.claims.order_by("start")
    rate(reviewed_twice, make_user("Reviewers"))
    rate(reviewed_twice, make_user("Reviewers"))
    Claim.objects.filter(pk=sent_back.pk).update(status=Claim.Status.NEEDS_REREVIEW)
    response = signed_in(make_user("Reviewers")).get(reverse("reviews:queue"))
    assert [c.pk for c in response.context["waiting"].object_list] == [sent_back.pk, fresh.pk, reviewed_twice.pk]


@pytest.mark.django_db
def test_queue_paginates_each_list_on_its_own(make_user):
    article_with_claims(25)
    anna = make_user("Reviewers")
    client = signed_in(anna)
    first = client.get(reverse("reviews:queue"))
    assert len(first.context["waiting"].object_list) == 20
    assert 'href="?waiting=2"' in text(first)
    second = client.get(reverse("reviews:queue"), {"waiting": 2, "reviewed": 1})
    assert len(second.context["waiting"].object_list) == 5


SUPPORTS = {"relation": Citation.Relation.SUPPORTS, "note": "Shows it."}


def _queue_data(n_claims: int, reviewer: User, other: User) -> None:
    """n claims; the reviewer has reviewed half, a third of those since changed (a study linked through the
    service, which stamps the claim); every list non-empty; some sent back, some flagged."""
    claims = list(article_with_claims(n_claims).claims.order_by("start"))
    paper = trial()
    for i, claim in enumerate(claims):
        cite(claim, paper)
        if i % 2 == 0:
            rate(claim, reviewer)
        if i % 3 == 0:
            rate(claim, other)
    for claim in claims[: max(1, n_claims // 6) * 2 : 2]:
        citation_create(claim=claim, study=trial(), values=SUPPORTS)
    Claim.objects.filter(pk__in=[claim.pk for claim in claims[1::7]]).update(status=Claim.Status.NEEDS_REREVIEW)
    flag_raise(claim=claims[1], reason=Flag.Reason.OVERSTATED, note="Too strong.")


@pytest.mark.django_db
@pytest.mark.slow
def test_queue_query_count_does_not_grow(make_user):
    anna, ben = make_user("Reviewers"), make_user("Reviewers")
    client = signed_in(anna)
    url = reverse("reviews:queue")
    pages = {"waiting": 2, "changed": 2, "reviewed": 3}
    _queue_data(3, anna, ben)
    client.get(url)  # warm the session and permission caches alike for both measurements
    with CaptureQueriesContext(connection) as few:
        small = client.get(url)
    _queue_data(150, anna, ben)
    with CaptureQueriesContext(connection) as many:
        large = client.get(url)
    with CaptureQueriesContext(connection) as paged:
        later = client.get(url, pages)
    assert small.context["changed"].paginator.count >= 1 and large.context["changed"].paginator.count > 20
    assert large.context["waiting"].paginator.count > 40 and large.context["reviewed"].paginator.count > 60
    assert [later.context[name].number for name in pages] == list(pages.values())
    # the session, the user, the user's permissions (two), the three lists' lengths (with the assignments'),
    # their three pages, and the articles the search form offers
    assert len(many) == len(few) == len(paged), "a query runs per row: explain any new query in reviews.queues"
    assert len(few) <= 7, [query["sql"][:80] for query in few]


@pytest.mark.django_db
@pytest.mark.slow
def test_queue_pages_are_the_lists_slices(make_user):
    """reviewer_queue() fetches three pages in one query; they are exactly the pages of the three lists
    (reviews.queues), whatever page is asked for, including none, past the last or not a number."""
    anna, ben = make_user("Reviewers"), make_user("Reviewers")
    _queue_data(150, anna, ben)
    lists = {
        "waiting": list(queues.awaiting_my_review(anna)),
        "changed": list(queues.evidence_changed_since_my_review(anna)),
        "reviewed": list(queues.my_reviews(anna)),
    }
    assert all(len(rows) > 20 for rows in lists.values())
    for asked in (None, 1, 2, 3, 99, "last", "nonsense", 0):
        queue = queues.reviewer_queue(anna, {"waiting": asked, "changed": asked, "reviewed": asked}, 20)
        for name, rows in lists.items():
            page = getattr(queue, name)
            expected = Paginator(rows, 20).get_page(asked)
            assert page.number == expected.number and page.paginator.count == len(rows), (name, asked)
            assert [row.pk for row in page] == [row.pk for row in expected], (name, asked)
    # what the template reads of the reviews, as my_reviews() has it, on every page
    shown = []
    for number in Paginator(lists["reviewed"], 20).page_range:
        shown += queues.reviewer_queue(anna, {"reviewed": number}, 20).reviewed
    for got, want in zip(shown, lists["reviewed"], strict=True):
        assert (got.claim_id, got.updated_at, got.verdict, got.certainty, got.evidence_changed) == (
            want.claim_id,
            want.updated_at,
            want.verdict,
            want.certainty,
            want.evidence_changed,
        )
        assert got.claim.article.title == want.claim.article.title and got.claim.quote == want.claim.quote
    assert {review.claim_id for review in shown if review.evidence_changed} == {r.claim_id for r in lists["changed"]}
    queue = queues.reviewer_queue(anna, {}, 20)
    assert [claim.n_reviews for claim in queue.waiting] == [claim.n_reviews for claim in lists["waiting"][:20]]
    assert [claim.n_open_flags for claim in queue.waiting] == [claim.n_open_flags for claim in lists["waiting"][:20]]
    assert [claim.sent_back for claim in queue.waiting][:2] == [True, True]


@pytest.mark.django_db
def test_an_empty_queue_costs_no_page_query(make_user):
    client = signed_in(make_user("Reviewers"))
    client.get(reverse("reviews:queue"))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("reviews:queue"))
    assert len(queries) == 5  # session, user, permissions (two), the lists' lengths: all zero
    assert "No claim is waiting for you" in text(response)


# --- The review form ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_review_form_shows_the_claim_its_context_studies_and_the_rubric(make_user):
    article = article_with_claims(3)
    claim = article.claims.order_by("start")[1]
    supporting = trial(title="Ketamine for depression: a randomised trial", sample_size=97)
    retracted = trial(title="MDMA for PTSD: a phase 3 trial", design=Study.Design.RCT, sample_size=90)
    cite(claim, supporting, Citation.Relation.SUPPORTS)
    cite(claim, retracted, Citation.Relation.MIXED)
    study_set_retraction(study=retracted, status=Study.RetractionStatus.RETRACTED, note="Retracted in 2024.")
    page = text(signed_in(make_user("Reviewers")).get(reverse("reviews:review-claim", args=[claim.pk])))
    assert claim.quote in page
    assert f"<mark>{claim.quote}</mark>" in page
    before = article.claims.order_by("start")[0].quote
    assert before in page  # the sentence before it, as context
    assert "Ketamine for depression: a randomised trial" in page and "n = 97" in page
    assert "Randomised controlled trial" in page
    assert "⚠ Retracted" in page and "Retracted in 2024." in page
    assert "GRADE, in short" in page and "Publication bias" in page
    for value in ("high", "moderate", "low", "very_low", "supported", "contradicted", "randomised", "very_serious"):
        assert f'value="{value}"' in page
    assert 'name="risk_of_bias"' in page and 'name="conflict_of_interest"' in page


@pytest.mark.django_db
def test_review_form_refuses_a_review_without_rationale(make_user):
    claim = article_with_claims(1).claims.get()
    response = signed_in(make_user("Reviewers")).post(
        reverse("reviews:review-claim", args=[claim.pk]),
        {**grade_fields("low"), "certainty": "low", "verdict": "supported", "rationale": " "},
    )
    assert response.status_code == 400
    assert "rationale is required" in text(response) or "This field is required" in text(response)
    assert re.search(r'value="low"[^>]*checked', text(response))  # the input is kept
    assert not Review.objects.exists()


def error_summary(html: str) -> list[tuple[str, str]]:
    """(link target, message) of each entry of the page's error summary; fails when there is none."""
    summary = re.search(r'<div class="error-summary"([^>]*)>(.*?)</div>', html, re.S)
    assert summary, "no error summary on the page"
    assert "autofocus" in summary.group(1) and 'tabindex="-1"' in summary.group(1)  # focus moves to it
    return re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', summary.group(2))


@pytest.mark.django_db
def test_a_refused_review_says_why_at_the_top_with_a_link_to_each_field(make_user):
    claim = article_with_claims(1).claims.get()
    response = signed_in(make_user("Reviewers")).post(
        reverse("reviews:review-claim", args=[claim.pk]), {"verdict": "supported", "rationale": " "}
    )
    assert response.status_code == 400
    html = text(response)
    links = error_summary(html)
    assert links == [
        ("id_evidence_design_0", "Choose the design of the evidence: randomised trials or observational studies."),
        ("id_rationale", "Say why: a rationale is required."),
        ("id_conflict_of_interest_0", "Declare any conflict of interest: none, or declared with what it is."),
    ]
    # above the claim and the form, which come ~1,800 px further down
    assert html.index('class="error-summary"') < html.index('class="claim-quote"') < html.index('id="form-heading"')
    for target, _ in links:
        assert f'id="{target}"' in html
    # required fields say so, to the eye and to assistive technology
    assert re.search(r'<label for="id_rationale">Rationale <span class="required">\(required\)</span></label>', html)
    assert re.search(r'<textarea[^>]*required[^>]*aria-invalid="true"[^>]*id="id_rationale"', html)
    assert re.search(r'<legend>Conflict of interest <span class="required">\(required\)</span>', html)
    # the certainty follows from the ratings unless the reviewer chooses another
    assert re.search(r"<legend>Certainty of the evidence \(GRADE\)</legend>", html)


@pytest.mark.django_db
def test_review_submit_redirects_with_a_message_and_the_form_edits_it(make_user):
    claim = article_with_claims(1).claims.get()
    client = signed_in(make_user("Reviewers"))
    url = reverse("reviews:review-claim", args=[claim.pk])
    data = {
        **grade_fields("high"),
        "risk_of_bias": "serious",
        "imprecision": "serious",
        "certainty": "low",
        "verdict": "partly_supported",
        "read_full_text": "on",
        "rationale": "Open-label and small.",
    }
    response = client.post(url, data, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "Your review was submitted." in text(response)
    review = Review.objects.get()
    assert (review.risk_of_bias, review.imprecision, review.read_full_text) == ("serious", "serious", True)
    # the saved values come back in the form, and the next save is an edit
    assert "Open-label and small." in text(response) and "Save my review" in text(response)
    response = client.post(
        url, {**data, "certainty": "very_low", "certainty_reason": "Both trials small."}, follow=True
    )
    assert "Your review was updated." in text(response)
    assert Review.objects.get().certainty == "very_low"
    assert "Versions of your review (2)" in text(response)


@pytest.mark.django_db
def test_unknown_claim_is_404(make_user):
    assert signed_in(make_user("Reviewers")).get(reverse("reviews:review-claim", args=[999999])).status_code == 404


# --- The editor's desk ---------------------------------------------------------------------------------------


def _desk_data(n_claims: int) -> None:
    """Claims in every queue of the desk, in proportion to n."""
    from django.contrib.auth.models import Group

    reviewers = [User.objects.create_user(f"r{n_claims}-{i}") for i in range(3)]
    for reviewer in reviewers:
        reviewer.groups.add(Group.objects.get(name="Reviewers"))
    claims = list(article_with_claims(n_claims).claims.order_by("start"))
    retracted = trial(retraction_status=Study.RetractionStatus.RETRACTED)
    for i, claim in enumerate(claims):
        kind = i % 6
        if kind == 0:  # no supporting study, awaiting reviews; a reader reports one missing
            reader_report_submit(claim=claim, kind="missing_study", message="A trial is missing.")
            continue
        cite(claim, retracted if kind == 1 else trial())
        if kind == 2:  # disputed
            rate(claim, reviewers[0], "high", "supported")
            rate(claim, reviewers[1], "very_low", "unsupported")
        if kind == 3:  # agreed: ready to publish
            rate(claim, reviewers[0], "moderate", "supported")
            rate(claim, reviewers[1], "low", "supported")
        if kind == 4:  # flagged
            flag_raise(claim=claim, reason=Flag.Reason.OUTDATED, note="Newer trials exist.")
            rate(claim, reviewers[2], "low", "supported")
        if kind == 5:  # a revision of the text lost its quote (the queue reads only the anchor's state)
            Claim.objects.filter(pk=claim.pk).update(anchor_state=Claim.AnchorState.ORPHANED, anchor_revision=1)
    # what the admin and the importers do after linking studies: flag reliance on a retracted one
    claims_flag_retracted_reliance(claims=Claim.objects.filter(pk__in=[c.pk for c in claims]))


@pytest.mark.django_db
def test_desk_shows_every_queue(make_user):
    _desk_data(12)
    response = signed_in(make_user("Editors")).get(reverse("reviews:desk"))
    totals = {section["queue"].slug: section["total"] for section in response.context["sections"]}
    assert totals == {
        "flags": 4,  # kind 4 by an editor, kind 1 by the system
        "reports": 2,  # kind 0
        "anchors-lost": 2,  # kind 5
        "disputed": 2,
        "retracted": 2,
        "unsupported": 4,  # kinds 0 and 1: a retracted study supports nothing
        "awaiting": 8,  # kinds 0, 1, 4, 5: fewer than two reviews
        "publish": 2,
    }
    page = text(response)
    assert "Open flags" in page and "Newer trials exist." in page
    assert "Cites a retracted study as evidence" in page  # the system's flag, raised by claims_flag_retracted_reliance
    assert "Krippendorff" in page


@pytest.mark.django_db
def test_desk_shows_alpha_per_article_or_says_it_is_undefined(make_user):
    # Five claims rated twice, ranks (4,4), (3,2), (1,1), (4,3), (2,2): ten pairable values, n = 2, 3, 2, 3
    # of ranks 1-4; ordinal δ² 6.25 between neighbours, 25 two apart, 56.25 three apart. Σ o δ² = 2 · 6.25
    # + 2 · 6.25 = 25, Σ n n δ² = 2 · 775 = 1550, so alpha = 1 − 9 · 25 / 1550 = 53/62 = 0.855.
    agreeing, solo = article_with_claims(5), article_with_claims(2)
    anna, ben = make_user("Reviewers"), make_user("Reviewers")
    for claim, (a, b) in zip(
        agreeing.claims.order_by("start"),
        [("high", "high"), ("moderate", "low"), ("very_low", "very_low"), ("high", "moderate"), ("low", "low")],
        strict=True,
    ):
        rate(claim, anna, a)
        rate(claim, ben, b)
    for claim in solo.claims.all():
        rate(claim, anna, "low")
    response = signed_in(make_user("Editors")).get(reverse("reviews:desk"))
    rows = {article.pk: result for article, result in response.context["agreement"]}
    assert rows[agreeing.pk].alpha == pytest.approx(53 / 62)
    assert rows[solo.pk].alpha is None
    page = text(response)
    assert "0.855" in page
    assert "not enough data" in page and "0 of the 5 claims" in page


@pytest.mark.django_db
def test_desk_says_not_enough_data_for_alpha_from_too_few_claims(make_user):
    """One claim rated moderate and very low gave alpha 0.000 on the desk, as if it measured something."""
    article = article_with_claims(5)
    anna, ben = make_user("Reviewers"), make_user("Reviewers")
    first, *others = article.claims.order_by("start")
    rate(first, anna, "moderate")
    rate(first, ben, "very_low")
    for claim in others:
        rate(claim, anna, "low")
    result = agreement_by_article()[article.pk]
    assert result.alpha == 0.0 and not result.enough_data  # the arithmetic is kept; the report is not
    editor = signed_in(make_user("Editors"))

    def row() -> str:
        page = text(editor.get(reverse("reviews:desk")))
        return re.search(rf'<th scope="row">{article.title}</th>(.*?)</tr>', page, re.S).group(1)

    assert "0.000" not in row() and "not enough data" in row() and "1 of the 5 claims" in row()
    for claim in others[:3]:  # four claims with two reviews: still too few
        rate(claim, ben, "low")
    assert "not enough data" in row() and "4 of the 5 claims" in row()
    rate(others[3], ben, "high")  # a fifth: alpha is a number
    assert "not enough data" not in row() and re.search(r"<strong>-?\d\.\d{3}</strong>", row())


@pytest.mark.django_db
@pytest.mark.slow
def test_desk_query_count_does_not_grow(make_user):
    client = signed_in(make_user("Editors"))
    url = reverse("reviews:desk")
    _desk_data(12)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _desk_data(120)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert all(section["total"] > 8 for section in response.context["sections"])
    assert len(many) == len(few), "a query runs per row: explain any new query or join it in reviews.queues"


@pytest.mark.django_db
def test_desk_queue_pages(make_user):
    _desk_data(60)
    client = signed_in(make_user("Editors"))
    response = client.get(reverse("reviews:desk-queue", args=["awaiting"]))
    assert response.status_code == 200 and response.context["page"].paginator.count == 40
    assert len(response.context["page"].object_list) == 20
    assert client.get(reverse("reviews:desk-queue", args=["nonsense"])).status_code == 404


@pytest.mark.django_db
def test_refusals_explain_themselves(make_user):
    response = signed_in(make_user("Curators")).get(reverse("reviews:queue"))
    assert response.status_code == 403
    assert "does not have the role this page needs" in text(response)


@pytest.mark.django_db
def test_editor_claim_page_query_count_does_not_grow_with_reviews_and_flags(make_user):
    claim = article_with_claims(1).claims.get()
    editor = make_user("Editors")
    client = signed_in(editor)
    url = reverse("reviews:editor-claim", args=[claim.pk])
    rate(claim, make_user("Reviewers"), "high")
    cite(claim, trial())
    flag_raise(claim=claim, reason=Flag.Reason.OUTDATED, note="Old.", raised_by=editor)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(6):
        rate(claim, make_user("Reviewers"), "low", rationale="First.")
        cite(claim, trial())
    for reviewer in Review.objects.filter(claim=claim).exclude(certainty="high").select_related("reviewer"):
        rate(claim, reviewer.reviewer, "moderate", rationale="Second.")
    flag_raise(claim=claim, reason=Flag.Reason.OVERSTATED, note="Strong.", raised_by=editor)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["reviews"]) == 7 and len(response.context["history"]) > 20
    assert len(many) == len(few)


# --- Editors' actions: validation and messages ------------------------------------------------------------


@pytest.mark.django_db
def test_raise_flag_needs_a_reason_and_a_note_and_refuses_a_duplicate(make_user):
    claim = article_with_claims(1).claims.get()
    client = signed_in(make_user("Editors"))
    url = reverse("reviews:flag-raise", args=[claim.pk])
    assert client.post(url, {"reason": "overstated", "note": ""}).status_code == 400
    assert client.post(url, {"reason": "", "note": "Why"}).status_code == 400
    response = client.post(url, {"reason": "overstated", "note": "Says cures."}, follow=True)
    assert "Flagged as “Overstated”." in text(response)
    again = client.post(url, {"reason": "overstated", "note": "Again."})
    assert again.status_code == 400 and "already has an open" in text(again)
    assert Flag.objects.filter(claim=claim).count() == 1


@pytest.mark.django_db
def test_raise_flag_about_a_study_the_claim_does_not_cite_is_refused(make_user):
    claim = article_with_claims(1).claims.get()
    stranger = trial()
    response = signed_in(make_user("Editors")).post(
        reverse("reviews:flag-raise", args=[claim.pk]), {"reason": "unsupported", "note": "x", "study": stranger.pk}
    )
    assert response.status_code == 400 and not Flag.objects.exists()


@pytest.mark.django_db
def test_closing_a_flag_needs_a_note_and_happens_once(make_user):
    claim = article_with_claims(1).claims.get()
    editor = make_user("Editors")
    flag = flag_raise(claim=claim, reason=Flag.Reason.OUTDATED, note="Old.")
    client = signed_in(editor)
    url = reverse("reviews:flag-dismiss", args=[flag.pk])
    refused = client.post(url, {f"flag{flag.pk}-note": ""})
    assert refused.status_code == 302 and Flag.objects.get(pk=flag.pk).is_open  # back to the page, refused
    response = client.post(url, {f"flag{flag.pk}-note": "Still current."}, follow=True)
    assert "dismissed" in text(response)
    again = client.post(reverse("reviews:flag-resolve", args=[flag.pk]), {f"flag{flag.pk}-note": "x"}, follow=True)
    assert "already dismissed" in text(again)
    flag.refresh_from_db()
    assert (flag.status, flag.resolution_note, flag.resolved_by) == ("dismissed", "Still current.", editor)


@pytest.mark.django_db
def test_a_refused_flag_close_comes_back_to_the_claims_page_with_its_error(make_user):
    """A failed resolve left the address at /editor/flags/N/resolve/, a page that answers 405 when
    reloaded or shared: the refusal now redirects to the claim's editor page, which shows the error."""
    claim = article_with_claims(1).claims.get()
    flag = flag_raise(claim=claim, reason=Flag.Reason.OUTDATED, note="Old.")
    client = signed_in(make_user("Editors"))
    for action in ("reviews:flag-resolve", "reviews:flag-dismiss"):
        response = client.post(reverse(action, args=[flag.pk]), {f"flag{flag.pk}-note": " "}, follow=True)
        assert response.redirect_chain == [(reverse("reviews:editor-claim", args=[claim.pk]), 302)]
        page = text(response)
        assert error_summary(page) == [(f"id_flag{flag.pk}-note", "Say what was done, or why the flag does not apply.")]
        assert f'id="id_flag{flag.pk}-note_error"' in page
        flag.refresh_from_db()
        assert flag.is_open
    # shown once: the next visit is the plain page
    assert 'class="error-summary"' not in text(client.get(reverse("reviews:editor-claim", args=[claim.pk])))


@pytest.mark.django_db
def test_a_system_flag_about_a_long_title_ends_its_sentence_once(make_user):
    """ "… for treatm…." : the note put a full stop after a title cut with an ellipsis, or ending in one."""
    claim = article_with_claims(2).claims.order_by("start")
    long_title = (
        "Esketamine nasal spray for rapid reduction of major depressive disorder symptoms in patients "
        "who have active suicidal ideation with intent: results of a phase 3 trial of treatment"
    )
    for on, title in zip(claim, (long_title, "A small open-label trial."), strict=True):
        cited = trial(title=title, year=2020)
        cite(on, cited)
        study_set_retraction(study=cited, status=Study.RetractionStatus.RETRACTED, note="Retracted.")
    notes = sorted(Flag.objects.filter(reason=Flag.Reason.RETRACTED_SOURCE).values_list("note", flat=True))
    assert len(notes) == 2
    for note in notes:
        assert not note.endswith(("….", "..")), note
        assert note.endswith(("…", ".")), note
    page = text(signed_in(make_user("Editors")).get(reverse("reviews:desk")))
    assert "…." not in page and "trial.." not in page


@pytest.mark.django_db
def test_adjudication_form_needs_a_rationale(make_user):
    claim = article_with_claims(1).claims.get()
    rate(claim, make_user("Reviewers"), "high")
    client = signed_in(make_user("Editors"))
    url = reverse("reviews:adjudicate", args=[claim.pk])
    response = client.post(url, {**grade_fields("low"), "certainty": "low", "verdict": "supported", "rationale": ""})
    assert response.status_code == 400 and not Consensus.objects.get(claim=claim).is_adjudicated
    response = client.post(
        url,
        {**grade_fields("low"), "certainty": "low", "verdict": "supported", "rationale": "Small trials."},
        follow=True,
    )
    assert "Your adjudication was recorded" in text(response)
    assert "Change the adjudication" in text(response)


@pytest.mark.django_db
def test_the_adjudication_form_preselects_nothing_and_shows_each_reviewers_position(make_user):
    """Moderate/supported and very low/unsupported make an automatic "Unsupported · Low", a verdict no
    reviewer proposed: the form must not offer it as the answer."""
    claim = article_with_claims(1).claims.get()
    rate(claim, make_user("Reviewers", username="rosa"), "moderate", "supported")
    rate(claim, make_user("Reviewers", username="tariq"), "very_low", "unsupported")
    page = text(signed_in(make_user("Editors")).get(reverse("reviews:editor-claim", args=[claim.pk])))
    form = re.search(r'<form method="post" action="[^"]*/adjudicate/".*?</form>', page, re.S).group(0)
    assert "checked" not in form
    positions = re.search(r'<table class="data-table positions".*?</table>', page, re.S)
    assert positions, "no table of the reviewers' positions"
    assert page.index(positions.group(0)) < page.index(form)  # above the form
    rows = [
        " ".join(re.sub(r"<[^>]+>", " ", row).split())
        for row in re.findall(r"<tr>(.*?)</tr>", positions.group(0), re.S)[1:]
    ]
    assert rows == ["rosa Moderate ✓ Supported none", "tariq Very low ✗ Unsupported none"]


@pytest.mark.django_db
def test_publish_explains_what_blocks_it(make_user):
    claim = article_with_claims(1).claims.get()
    rate(claim, make_user("Reviewers"), "high", "supported")
    rate(claim, make_user("Reviewers"), "very_low", "unsupported")
    client = signed_in(make_user("Editors"))
    page = text(client.get(reverse("reviews:editor-claim", args=[claim.pk])))
    assert "Not ready to publish" in page and "Its reviewers disagree" in page
    response = client.post(reverse("reviews:publish", args=[claim.pk]), {"rationale": "Anyway."})
    assert response.status_code == 400 and "cannot be published yet" in text(response)
    assert not Consensus.objects.get(claim=claim).is_published


@pytest.mark.django_db
def test_publish_shows_the_verdict_to_readers(make_user):
    claim = article_with_claims(1).claims.get()
    editor = make_user("Editors")
    rate(claim, make_user("Reviewers"), "high", "supported")
    rate(claim, make_user("Reviewers"), "very_low", "unsupported")
    claim_adjudicate(
        claim=claim, certainty="low", verdict="partly_supported", rationale="Half of it.", adjudicated_by=editor
    )
    response = signed_in(editor).post(reverse("reviews:publish", args=[claim.pk]), {"rationale": ""}, follow=True)
    assert "Published: Partly supported, low certainty." in text(response)
    public = text(Client().get(reverse("evidence:claim-detail", args=[claim.pk])))
    assert "Partly supported" in public and "Half of it." in public


@pytest.mark.django_db
def test_the_certainty_spread_reads_the_same_on_every_page(make_user):
    """Moderate and very low are two levels apart: the public page said "spread over 3 levels", the
    editor's "2 levels" and the desk "spread 2" for the same two reviews."""
    claim = article_with_claims(1).claims.get()
    editor = make_user("Editors")
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    rate(claim, make_user("Reviewers"), "very_low", "unsupported")
    claim_adjudicate(
        claim=claim, certainty="low", verdict="partly_supported", rationale="Half of it.", adjudicated_by=editor
    )
    wording = "certainties 2 levels apart"
    editors = text(signed_in(editor).get(reverse("reviews:editor-claim", args=[claim.pk])))
    signed_in(editor).post(reverse("reviews:publish", args=[claim.pk]), {"rationale": ""})
    public = text(Client().get(reverse("evidence:claim-detail", args=[claim.pk])))
    for page in (editors, public):
        assert wording in page.lower()
        assert "3 levels" not in page and "spread 2" not in page and "2 levels<" not in page
    rate(claim, make_user("Reviewers"), "high", "contradicted")  # disputed again: on the desk's queue
    desk = text(signed_in(editor).get(reverse("reviews:desk-queue", args=["disputed"])))
    assert "Disputed: certainties 3 levels apart, verdicts split" in desk


@pytest.mark.django_db
def test_publishing_over_an_open_flag_asks_for_confirmation_naming_it(make_user):
    claim = article_with_claims(1).claims.get()
    editor = make_user("Editors")
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    flag_raise(claim=claim, reason=Flag.Reason.OVERSTATED, note="Says 'cures'.", raised_by=editor)
    flag_raise(claim=claim, reason=Flag.Reason.OUTDATED, note="Older trials only.", raised_by=editor)
    client = signed_in(editor)
    page = text(client.get(reverse("reviews:editor-claim", args=[claim.pk])))
    publish_form = re.search(r'<form method="post" action="[^"]*/publish/".*?</form>', page, re.S).group(0)
    assert "2 open flags" in publish_form and "Overstated" in publish_form and "Outdated" in publish_form
    assert 'name="confirm_open_flags"' in publish_form

    url = reverse("reviews:publish", args=[claim.pk])
    refused = client.post(url, {"rationale": "Two reviewers agree."})
    assert refused.status_code == 400
    assert not Consensus.objects.get(claim=claim).is_published
    [(target, message)] = error_summary(text(refused))
    assert target == "id_publish-confirm_open_flags" and "Overstated" in message and "Outdated" in message

    response = client.post(url, {"rationale": "Two reviewers agree.", "confirm_open_flags": "on"}, follow=True)
    assert "Published: Supported, moderate certainty." in text(response)
    assert Flag.objects.open().filter(claim=claim).count() == 2  # publishing does not close them


@pytest.mark.django_db
def test_publishing_with_no_open_flag_asks_nothing_more(make_user):
    claim = article_with_claims(1).claims.get()
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    rate(claim, make_user("Reviewers"), "moderate", "supported")
    client = signed_in(make_user("Editors"))
    assert "confirm_open_flags" not in text(client.get(reverse("reviews:editor-claim", args=[claim.pk])))
    response = client.post(reverse("reviews:publish", args=[claim.pk]), {"rationale": "Both agree."}, follow=True)
    assert "Published: Supported, moderate certainty." in text(response)


@pytest.mark.django_db
def test_editor_claim_page_shows_the_history_of_reviews(make_user):
    claim = article_with_claims(1).claims.get()
    anna = make_user("Reviewers", username="anna")
    rate(claim, anna, "high", rationale="First.")
    rate(claim, anna, "low", rationale="Second.")
    page = text(signed_in(make_user("Editors")).get(reverse("reviews:editor-claim", args=[claim.pk])))
    assert "Review by anna" in page
    assert "<del>High</del> → <ins>Low</ins>" in page
    assert "<del>First.</del> → <ins>Second.</ins>" in page


# --- Signing in and out ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("group", "landing"),
    [("Reviewers", "reviews:queue"), ("Editors", "reviews:desk"), ("Curators", "curate:workspace")],
)
def test_sign_in_lands_on_the_page_for_the_role(make_user, group, landing):
    user = make_user(group)
    client = Client()
    login = client.get(reverse("login"))
    assert login.status_code == 200 and "Sign in" in text(login) and 'class="site-header"' in text(login)
    response = client.post(
        reverse("login"), {"username": user.username, "password": "a-long-test-password"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse(landing)


@pytest.mark.django_db
def test_sign_in_returns_to_the_page_asked_for(make_user):
    user = make_user("Reviewers")
    url = reverse("reviews:queue")
    response = Client().get(url)
    assert response["Location"] == f"{reverse('login')}?next={url}"
    response = Client().post(
        response["Location"], {"username": user.username, "password": "a-long-test-password", "next": url}
    )
    assert response["Location"] == url


@pytest.mark.django_db
def test_nav_shows_the_role_pages_and_sign_out_is_a_post(make_user):
    anonymous = text(Client().get(reverse("evidence:home")))
    assert "Sign in" in anonymous and "Review queue" not in anonymous and "Editor's desk" not in anonymous
    reviewer = signed_in(make_user("Reviewers"))
    page = text(reviewer.get(reverse("evidence:home")))
    assert "Review queue" in page and "Editor's desk" not in page
    assert f'method="post" action="{reverse("logout")}"' in page
    editor_page = text(signed_in(make_user("Editors")).get(reverse("evidence:home")))
    assert "Editor's desk" in editor_page and "Review queue" not in editor_page
    assert reviewer.get(reverse("logout")).status_code == 405
    response = reviewer.post(reverse("logout"))
    assert response["Location"] == reverse("evidence:home")
    assert reviewer.get(reverse("reviews:queue")).status_code == 302


@pytest.mark.django_db
def test_password_change(make_user):
    user = make_user("Reviewers")
    client = signed_in(user)
    assert "Change your password" in text(client.get(reverse("password_change")))
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "a-long-test-password",
            "new_password1": "plum-harbour-sextant",
            "new_password2": "plum-harbour-sextant",
        },
        follow=True,
    )
    assert "Password changed" in text(response)
    user.refresh_from_db()
    assert user.check_password("plum-harbour-sextant")


@pytest.mark.django_db
def test_password_reset_by_email(make_user, mailoutbox):
    user = make_user("Reviewers")
    client = Client()
    response = client.post(reverse("password_reset"), {"email": user.email}, follow=True)
    assert "Check your email" in text(response)
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [user.email]
    link = next(line for line in mailoutbox[0].body.splitlines() if "/accounts/reset/" in line)
    path = link.split("testserver", 1)[1]
    form = client.get(path, follow=True)
    assert "Choose a new password" in text(form)
    response = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "plum-harbour-sextant", "new_password2": "plum-harbour-sextant"},
        follow=True,
    )
    assert "Password set" in text(response)
    user.refresh_from_db()
    assert user.check_password("plum-harbour-sextant")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_queue_keeps_its_lists_until_the_data_changes(make_user, settings):
    """With the page cache on (off in tests: a test's transaction never commits, so the data version never
    moves), a reviewer's lists are kept per query string and data version: unchanged data costs one
    query on top of signing in (the version, which also tells that nothing moved), a committed change
    shows at once."""
    settings.PAGE_CACHE = True
    anna, ben = make_user("Reviewers"), make_user("Reviewers")
    _queue_data(60, anna, ben)  # 30 reviewed by anna: two pages
    client = signed_in(anna)
    url = reverse("reviews:queue")
    first = client.get(url)
    with CaptureQueriesContext(connection) as kept:
        again = client.get(url)
    assert lists_of(again) == lists_of(first)
    assert len(kept) == 5, [query["sql"][:80] for query in kept]  # session, user, permissions (2), version
    assert lists_of(client.get(url, {"reviewed": 2})) != lists_of(first)  # another page, kept apart
    assert lists_of(signed_in(ben).get(url)) != lists_of(first)  # another reviewer's, kept apart

    claim = next(review.claim for review in first.context["reviewed"] if not review.evidence_changed)
    citation_create(claim=claim, study=trial(), values=SUPPORTS)  # commits: the version moves
    with CaptureQueriesContext(connection) as rebuilt:
        changed = client.get(url)
    assert len(rebuilt) == 7  # the kept five, the lists' pages, and the articles the search form offers
    assert claim.pk in {review.claim_id for review in changed.context["changed"]}
    assert lists_of(changed) != lists_of(first)


def lists_of(response) -> str:
    """The reviewer's lists on the queue page (the rest, e.g. the sign-out form's token, differs each time)."""
    return text(response).split('<nav class="jump-links"', 1)[1].split("</main>", 1)[0]
