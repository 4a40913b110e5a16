"""`make demo`: one account per role for local trials, never with production settings."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.urls import reverse

from reviews.management.commands.demo_users import ACCOUNTS


def _run() -> dict[str, str]:
    out = io.StringIO()
    call_command("demo_users", stdout=out)
    return dict(re.findall(r"^  (demo-\S+)\s+(\S+)\s", out.getvalue(), flags=re.MULTILINE))


@pytest.mark.django_db
def test_refused_with_production_settings():
    """The suite runs with DEBUG off, as production does."""
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("demo_users", stdout=io.StringIO())
    assert not User.objects.filter(username__startswith="demo-").exists()


@pytest.mark.django_db
def test_one_account_per_role_with_printed_passwords(settings, client, make_user):
    make_user()  # the role groups exist (a transactional test earlier in the run may have flushed them)
    settings.DEBUG = True
    passwords = _run()
    assert set(passwords) == {username for username, _ in ACCOUNTS}
    assert len(set(passwords.values())) == len(passwords)
    for username, group in ACCOUNTS:
        user = authenticate(HttpRequest(), username=username, password=passwords[username])
        assert user is not None and user.is_staff
        assert user.is_superuser == (group is None)
        assert list(user.groups.values_list("name", flat=True)) == ([group] if group else [])
    # signed in, each lands where the README says
    lands = {}
    for username, _ in ACCOUNTS:
        client.force_login(User.objects.get(username=username))
        lands[username] = client.get(reverse("reviews:start")).url
    assert lands == {
        "demo-reviewer-1": "/review/",
        "demo-reviewer-2": "/review/",
        "demo-editor": "/editor/",
        "demo-curator": "/curate/",
        "demo-admin": "/editor/",
    }


@pytest.mark.django_db
def test_running_again_gives_new_passwords_to_the_same_accounts(settings, make_user):
    make_user()
    settings.DEBUG = True
    first = _run()
    count = User.objects.count()
    second = _run()
    assert User.objects.count() == count
    for username, password in second.items():
        user = User.objects.get(username=username)
        assert user.check_password(password) and not user.check_password(first[username])
