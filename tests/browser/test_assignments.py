"""Assignments in a real browser: an editor assigns two reviewers to a claim; each is emailed (the live
server runs in this process, so Django's mail outbox sees its mail) and finds the claim first in their
queue. The new pages pass axe at desktop and phone width."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from reviews.models import ReviewAssignment
from reviews.services import unsubscribe_token
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_review_workflow import sign_in

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}


def test_an_editor_assigns_two_reviewers_who_are_emailed_and_see_it_first(page, new_page, live_seed, make_user):
    make_user("Editors", username="edna")
    make_user("Reviewers", username="rita")
    make_user("Reviewers", username="sam")
    claim = live_seed.claims.get(key="K3")
    due = timezone.localdate() + timedelta(days=5)

    sign_in(page, "edna")
    page.goto(f"/editor/claims/{claim.pk}/")
    assignments = page.locator("section[aria-labelledby='assignments-heading']")
    assert "Nobody is assigned in this round." in assignments.inner_text()
    group = page.get_by_role("group", name="Reviewers")
    group.get_by_role("checkbox", name="rita").check()
    group.get_by_role("checkbox", name="sam").check()
    page.get_by_label("Due date").fill(due.isoformat())
    page.get_by_role("button", name="Assign", exact=True).click()
    assert "2 assignments made" in page.locator(".messages").inner_text()
    assert ReviewAssignment.objects.filter(claim=claim).count() == 2
    assert "rita" in assignments.inner_text() and "sam" in assignments.inner_text()
    assert axe_violations(page) == []
    screenshot(page, "assign-editor-claim")
    # each assignment's changes open on demand, by keyboard too, and pass axe opened
    assignments.locator("summary").first.focus()
    page.keyboard.press("Enter")
    assert assignments.get_by_role("button", name="Move the due date").first.is_visible()
    assert axe_violations(page) == []

    # each reviewer is emailed once
    assert sorted(message.to[0] for message in mail.outbox) == ["rita@example.org", "sam@example.org"]
    assert all(claim.quote in message.body for message in mail.outbox)

    for name in ("rita", "sam"):
        queue = new_page()
        sign_in(queue, name)
        assert queue.url.endswith("/review/")
        first = queue.locator("main .queue-section").first
        assert first.get_attribute("id") == "assigned"
        first_claim = first.locator(".card-title a").first
        assert claim.quote[:60] in first_claim.inner_text()
        assert axe_violations(queue) == []
        screenshot(queue, f"assign-queue-{name}")

    # at phone width, the queue and the editor's panel
    phone = new_page(viewport=PHONE_390)
    sign_in(phone, "rita")
    assert phone.locator("main .queue-section").first.get_attribute("id") == "assigned"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "assign-queue-phone")
    phone_editor = new_page(viewport=PHONE_390)
    sign_in(phone_editor, "edna")
    phone_editor.goto(f"/editor/claims/{claim.pk}/")
    assert phone_editor.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone_editor, "assign-editor-claim-phone")

    # the overdue ones show on the desk
    ReviewAssignment.objects.filter(claim=claim, reviewer__username="sam").update(
        due_date=timezone.localdate() - timedelta(days=1)
    )
    page.goto("/editor/")
    overdue = page.locator("#overdue")
    assert re.search(r"Overdue assignments\s*\(1\)", overdue.inner_text())
    assert axe_violations(page) == []


def test_the_email_choices_and_unsubscribe_pages(page, new_page, live_server, make_user):
    rita = make_user("Reviewers", username="rita")
    sign_in(page, "rita")
    page.goto("/notifications/")
    assert page.locator("h1").inner_text() == "Your email choices"
    page.get_by_role("group", name="A verdict was published on a claim you reviewed").get_by_role(
        "radio", name="In a daily digest"
    ).check()
    page.get_by_role("button", name="Save my choices").click()
    assert "Your email choices are saved." in page.locator(".messages").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "notification-preferences")
    phone = new_page(viewport=PHONE_390)
    sign_in(phone, "rita")
    phone.goto("/notifications/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "notification-preferences-phone")

    # the unsubscribe link works signed out, and only on the confirming POST
    anonymous = new_page()
    anonymous.goto(f"/notifications/unsubscribe/{unsubscribe_token(rita, 'assigned')}/")
    assert "Stop sending rita" in anonymous.locator("main").inner_text()
    assert axe_violations(anonymous) == []
    screenshot(anonymous, "unsubscribe-confirm")
    anonymous.get_by_role("button", name="Unsubscribe").click()
    assert anonymous.locator("h1").inner_text() == "You are unsubscribed"
    screenshot(anonymous, "unsubscribe-done")
