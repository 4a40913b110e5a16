"""The review workflow through the admin site: the same services and the same permissions as the pages.

Every role × action on reviews, the read-only consensus and its adjudicate/publish actions, and flags.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from evidence.models import Claim
from reviews.models import Consensus, Flag, Review
from tests.builders import article_with_claims, grade_fields, rate, users_by_role

ROLES = ["anonymous", "reviewer", "other_reviewer", "curator", "editor", "admin"]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def users(make_user) -> dict[str, User | None]:
    return users_by_role(make_user)


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def review_form(claim: Claim, **values) -> dict[str, str]:
    data = {
        **grade_fields("low"),
        "claim": str(claim.pk),
        "certainty": "low",
        "verdict": "partly_supported",
        "rationale": "Small trials.",
    }
    data.update(values)
    return data


def refused(response) -> bool:
    """The admin refuses with 403 for staff without permission, and sends anyone else to sign in."""
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    )


# --- Reviews ---------------------------------------------------------------------------------------------

ADD_REVIEW = {"reviewer", "other_reviewer", "admin"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_add_a_review_in_the_admin_goes_through_the_service(users, role):
    claim = article_with_claims(1).claims.get()
    data = review_form(claim, imprecision="serious", certainty="moderate")
    if role == "admin":
        data["reviewer"] = str(users["reviewer"].pk)  # an administrator may enter a review for someone
    response = client_for(users[role]).post(reverse("admin:reviews_review_add"), data)
    if role not in ADD_REVIEW:
        assert refused(response) and not Review.objects.exists()
        return
    assert response.status_code == 302, response.content[:2000]
    review = Review.objects.get()
    assert review.reviewer == (users["reviewer"] if role == "admin" else users[role])
    assert review.imprecision == "serious" and review.computed_certainty == "moderate"
    # the service's side effects: consensus row, claim status, one version with its reason
    assert Consensus.objects.get(claim=claim).n_reviews == 1
    claim.refresh_from_db()
    assert claim.status == Claim.Status.IN_REVIEW
    assert list(review.history.values_list("history_change_reason", flat=True)) == ["submitted"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_edit_a_review_in_the_admin(users, role):
    """Only its author (and an administrator) may change a review; the consensus follows."""
    claim = article_with_claims(1).claims.get()
    review = rate(claim, users["reviewer"], "high", "supported", rationale="First.")
    data = {**grade_fields("very_low"), "certainty": "very_low", "verdict": "unsupported", "rationale": "Second."}
    data["_save"] = "Save"
    data["reviewer"] = str(users["editor"].pk)  # ignored: a review keeps its author, even for an administrator
    response = client_for(users[role]).post(reverse("admin:reviews_review_change", args=[review.pk]), data)
    review.refresh_from_db()
    if role in {"reviewer", "admin"}:
        assert response.status_code == 302, response.content[:2000]
        assert (review.reviewer, review.certainty, review.rationale) == (users["reviewer"], "very_low", "Second.")
        assert Consensus.objects.get(claim=claim).certainty == "very_low"
        assert review.history.count() == 2
    else:
        assert refused(response) or response.status_code == 302 and review.rationale == "First."
        assert (review.certainty, review.rationale) == ("high", "First.")
        assert Consensus.objects.get(claim=claim).certainty == "high"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_others_reviews_in_the_admin_before_and_after_submitting(users, role):
    """In the admin a reviewer only ever sees their own reviews; editors and administrators see all."""
    claim = article_with_claims(1).claims.get()
    theirs = rate(claim, users["other_reviewer"], rationale="Hidden reasoning 91c.")
    client = client_for(users[role])

    def sees() -> bool:
        listing = client.get(reverse("admin:reviews_review_changelist"))
        detail = client.get(reverse("admin:reviews_review_change", args=[theirs.pk]))
        return any(r.status_code == 200 and "Hidden reasoning 91c." in r.content.decode() for r in (listing, detail))

    before = sees()
    if users[role] is not None and role != "other_reviewer":
        rate(claim, users[role])
    after = sees()
    expected = role in {"editor", "admin", "other_reviewer"}
    assert (before, after) == (expected, expected)


@pytest.mark.django_db
def test_deleting_a_review_in_the_admin_refreshes_the_consensus(users):
    claim = article_with_claims(1).claims.get()
    rate(claim, users["reviewer"], "high", "supported")
    other = rate(claim, users["other_reviewer"], "very_low", "unsupported")
    response = client_for(users["admin"]).post(reverse("admin:reviews_review_delete", args=[other.pk]), {"post": "yes"})
    assert response.status_code == 302
    row = Consensus.objects.get(claim=claim)
    assert (row.n_reviews, row.disputed) == (1, False)


# --- Consensus: read-only, with adjudicate and publish actions -------------------------------------------

SEE_CONSENSUS = {"editor", "admin"}


@pytest.fixture
def disputed(users) -> Claim:
    claim = article_with_claims(1).claims.get()
    rate(claim, users["reviewer"], "high", "supported")
    rate(claim, users["other_reviewer"], "very_low", "unsupported")
    return claim


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_consensus_is_read_only_in_the_admin(users, disputed, role):
    client = client_for(users[role])
    listing = client.get(reverse("admin:reviews_consensus_changelist"))
    detail_url = reverse("admin:reviews_consensus_change", args=[disputed.pk])
    if role not in SEE_CONSENSUS:
        assert refused(listing) and refused(client.get(detail_url))
        return
    assert listing.status_code == 200
    detail = client.get(detail_url)
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    client.post(detail_url, {"certainty": "high", "verdict": "supported", "disputed": "", "_save": "Save"})
    assert Consensus.objects.get(claim=disputed).disputed  # unchanged
    assert client.get(reverse("admin:reviews_consensus_add")).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_adjudicate_then_publish_through_the_admin_actions(users, disputed, role):
    client = client_for(users[role])
    url = reverse("admin:reviews_consensus_changelist")
    selected = {"_selected_action": [str(disputed.pk)], "index": "0"}
    client.post(url, {**selected, "action": "publish_selected", "rationale": "Too early."})
    assert not Consensus.objects.get(claim=disputed).is_published  # disputed and not adjudicated: refused
    client.post(
        url,
        {
            **selected,
            "action": "adjudicate_selected",
            "certainty": "low",
            "verdict": "partly_supported",
            "rationale": "",
        },
    )
    assert not Consensus.objects.get(claim=disputed).is_adjudicated  # no rationale: refused
    client.post(
        url,
        {
            **selected,
            "action": "adjudicate_selected",
            "certainty": "low",
            "verdict": "partly_supported",
            "rationale": "Half of it holds.",
        },
    )
    client.post(url, {**selected, "action": "publish_selected", "rationale": ""})
    row = Consensus.objects.get(claim=disputed)
    allowed = role in SEE_CONSENSUS
    assert row.is_adjudicated == allowed and row.is_published == allowed
    if allowed:
        assert (row.adjudicated_by, row.published_by) == (users[role], users[role])
        assert (row.published_verdict, row.published_rationale) == ("partly_supported", "Half of it holds.")


@pytest.mark.django_db
def test_admin_action_reports_what_it_refused(users, disputed):
    response = client_for(users["editor"]).post(
        reverse("admin:reviews_consensus_changelist"),
        {"_selected_action": [str(disputed.pk)], "index": "0", "action": "publish_selected", "rationale": ""},
        follow=True,
    )
    page = response.content.decode()
    assert "Published 0 verdict(s)." in page and "reviewers disagree" in page


# --- Flags ---------------------------------------------------------------------------------------------

FLAG_EDITORS = {"editor", "admin"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_raise_and_resolve_flags_in_the_admin(users, role):
    claim = article_with_claims(1).claims.get()
    client = client_for(users[role])
    response = client.post(
        reverse("admin:reviews_flag_add"), {"claim": str(claim.pk), "reason": "overstated", "note": "Says cures."}
    )
    raised = Flag.objects.filter(claim=claim, reason="overstated").first()
    assert (raised is not None) == (role in FLAG_EDITORS), getattr(response, "content", b"")[:1000]
    if raised is None:
        assert refused(response)
        raised = Flag.objects.create(claim=claim, reason="overstated", note="Says cures.")
    client.post(
        reverse("admin:reviews_flag_changelist"),
        {"_selected_action": [str(raised.pk)], "index": "0", "action": "resolve_selected", "note": "Reworded."},
    )
    raised.refresh_from_db()
    assert (raised.status == Flag.Status.RESOLVED) == (role in FLAG_EDITORS)


# --- Evidence changed: the admin's citation and retraction writes stamp the claim -------------------------


def test_the_admins_evidence_writes_stamp_the_claims(users):
    """Each admin write that changes a claim's evidence marks it for its reviewers' queues: the citations
    inline on the claim's page (add, edit, remove), the citation pages (add, edit, delete one or several),
    and a study's retraction status; a page saved without a change does not."""
    from evidence.models import Citation, Study
    from tests.builders import cite, trial
    from tests.test_admin_roles import admin_url, form_data, submit

    first, second, third = article_with_claims(3).claims.order_by("start")
    paper, other = trial(), trial()
    cite(first, paper)
    client = client_for(users["admin"])
    stamps: dict[int, object] = {}

    def changed(*claims: Claim) -> set[int]:
        """The claims whose stamp moved since the last call."""
        now = dict(Claim.objects.values_list("pk", "evidence_changed_at"))
        moved = {pk for pk, when in now.items() if when != stamps.get(pk)}
        stamps.update(now)
        return moved

    changed()
    page = admin_url(Claim, "change", first.pk)
    assert submit(client, page, "claim", {}).status_code == 302
    assert changed() == set()  # saved as it was

    data = form_data(client.get(page), "claim")
    data.update({"citations-0-note": "Shows less on a second reading.", "_save": "Save"})
    assert client.post(page, data).status_code == 302
    assert changed() == {first.pk}

    data = form_data(client.get(page), "claim")
    total = int(data["citations-TOTAL_FORMS"])
    data.update(
        {
            "citations-TOTAL_FORMS": str(total + 1),
            f"citations-{total}-study": str(other.pk),
            f"citations-{total}-relation": "mixed",
            f"citations-{total}-directness": "direct",
            "_save": "Save",
        }
    )
    assert client.post(page, data).status_code == 302
    assert changed() == {first.pk}

    data = form_data(client.get(page), "claim")
    index = next(i for i in range(int(data["citations-TOTAL_FORMS"])) if data[f"citations-{i}-study"] == str(other.pk))
    data.update({f"citations-{index}-DELETE": "on", "_save": "Save"})
    assert client.post(page, data).status_code == 302
    assert changed() == {first.pk} and list(first.citations.values_list("study", flat=True)) == [paper.pk]

    response = submit(
        client,
        admin_url(Citation, "add"),
        "citation",
        {"claim": str(second.pk), "study": str(paper.pk), "relation": "supports"},
    )
    assert response.status_code == 302
    assert changed() == {second.pk}
    citation = Citation.objects.get(claim=second, study=paper)
    # a citation stays on its claim (to cite for another, add a citation): a posted claim is ignored
    change = {"note": "Only in adults.", "claim": str(third.pk)}
    response = submit(client, admin_url(Citation, "change", citation.pk), "citation", change)
    assert response.status_code == 302
    assert changed() == {second.pk}
    assert Citation.objects.values_list("claim", "note").get(pk=citation.pk) == (second.pk, "Only in adults.")
    assert client.post(admin_url(Citation, "delete", citation.pk), {"post": "yes"}).status_code == 302
    assert changed() == {second.pk}

    cite(second, paper)
    changed()
    selected = [str(pk) for pk in Citation.objects.filter(study=paper).values_list("pk", flat=True)]
    bulk = {"action": "delete_selected", "_selected_action": selected, "post": "yes"}
    assert client.post(admin_url(Citation, "changelist"), bulk).status_code == 302
    assert changed() == {first.pk, second.pk} and not Citation.objects.filter(study=paper).exists()

    cite(first, other)
    cite(second, other)
    changed()
    response = submit(client, admin_url(Study, "change", other.pk), "study", {"retraction_status": "retracted"})
    assert response.status_code == 302
    assert Study.objects.get(pk=other.pk).retraction_status == "retracted"
    assert changed() == {first.pk, second.pk}  # both cite it


