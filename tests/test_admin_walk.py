"""Every admin page that writes, walked as every role: none reaches a state the services refuse.

For each of the workflow and evidence models, the admin is found with ``admin.site.get_model_admin`` and,
as Curators, Reviewers, Editors and a superuser, its change form, its add form, every version's revert
form and every action (``get_actions``) is posted as a browser would, with values the matching service
refuses: a published status without a publishable consensus, a published verdict set by hand, a flag
closed without a resolution, a citation that makes a claim rely on a retracted study, a DOI held by
another study, a quote the text does not hold. After each post:

- the database is in a state the services accept (services_would_accept below, the services' rules read
  back from the rows), and a refused write changed nothing at all, history included;
- the answer is a clear one: a 403, the form again with its errors, or a page with an error message; a
  500 would fail the test (the test client raises a view's exception).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db import models, transaction
from django.test import Client, RequestFactory

from evidence.models import Article, ArticleRevision, Citation, Claim, Study
from evidence.services import (
    citation_create,
    claim_create,
    study_create,
    study_set_retraction,
)
from reviews.consensus import compute
from reviews.models import Consensus, Flag, Review, consensus_of
from reviews.services import claim_adjudicate, flag_close, flag_raise, verdict_publish
from tests import builders
from tests.builders import grade_fields, rate
from tests.test_admin_roles import admin_url, form_data, signed_in

pytestmark = pytest.mark.django_db

MODELS: list[type[models.Model]] = [Article, Claim, Study, Citation, Review, Consensus, Flag]
ROLES = ["Curators", "Reviewers", "Editors", "superuser"]


# --- The services' rules, read back from the rows ------------------------------------------------------------


def services_would_accept() -> list[str]:
    """What in the database no sequence of service calls could have left there; empty when all is well."""
    problems = []
    for claim in Claim.objects.filter(status=Claim.Status.PUBLISHED).select_related("consensus"):
        consensus = consensus_of(claim)
        if consensus is None or not consensus.is_published:
            problems.append(f"claim {claim.key} is published without a published verdict (verdict_publish)")
    for consensus in Consensus.objects.all():
        # the consensus is its current round's (a re-review round starts with none)
        ratings = Review.objects.current().filter(claim_id=consensus.claim_id).values_list("certainty", "verdict")
        expected = compute(ratings)
        actual = {name: getattr(consensus, name) for name in expected.__dataclass_fields__}
        if actual != expected.__dict__:
            problems.append(f"consensus of claim {consensus.claim_id} is not its reviews' (consensus_refresh)")
        if consensus.is_published and consensus.published_by_id is None:
            problems.append(f"consensus of claim {consensus.claim_id} was published by nobody (verdict_publish)")
    for citation in Citation.objects.reliance_on_retracted():
        flagged = Flag.objects.filter(
            claim_id=citation.claim_id, study_id=citation.study_id, reason=Flag.Reason.RETRACTED_SOURCE
        )
        if not flagged.exists():
            problems.append(f"claim {citation.claim_id} relies on retracted study {citation.study_id} unflagged")
    for claim in Claim.objects.select_related("article"):
        # an orphan's offsets refer to the revision it was last found in (article_revise)
        anchored = claim.article.text[claim.start : claim.end] == claim.quote
        if not anchored and not claim.is_orphaned:
            problems.append(f"claim {claim.key} is not where its quote is (claim_create, article_revise)")
    for flag in Flag.objects.exclude(status=Flag.Status.OPEN):
        if flag.resolved_by_id is None or flag.resolved_at is None or not flag.resolution_note:
            problems.append(f"flag {flag.pk} was closed without who, when and why (flag_close)")
    return problems


def snapshot() -> dict[str, Any]:
    """Every row of the models the admin writes, and how many history entries each has."""
    rows: dict[str, Any] = {}
    for model in [*MODELS, ArticleRevision]:
        rows[model.__name__] = list(model._default_manager.order_by("pk").values())
        if hasattr(model, "history"):
            rows[f"{model.__name__} history"] = model.history.count()
    return rows


# --- The scene ---------------------------------------------------------------------------------------------


@pytest.fixture
def world(db) -> SimpleNamespace:
    """Written through the services, as the pages would: K1's verdict was published, then a study it relies
    on was retracted, so it is flagged and back in re-review (publish refuses it); K2 has an open flag and
    a resolved one; a third study is retracted and cited by nobody."""
    editor, first, second = builders.user("walk-editor"), builders.user("walk-first"), builders.user("walk-second")
    article = builders.article(title="Drugs and moods")
    elsewhere = builders.article(title="Another article")
    k1 = claim_create(
        article=article, values={"key": "K1", "quote": "Ketamine lifts mood within hours.", "claim_type": "efficacy"}
    )
    k2 = claim_create(
        article=article, values={"key": "K2", "quote": "Both drugs raise blood pressure.", "claim_type": "safety"}
    )
    trial = study_create(values={"title": "Ketamine in depression", "doi": "10.1/trial", "year": 2020})
    other = study_create(values={"title": "Blood pressure under MDMA", "doi": "10.1/other", "year": 2019})
    gone = study_create(values={"title": "A trial later retracted", "doi": "10.1/gone", "year": 2018})
    study_set_retraction(study=gone, status=Study.RetractionStatus.RETRACTED)
    citation = citation_create(claim=k1, study=trial, values={"relation": "supports"})
    citation_create(claim=k2, study=other, values={"relation": "supports"})
    review = rate(k1, first, "high", "supported")
    rate(k1, second, "very_low", "unsupported")
    claim_adjudicate(claim=k1, certainty="moderate", verdict="supported", rationale="Holds.", adjudicated_by=editor)
    verdict_publish(claim=k1, published_by=editor)
    study_set_retraction(study=trial, status=Study.RetractionStatus.RETRACTED)
    open_flag = flag_raise(claim=k2, reason=Flag.Reason.OVERSTATED, note="Says always.", raised_by=editor)
    closed_flag = flag_raise(claim=k2, reason=Flag.Reason.UNSUPPORTED, note="No source.", raised_by=editor)
    flag_close(flag=closed_flag, status=Flag.Status.RESOLVED, closed_by=editor, note="Sources added.")
    k1.refresh_from_db()
    assert k1.status == Claim.Status.NEEDS_REREVIEW and services_would_accept() == []
    return SimpleNamespace(
        article=article,
        elsewhere=elsewhere,
        k1=k1,
        k2=k2,
        trial=trial,
        other=other,
        gone=gone,
        citation=citation,
        review=review,
        first=first,
        second=second,
        consensus=Consensus.objects.get(claim=k1),
        open_flag=open_flag,
        closed_flag=closed_flag,
    )


# --- What is posted, and what must hold afterwards -------------------------------------------------------

REFUSED = "refused"  # nothing changes, and the answer says so (unless the fields were read-only anyway)
SERVICE = "service"  # the service's result: whatever it wrote, the services' rules hold


@dataclass
class Case:
    label: str
    kind: str
    changes: Callable[[SimpleNamespace, dict[str, Any]], dict[str, Any]]
    # fields whose stored value must stay as it was, whatever the answer: read-only ones posted anyway
    keeps: Callable[[SimpleNamespace], Any] | None = None
    target: Callable[[SimpleNamespace], models.Model] | None = None


def posted(values: dict[str, Any]) -> Callable[[SimpleNamespace, dict[str, Any]], dict[str, Any]]:
    return lambda world, data: values


def inline_row(prefix: str, row: dict[str, str]) -> Callable[[SimpleNamespace, dict[str, Any]], dict[str, Any]]:
    """A new row in the inline formset ``prefix``."""

    def add(world: SimpleNamespace, data: dict[str, Any]) -> dict[str, Any]:
        if f"{prefix}-TOTAL_FORMS" not in data:
            return row  # the inline is not on this user's page: posted anyway
        n = int(data[f"{prefix}-TOTAL_FORMS"])
        return {f"{prefix}-TOTAL_FORMS": str(n + 1), **{f"{prefix}-{n}-{name}": value for name, value in row.items()}}

    return add


def claim_status(world: SimpleNamespace) -> tuple:
    return tuple(Claim.objects.order_by("pk").values_list("pk", "article", "status", "start", "end", "section"))


CHANGES: dict[type[models.Model], list[Case]] = {
    Article: [
        Case("headings that are not lines of the text", REFUSED, posted({"headings": '["Background", "Nope"]'})),
        Case("the slug of another article", REFUSED, lambda w, d: {"slug": w.elsewhere.slug}),
        Case(
            "a new claim whose quote the text does not hold",
            REFUSED,
            inline_row(
                "claims", {"key": "K9", "quote": "Ketamine cures all.", "claim_type": "efficacy", "kind": "claim"}
            ),
        ),
        Case(
            "a text that no longer holds K2's quote",
            SERVICE,
            lambda w, d: {"text": d.get("text", "").replace("Both drugs raise", "Both drugs may raise")},
        ),
    ],
    Claim: [
        Case("status set to published", SERVICE, posted({"status": "published"}), keeps=claim_status),
        Case("a quote the text does not hold", REFUSED, posted({"quote": "Ketamine cures everything."})),
        Case("a quote the text holds twice", REFUSED, posted({"quote": "Ketamine"})),
        Case("the key of another claim", REFUSED, posted({"key": "K2"})),
        Case("moved to another article", SERVICE, lambda w, d: {"article": str(w.elsewhere.pk)}, keeps=claim_status),
        Case(
            "an anchor set by hand", SERVICE, posted({"start": "0", "end": "5", "section": "Risks"}), keeps=claim_status
        ),
        Case(
            "a retracted study cited as support",
            SERVICE,
            lambda w, d: inline_row("citations", {"study": str(w.gone.pk), "relation": "supports"})(w, d),
        ),
        Case(
            "a cited study swapped for another",
            SERVICE,
            lambda w, d: {"citations-0-study": str(w.other.pk)},
            keeps=lambda w: sorted(Citation.objects.values_list("claim", "study")),
        ),
    ],
    Study: [
        Case("the DOI of another study", REFUSED, posted({"doi": "10.1/trial"})),
        Case("that DOI spelled as a link", REFUSED, posted({"doi": "https://doi.org/10.1/TRIAL"})),
        Case("a PMID that is not one", REFUSED, posted({"pmid": "not-a-pmid"})),
        Case("retracted", SERVICE, posted({"retraction_status": "retracted"})),
    ],
    Citation: [
        Case("an unknown relation", REFUSED, posted({"relation": "proves"})),
        Case(
            "moved to another claim and study",
            SERVICE,
            lambda w, d: {"claim": str(w.k2.pk), "study": str(w.other.pk)},
            keeps=lambda w: sorted(Citation.objects.values_list("claim", "study")),
        ),
        Case("a retracted study's support turned to context", SERVICE, posted({"relation": "context"})),
    ],
    Review: [
        Case("an empty rationale", REFUSED, posted({"rationale": " "})),
        Case("an unknown certainty", REFUSED, posted({"certainty": "certain"})),
        Case(
            "moved to another claim and reviewer",
            SERVICE,
            lambda w, d: {"claim": str(w.k2.pk), "reviewer": str(w.second.pk)},
            keeps=lambda w: sorted(Review.objects.values_list("pk", "claim", "reviewer")),
        ),
    ],
    Consensus: [
        Case(
            "a verdict published by hand",
            REFUSED,
            posted(
                {
                    "published_verdict": "supported",
                    "published_certainty": "high",
                    "published_rationale": "By hand.",
                    "published_at_0": "2024-01-01",
                    "published_at_1": "00:00:00",
                }
            ),
        ),
        Case("the dispute cleared", REFUSED, posted({"disputed": "", "adjudicated_verdict": ""})),
    ],
    Flag: [
        Case("closed without a resolution", REFUSED, posted({"status": "resolved"})),
        Case("its note rewritten", REFUSED, posted({"note": "Rewritten."})),
    ],
}

ADDITIONS: dict[type[models.Model], list[Case]] = {
    Article: [
        Case(
            "a slug another article has",
            REFUSED,
            lambda w, d: {"title": "Again", "slug": w.article.slug, "text": "Text.\n", "headings": "[]"},
        ),
        Case(
            "headings not in the text",
            REFUSED,
            posted({"title": "New", "slug": "new", "text": "Text.\n", "headings": '["Nope"]'}),
        ),
    ],
    Claim: [
        Case(
            "a quote the text does not hold",
            REFUSED,
            lambda w, d: {"article": str(w.article.pk), "quote": "Ketamine cures all.", "claim_type": "efficacy"},
        ),
        Case(
            "born published",
            SERVICE,
            lambda w, d: {
                "article": str(w.article.pk),
                "key": "M1",
                "quote": "MDMA makes people feel close to each other.",
                "claim_type": "mechanism",
                "status": "published",
            },
        ),
    ],
    Study: [Case("a DOI another study has", REFUSED, posted({"title": "Again", "doi": "10.1/OTHER"}))],
    Citation: [
        Case(
            "the same study twice on a claim",
            REFUSED,
            lambda w, d: {"claim": str(w.k1.pk), "study": str(w.trial.pk), "relation": "contradicts"},
        ),
        Case(
            "a retracted study cited as support",
            SERVICE,
            lambda w, d: {"claim": str(w.k2.pk), "study": str(w.gone.pk), "relation": "supports"},
        ),
    ],
    Review: [
        Case(
            "an empty rationale",
            REFUSED,
            lambda w, d: {"claim": str(w.k2.pk), "certainty": "low", "verdict": "supported", "rationale": ""},
        ),
        Case(
            # k1 went back for re-review (round 2): a superuser may name its round-1 reviewer, who reviews it
            # again in round 2 through the service; anyone else writes as themselves. The round-1 review stays.
            "a review by the reviewer of the claim's earlier round",
            SERVICE,
            lambda w, d: {
                **grade_fields("low"),
                "claim": str(w.k1.pk),
                "reviewer": str(w.first.pk),
                "certainty": "low",
                "verdict": "supported",
                "rationale": "Again.",
            },
            keeps=lambda w: list(
                Review.objects.filter(reviewer=w.first, round=1).values_list("claim", "certainty", "rationale")
            ),
        ),
    ],
    Consensus: [
        Case("a consensus by hand", REFUSED, lambda w, d: {"claim": str(w.k2.pk), "published_verdict": "supported"})
    ],
    Flag: [
        Case("the same open flag twice", REFUSED, lambda w, d: {"claim": str(w.k2.pk), "reason": "overstated"}),
        Case(
            "a flag born closed",
            SERVICE,
            lambda w, d: {"claim": str(w.k1.pk), "reason": "outdated", "status": "resolved"},
        ),
    ],
}

# The object of each model whose change form and history are walked.
TARGETS: dict[type[models.Model], Callable[[SimpleNamespace], models.Model]] = {
    Article: lambda w: w.article,
    Claim: lambda w: w.k1,
    Study: lambda w: w.other,
    Citation: lambda w: w.citation,
    Review: lambda w: w.review,
    Consensus: lambda w: w.consensus,
    Flag: lambda w: w.open_flag,
}

# Reverting these is never offered: whatever the version, nothing may change.
NOT_REVERTED = {Consensus, Flag}


# --- Posting, and reading the answer -----------------------------------------------------------------------


def user_for(role: str, make_user) -> User:
    return make_user(superuser=True) if role == "superuser" else make_user(role)


def page_data(client: Client, url: str, form_id: str) -> dict[str, Any]:
    """What the browser would post from the page at ``url``; nothing when the page is refused."""
    page = client.get(url)
    return form_data(page, form_id) if page.status_code == 200 else {}


def answer(response) -> str:
    """How the admin answered a post: "forbidden", "form error", "message" (an error or warning shown after
    or instead of the save) or "saved". A page that came back without a redirect and without saying why
    fails here."""
    if response.status_code == 403:
        return "forbidden"
    assert response.status_code == 200, response.status_code
    context = response.context or {}
    shown = [m for m in context["messages"]] if "messages" in context else []
    if any(m.level >= messages.WARNING for m in shown):
        return "message"
    if not response.redirect_chain:
        errors = context.get("errors")
        assert errors, f"the page came back without a redirect and without saying why: {response.request}"
        return "form error"
    return "saved"


def check(case: Case, world: SimpleNamespace, before: dict, kept: Any, response, editable: set[str]) -> None:
    how = answer(response)
    assert services_would_accept() == [], (case.label, how)
    if case.keeps is not None:
        assert case.keeps(world) == kept, (case.label, how)
    if case.kind == REFUSED:
        assert snapshot() == before, (case.label, how)
        # a refusal says so, unless what was posted was read-only to this user and simply not taken
        assert how != "saved" or not editable, (case.label, sorted(editable))


def post_case(client: Client, url: str, form_id: str, case: Case, world: SimpleNamespace) -> None:
    data = page_data(client, url, form_id)
    changes = case.changes(world, data)
    editable = {name for name in changes if name in data or name.endswith("TOTAL_FORMS")}
    before, kept = snapshot(), case.keeps(world) if case.keeps else None
    response = client.post(url, {**data, **changes, "_save": "Save"}, follow=True)
    check(case, world, before, kept, response, editable)


# --- The walk ------------------------------------------------------------------------------------------------


@contextmanager
def undone() -> Iterator[None]:
    """Run the block in a savepoint and roll it back: every case starts from the same world, which is built
    once per test (it is most of a walk's cost)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def labelled(model: type[models.Model], case: Case) -> Case:
    return replace(case, label=f"{model.__name__}: {case.label}")


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_change_forms_reach_no_state_the_services_refuse(role: str, make_user, world):
    client = signed_in(user_for(role, make_user))
    for model in MODELS:
        assert admin.site.get_model_admin(model) is not None, model
        url = admin_url(model, "change", TARGETS[model](world).pk)
        for case in CHANGES[model]:
            with undone():
                post_case(client, url, model._meta.model_name, labelled(model, case), world)


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_add_forms_reach_no_state_the_services_refuse(role: str, make_user, world):
    client = signed_in(user_for(role, make_user))
    for model in MODELS:
        assert admin.site.get_model_admin(model) is not None, model
        for case in ADDITIONS[model]:
            with undone():
                post_case(client, admin_url(model, "add"), model._meta.model_name, labelled(model, case), world)


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_history_reverts_reach_no_state_the_services_refuse(role: str, make_user, world):
    """Every version of each walked object, reverted as its history page offers it."""
    client = signed_in(user_for(role, make_user))
    for model in MODELS:
        for obj in [TARGETS[model](world)] + ([world.closed_flag] if model is Flag else []):
            versions = list(obj.history.order_by("history_date", "history_id"))
            assert versions, f"{model.__name__} {obj.pk} has no history to walk"
            for version in versions:
                kind = REFUSED if model in NOT_REVERTED else SERVICE
                # a claim never gets its old status or anchor back
                keeps = claim_status if model is Claim else None
                case = Case(f"{model.__name__}: revert to version {version.history_id}", kind, posted({}), keeps)
                url = admin_url(model, "simple_history", obj.pk, version.history_id)
                with undone():
                    post_case(client, url, f"historical{model._meta.model_name}", case, world)


def _selected_everything(model) -> list[str]:
    return [str(pk) for pk in model._default_manager.values_list("pk", flat=True)]


# What each action is posted with: nothing in the action bar, then values a service refuses.
ACTION_VALUES: dict[str, list[tuple[str, dict[str, str]]]] = {
    "flag_selected": [(REFUSED, {"reason": "", "note": ""}), (SERVICE, {"reason": "overstated", "note": "Again."})],
    "adjudicate_selected": [
        (REFUSED, {"certainty": "", "verdict": "", "rationale": ""}),
        (REFUSED, {"certainty": "low", "verdict": "supported", "rationale": ""}),
    ],
    "publish_selected": [(REFUSED, {"rationale": "Published anyway."})],
    "resolve_selected": [(REFUSED, {"note": ""}), (SERVICE, {"note": "Dealt with."})],
    "dismiss_selected": [(REFUSED, {"note": " "}), (SERVICE, {"note": "Not a problem."})],
    "mark_retracted": [(SERVICE, {})],
    "delete_selected": [(SERVICE, {"post": "yes"})],
}


@pytest.mark.parametrize("role", ROLES)
def test_actions_reach_no_state_the_services_refuse(role: str, make_user, world):
    """Every action of each admin (as a superuser sees them), posted on every row by each role: the ones
    the role may not run are refused, the others refuse what their service refuses."""
    user = user_for(role, make_user)
    client = signed_in(user)
    request = RequestFactory().get("/admin/")
    for model in MODELS:
        model_admin = admin.site.get_model_admin(model)
        request.user = make_user(superuser=True)
        every = list(model_admin.get_actions(request))
        request.user = user
        allowed = set(model_admin.get_actions(request))
        assert every, f"{model.__name__}'s admin has no actions to walk"
        for name in every:
            for kind, values in ACTION_VALUES[name]:
                case = Case(
                    f"{model.__name__}: {name} with {values}", kind if name in allowed else REFUSED, posted(values)
                )
                with undone():
                    before = snapshot()
                    data = {"action": name, "index": "0", "_selected_action": _selected_everything(model), **values}
                    response = client.post(admin_url(model, "changelist"), data, follow=True)
                    # posting an action asks for it to run: whatever the role, a refusal must say so
                    check(case, world, before, None, response, editable={"action"})


def test_every_action_of_the_walked_admins_has_values_to_post(make_user):
    """A new action fails here until the walk above knows what to post with it."""
    request = RequestFactory().get("/admin/")
    request.user = make_user(superuser=True)
    names = {name for model in MODELS for name in admin.site.get_model_admin(model).get_actions(request)}
    assert names <= set(ACTION_VALUES), sorted(names - set(ACTION_VALUES))
    assert {"flag_selected", "adjudicate_selected", "publish_selected", "resolve_selected"} <= names


def test_a_refusal_only_the_service_sees_undoes_the_whole_save_and_says_why(make_user, world):
    """Two new claims with one key pass their forms (each form checks the key against the stored claims
    only); claim_create refuses the second. The article's change and the first claim are rolled back
    with it, and the page says why instead of failing."""
    client = signed_in(make_user("Editors"))
    url = admin_url(Article, "change", world.article.pk)
    data = page_data(client, url, "article")
    n = int(data["claims-TOTAL_FORMS"])
    rows = {}
    for i, quote in enumerate(["MDMA makes people feel close to each other.", "Ketamine can cause bladder damage"]):
        row = {"key": "K9", "quote": quote, "claim_type": "efficacy", "kind": "claim"}
        rows.update({f"claims-{n + i}-{name}": value for name, value in row.items()})
    before = snapshot()

    response = client.post(
        url, {**data, **rows, "claims-TOTAL_FORMS": str(n + 2), "title": "Renamed", "_save": "Save"}, follow=True
    )

    assert answer(response) == "message"
    assert any("Nothing was saved" in str(m) and "key" in str(m) for m in response.context["messages"])
    assert snapshot() == before
