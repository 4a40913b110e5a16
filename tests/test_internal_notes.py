"""A study's public note and the curators' internal note (issue 17, item 16): readers see the public one
only, on every page and in every output; curators see both in the admin; the open dataset leaves the
internal one out unless asked, and then round-trips both."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from evidence.models import Study
from evidence.opendata import dataset_import
from tests.test_admin_roles import admin_url, signed_in
from tests.test_opendata import wipe

pytestmark = pytest.mark.django_db

# What the seed's research log says, and a public note of our own
RESEARCH_LOG = ("NOT seen in any stored source", "2026-11-28", "stored non-code excerpt", "stored corpus")
PUBLIC = "Readers may read this note about the trial."


@pytest.fixture
def library(seed) -> Study:
    study = Study.objects.get(citation_key="mitchell2021")
    Study.objects.filter(pk=study.pk).update(note=PUBLIC)
    return study


def test_the_seeds_notes_are_internal(seed):
    assert not Study.objects.exclude(note="").exists()
    zarate = Study.objects.get(citation_key="zarate2006")
    assert zarate.internal_note.startswith("2026-11-28: DOI, title, first author")
    for key in ("mithoefer2019", "jerome2020", "feduccia2021"):
        study = Study.objects.get(citation_key=key)
        assert "NOT seen in any stored source" not in study.retraction_note, key
        assert "NOT seen in any stored source" in study.internal_note, key
        assert study.retraction_note.startswith("Retracted by Psychopharmacology"), key


def assert_only_public(text: str, where: str) -> None:
    for words in RESEARCH_LOG:
        assert words not in text, f"{where}: {words!r}"


def test_readers_see_the_public_note_only(client, seed, library, make_user):
    pages = [reverse("evidence:study-list"), *(s.get_absolute_url() for s in Study.objects.all())]
    pages.append(seed.get_absolute_url())
    pages += [reverse("evidence:claim-list"), *(c.claim.get_absolute_url() for c in library.citations.all())]
    for fmt in ("bib", "ris", "json"):
        pages.append(reverse("evidence:study-export", args=[fmt]))
        pages.append(reverse("evidence:article-studies-export", args=["ketamine-vs-mdma-in-psychotherapy", fmt]))
    pages += ["/api/studies/?page_size=100", f"/api/studies/{library.pk}/", "/api/claims/?page_size=100"]
    pages += [
        reverse("evidence:article-claimreview", args=["ketamine-vs-mdma-in-psychotherapy"]),
        reverse("evidence:article-annotations", args=["ketamine-vs-mdma-in-psychotherapy"]),
    ]
    reader = make_user()  # signed in, but no curator
    for who in (client, signed_in(reader)):
        for url in pages:
            response = who.get(url)
            assert response.status_code == 200, url
            body = b"".join(response) if getattr(response, "streaming", False) else response.content
            assert_only_public(body.decode(), url)
    html = client.get(library.get_absolute_url()).content.decode()
    assert PUBLIC in html
    assert client.get(f"/api/studies/{library.pk}/").json()["note"] == PUBLIC
    assert "internal_note" not in client.get(f"/api/studies/{library.pk}/").json()


def test_curators_see_both_in_the_admin_and_the_api(library, make_user):
    curator = signed_in(make_user("Curators"))
    zarate = Study.objects.get(citation_key="zarate2006")
    html = curator.get(admin_url(Study, "change", zarate.pk)).content.decode()
    assert 'name="internal_note"' in html and 'name="note"' in html
    assert "2026-11-28: DOI, title, first author" in html
    assert curator.get(f"/api/studies/{zarate.pk}/").json()["internal_note"] == zarate.internal_note


def test_the_bibliography_exports_carry_the_public_note(library):
    client = Client()
    bib = client.get(reverse("evidence:study-export", args=["bib"])).content.decode()
    assert PUBLIC in bib


def test_the_open_dataset_leaves_internal_notes_out_unless_asked(library, tmp_path):
    call_command("export_dataset", "--output", str(tmp_path / "public"))
    rows = json.loads((tmp_path / "public" / "studies.json").read_text(encoding="utf-8"))
    assert all("internal_note" not in row for row in rows)
    for name in ("studies.json", "studies.csv", "studies.csl.json"):
        assert_only_public((tmp_path / "public" / name).read_text(encoding="utf-8"), name)
    assert {row["note"] for row in rows} == {"", PUBLIC}


def test_the_open_dataset_round_trips_both_notes_when_asked(library, tmp_path):
    notes = dict(Study.objects.values_list("pk", "internal_note"))
    call_command("export_dataset", "--output", str(tmp_path / "first"), "--internal-notes")
    wipe()
    dataset_import(directory=tmp_path / "first")
    assert dict(Study.objects.values_list("pk", "internal_note")) == notes
    assert Study.objects.get(pk=library.pk).note == PUBLIC
    call_command("export_dataset", "--output", str(tmp_path / "second"), "--internal-notes")
    for name in ("studies.json", "studies.csv"):
        assert (tmp_path / "first" / name).read_text() == (tmp_path / "second" / name).read_text(), name