def test_reverting_from_the_admin_history_stamps_the_claims(users):
    """A revert's form starts from the old version, so what it restores is not among the form's changes;
    the admin compares with the stored row instead."""
    from evidence.models import Citation, Study
    from evidence.services import citation_update, study_set_retraction
    from tests.builders import cite, trial
    from tests.test_admin_roles import admin_url, form_data

    claim = article_with_claims(1).claims.get()
    paper = trial()
    citation = cite(claim, paper)
    client = client_for(users["admin"])

    def stamp():
        return Claim.objects.values_list("evidence_changed_at", flat=True).get(pk=claim.pk)

    def revert(obj, version, model_name: str) -> None:
        url = admin_url(type(obj), "simple_history", obj.pk, version.history_id)
        response = client.post(url, {**form_data(client.get(url), model_name), "_save": "Save"})
        assert response.status_code == 302, response.content[:2000]

    linked = citation.history.order_by("history_date", "history_id").last()
    citation_update(citation=citation, values={"relation": "contradicts"})
    before = stamp()
    revert(citation, linked, "historicalcitation")
    assert Citation.objects.get(pk=citation.pk).relation == linked.relation
    assert stamp() > before

    as_published = paper.history.order_by("history_date", "history_id").last()
    study_set_retraction(study=paper, status=Study.RetractionStatus.RETRACTED)
    before = stamp()
    revert(paper, as_published, "historicalstudy")
    assert Study.objects.get(pk=paper.pk).retraction_status == as_published.retraction_status
    assert stamp() > before
