"""python manage.py demo_users: one account per role for trying the site locally (`make demo`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.crypto import get_random_string

# (username, role group made by reviews/migrations/0003_roles.py, or None for a superuser). Two reviewers,
# so that a claim can gather the two reviews consensus and adjudication need.
ACCOUNTS: list[tuple[str, str | None]] = [
    ("demo-reviewer-1", "Reviewers"),
    ("demo-reviewer-2", "Reviewers"),
    ("demo-editor", "Editors"),
    ("demo-curator", "Curators"),
    ("demo-admin", None),
]
PASSWORD_LENGTH = 20


class Command(BaseCommand):
    help = (
        "Create (or reset) one account per role for local trials: demo-reviewer-1 and demo-reviewer-2, "
        "demo-editor, demo-curator and demo-admin (a superuser), each with a new random password, printed. "
        "Readers need no account. Refused unless DJANGO_DEBUG is on: these accounts never belong in production."
    )

    def handle(self, *args: Any, verbosity: int, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "demo_users only runs with DJANGO_DEBUG on (make demo sets it): it prints passwords of staff "
                "accounts and must never run against a production site."
            )
        groups = {group.name: group for group in Group.objects.filter(name__in={g for _, g in ACCOUNTS if g})}
        missing = sorted({g for _, g in ACCOUNTS if g} - set(groups))
        if missing:
            raise CommandError(f"No {', '.join(missing)} group: run the migrations first (make seed).")
        rows = []
        with transaction.atomic():
            for username, group in ACCOUNTS:
                password = get_random_string(PASSWORD_LENGTH)
                user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.org"})
                user.set_password(password)
                # staff: the admin is where curators import and editors manage articles
                user.is_staff = True
                user.is_superuser = group is None
                user.is_active = True
                user.save(update_fields=["password", "is_staff", "is_superuser", "is_active"])
                if group is not None:
                    user.groups.set([groups[group]])
                rows.append((username, password, group or "admin (superuser)"))
        width = max(len(username) for username, *_ in rows)
        self.stdout.write("Sign in at /accounts/login/ (local trials only; run again for new passwords):")
        for username, password, role in rows:
            self.stdout.write(f"  {username:<{width}}  {password}  {role}")
        self.stdout.write("Readers need no account.")
        self.stdout.write(self.style.SUCCESS(f"{len(rows)} demo accounts ready."))
