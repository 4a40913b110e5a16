"""Every id on every page is unique, and every label points at an element that exists.

Two elements with one id break what ids are for: a label focuses the first of them (on the editor's
claim page, clicking "Rationale" of the publish form focused the adjudication form's), an error
summary's link lands on the wrong field, aria-describedby reads the wrong help. The pages are drawn
in the states that add elements: with reviews, open flags and a published verdict, refused forms,
signed out and signed in as each role.
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from reviews import queues
from reviews.models import Flag
from tests.builders import publish, rate

PASSWORD = "a-long-test-password"  # what tests/conftest.py's make_user gives every user


class Ids(HTMLParser):
    """The id of every element, the for= of every label and every id named by aria-describedby."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.references: list[tuple[str, str]] = []  # (attribute, id)
        self.in_template = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "template":
            # a <template>'s content is not in the document until a script copies it
            self.in_template += 1
            return
        if self.in_template:
            return
        if values.get("id"):
            self.ids.append(values["id"])
        if tag == "label" and values.get("for"):
            self.references.append(("label for", values["for"]))
        for name in ("aria-describedby", "aria-labelledby", "aria-controls"):
            for target in (values.get(name) or "").split():
                self.references.append((name, target))

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self.in_template -= 1


def problems(html: str) -> list[str]:
    parser = Ids()
    parser.feed(html)
    repeated = [f"id {name!r} appears {n} times" for name, n in Counter(parser.ids).items() if n > 1]
    present = set(parser.ids)
    dangling = [
        f"{attribute}={target!r} names no element" for attribute, target in parser.references if target not in present
    ]
    return repeated + dangling


@pytest.fixture
def scene(seed, make_user):
    """The seed article with two disagreeing reviews and an open flag on one claim, a published verdict
    on another, and one user per role."""
    users = {
        "reviewer": make_user("Reviewers"),
        "other": make_user("Reviewers"),
        "editor": make_user("Editors"),
        "admin": make_user(superuser=True),
    }
    disputed = seed.claims.get(key="K1")
    rate(disputed, users["reviewer"], "moderate", "supported")
    rate(disputed, users["other"], "very_low", "unsupported")
    Flag.objects.create(claim=disputed, reason=Flag.Reason.OVERSTATED, note="Too strong.")
    Flag.objects.create(claim=disputed, reason=Flag.Reason.OUTDATED, note="Old trials.")
    published = seed.claims.get(key="M10")
    rate(published, users["reviewer"], "low", "partly_supported")
    publish(published, verdict="partly_supported", certainty="low")
    return {"article": seed, "disputed": disputed, "published": published, **users}


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def check(client: Client, url: str, data: dict | None = None, *, statuses=(200,)) -> list[str]:
    response = client.post(url, data or {}) if data is not None else client.get(url)
    assert response.status_code in statuses, (url, response.status_code)
    return [f"{url}: {problem}" for problem in problems(response.content.decode())]


@pytest.mark.slow
def test_public_pages(scene, client):
    article, published = scene["article"], scene["published"]
    study = published.citations.first().study
    found = []
    for url in [
        reverse("evidence:home"),
        article.get_absolute_url(),
        reverse("evidence:article-map", args=[article.slug]),
        reverse("evidence:gap-map"),
        reverse("evidence:claim-list"),
        reverse("evidence:claim-list") + "?q=ketamine&verdict=nonsense&sort=strongest",  # with errors
        published.get_absolute_url(),
        scene["disputed"].get_absolute_url(),
        reverse("evidence:study-list"),
        reverse("evidence:study-list") + "?year_min=abc&design=rct",
        study.get_absolute_url(),
    ]:
        found += check(client, url, statuses=(200, 400))
    assert not found, "\n".join(found)


def test_sign_in_and_password_pages(scene):
    anonymous, reviewer = Client(), client_for(scene["reviewer"])
    found = check(anonymous, reverse("login"))
    found += check(anonymous, reverse("login"), {"username": "nobody", "password": "wrong"})  # refused
    found += check(anonymous, reverse("password_reset"))
    found += check(anonymous, reverse("password_reset"), {"email": "not an address"})
    found += check(anonymous, reverse("password_reset_done"))
    found += check(reviewer, reverse("password_change"))
    found += check(reviewer, reverse("password_change"), {"old_password": "x", "new_password1": "y"})
    assert not found, "\n".join(found)


def test_the_reviewers_pages(scene):
    reviewer, editor = client_for(scene["reviewer"]), client_for(scene["editor"])
    disputed, fresh = scene["disputed"], scene["article"].claims.get(key="K2")
    found = check(reviewer, reverse("reviews:queue"))
    for claim in (disputed, fresh):  # with the other reviews shown, and blind
        found += check(reviewer, reverse("reviews:review-claim", args=[claim.pk]))
    found += check(reviewer, reverse("reviews:review-claim", args=[fresh.pk]), {"rationale": ""}, statuses=(400,))
    found += check(editor, reverse("reviews:review-claim", args=[fresh.pk]), statuses=(200, 403))
    assert not found, "\n".join(found)


@pytest.mark.slow
def test_the_editors_pages(scene):
    editor, admin = client_for(scene["editor"]), client_for(scene["admin"])
    disputed, published = scene["disputed"], scene["published"]
    flag = disputed.flags.first()
    found = check(editor, reverse("reviews:desk"))
    for queue in queues.desk_queues():
        found += check(editor, reverse("reviews:desk-queue", args=[queue.slug]))
    for client in (editor, admin):
        for claim in (disputed, published):
            found += check(client, reverse("reviews:editor-claim", args=[claim.pk]))
    # each refused form, shown again with its errors beside the others
    refused = [
        (reverse("reviews:adjudicate", args=[disputed.pk]), {"rationale": ""}),
        (reverse("reviews:publish", args=[disputed.pk]), {"rationale": ""}),
        (reverse("reviews:flag-raise", args=[disputed.pk]), {"reason": ""}),
        (reverse("reviews:flag-resolve", args=[flag.pk]), {}),
    ]
    for url, data in refused:
        found += check(editor, url, data, statuses=(200, 302, 400))
    assert not found, "\n".join(found)
