"""What every admin page carries: the project's icon (without one, browsers ask for /favicon.ico, a 404) and
the admin's stylesheet, both files that exist. tests/browser/test_admin_layout.py checks them in Chromium."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from tests import builders
from tests.test_admin_roles import admin_url, signed_in

pytestmark = pytest.mark.django_db


def test_every_kind_of_admin_page_links_the_icon_and_the_admin_stylesheet(make_user):
    claim = builders.claim()
    pages = {
        "sign-in": (Client(), reverse("admin:login")),
        "index": (None, reverse("admin:index")),
        "list": (None, admin_url(type(claim), "changelist")),
        "form": (None, admin_url(type(claim), "change", claim.pk)),
        "history": (None, admin_url(type(claim), "history", claim.pk)),
        "version": (None, admin_url(type(claim), "simple_history", claim.pk, claim.history.get().history_id)),
    }
    client = signed_in(make_user(superuser=True))
    for name, (own_client, url) in pages.items():
        html = (own_client or client).get(url).content.decode()
        icons = re.findall(r'<link rel="icon" href="/static/([^"]+)" type="image/svg\+xml">', html)
        sheets = re.findall(r'<link rel="stylesheet" href="/static/(css/admin\.css)">', html)
        assert (len(icons), sheets) == (1, ["css/admin.css"]), name
        assert finders.find(icons[0]) and finders.find(sheets[0]), name
