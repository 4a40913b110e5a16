"""The curators' upload page in the admin: upload → preview (nothing written) → confirm → import."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from evidence.bibliography_upload import SESSION_KEY
from evidence.models import ImportJob, Study
from tests.conftest import SAMPLES

pytestmark = pytest.mark.django_db
URL = "admin:evidence_study_import"
JOB_URL = "admin:evidence_study_import_job"


def upload(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content if content is not None else (SAMPLES / name).read_bytes())


@pytest.fixture
def curator_client(make_user) -> Client:
    client = Client(enforce_csrf_checks=False)
    client.force_login(make_user("Curators"))
    return client


def test_changelist_links_to_the_upload(curator_client):
    response = curator_client.get(reverse("admin:evidence_study_changelist"))
    assert reverse(URL).encode() in response.content and b"Import bibliography" in response.content


def test_preview_then_confirm(curator_client):
    response = curator_client.post(reverse(URL), {"file": upload("zotero-export.json")})
    assert response.status_code == 200
    html = response.content.decode()
    assert "3 created, 1 merged, 1 rejected" in html and "is not a DOI" in html
    assert Study.objects.count() == 0  # a preview writes nothing
    token = curator_client.session[SESSION_KEY]["token"]

    response = curator_client.post(reverse(URL), {"token": token})
    # the import is a job (in-process here: no broker in tests); the curator follows it on its page
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(JOB_URL, args=[job.pk])
    assert Study.objects.count() == 3
    assert SESSION_KEY not in curator_client.session
    history = Study.history.filter(doi="10.5555/fixture.0001").get()
    assert history.history_user.groups.filter(name="Curators").exists()

    # the same confirmation cannot import twice
    curator_client.post(reverse(URL), {"token": token})
    assert Study.objects.count() == 3


def test_a_wrong_token_imports_nothing(curator_client):
    curator_client.post(reverse(URL), {"file": upload("pubmed-export.ris")})
    response = curator_client.post(reverse(URL), {"token": "forged"}, follow=True)
    assert "has expired" in response.content.decode()
    assert Study.objects.count() == 0


@pytest.mark.parametrize(("name", "message"), [("broken-binary.pdf", "binary"), ("broken-truncated.bib", "truncated")])
def test_a_bad_file_is_refused_on_the_form(curator_client, name, message):
    response = curator_client.post(reverse(URL), {"file": upload(name)})
    assert response.status_code == 200 and message in response.content.decode()
    assert SESSION_KEY not in curator_client.session and Study.objects.count() == 0


def test_a_file_over_the_limit_is_refused(curator_client, monkeypatch):
    monkeypatch.setattr("evidence.bibliography_upload.MAX_UPLOAD_BYTES", 100)
    response = curator_client.post(reverse(URL), {"file": upload("zotero-export.bib")})
    assert "larger than" in response.content.decode() and Study.objects.count() == 0


def test_a_file_over_the_import_limit_is_refused(curator_client, settings):
    settings.EVIDENCE_IMPORT_MAX_BYTES = 100
    response = curator_client.post(reverse(URL), {"file": upload("zotero-export.json")})
    assert "larger than the import limit of 100 bytes" in response.content.decode()
    assert SESSION_KEY not in curator_client.session and Study.objects.count() == 0


def test_needs_the_add_study_permission(make_user, client):
    client.force_login(make_user("Reviewers"))
    assert client.get(reverse(URL)).status_code == 403
    assert client.post(reverse(URL), {"file": upload("zotero-export.json")}).status_code == 403
    assert Study.objects.count() == 0


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(reverse(URL))
    assert response.status_code == 302 and "login" in response["Location"]


def test_csrf_is_enforced(make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("Curators"))
    assert client.post(reverse(URL), {"file": upload("zotero-export.json")}).status_code == 403
