"""Looking a study up in Crossref (DOI) and PubMed (PMID): empty fields filled, a curator's values kept and
reported, "verified from … on <date>", failures leave the record unchanged. Offline: recorded answers
(tests/recordings/) replayed with respx, which also refuses any request nobody recorded."""

from __future__ import annotations

import json

import pytest
import respx
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evidence.lookup import LookupDisabled, crossref_work, medline_author, medline_pages
from evidence.models import Study
from evidence.services.lookup import study_lookup_apply
from tests.conftest import SEED_DIR
from tests.recorded import replay

pytestmark = pytest.mark.django_db
SEED = {entry["id"]: entry for entry in json.loads((SEED_DIR / "studies.json").read_text())}
BERMAN_DOI = SEED["berman2000"]["DOI"].lower()


@pytest.fixture
def lookups_on(settings):
    settings.EVIDENCE_LOOKUP_ENABLED = True
    settings.EVIDENCE_LOOKUP_MAILTO = ""


@pytest.fixture
def network():
    """Every request must match a recording; anything else fails the test (no internet here)."""
    with respx.mock(assert_all_called=False) as router:
        yield router


def bare_study(**values) -> Study:
    """A study a curator started from its identifier alone."""
    return Study.objects.create(**values)


def test_crossref_fills_the_empty_fields_and_marks_the_study_verified(lookups_on, network, make_user):
    replay(network, "crossref/berman2000")
    study = bare_study(doi=BERMAN_DOI)
    curator = make_user("Curators")
    outcome = study_lookup_apply(study=study, user=curator)
    study.refresh_from_db()
    berman = SEED["berman2000"]
    assert study.title == berman["title"]
    assert study.authors[0] == {"family": "Berman", "given": "Robert M."} and len(study.authors) == 7
    assert (study.container_title, study.volume, study.issue, study.pages) == (
        "Biological Psychiatry",
        "47",
        "4",
        "351-354",
    )
    assert (study.year, study.month, study.day) == (2000, 2, 15)
    assert study.verified and outcome.confirmed_by == ["Crossref"]
    today = timezone.localdate().isoformat()
    record = "https://api.crossref.org/works/10.1016/s0006-3223%2899%2900230-9"
    assert study.verified_from == [f"{record} (Crossref on {today}: DOI, title and first author)"]
    entry = study.history.first()
    assert entry.history_user == curator and entry.history_change_reason.startswith(f"looked up in Crossref on {today}")


def test_a_curators_value_is_kept_and_the_difference_reported(lookups_on, network):
    replay(network, "crossref/berman2000")
    berman = SEED["berman2000"]
    study = bare_study(
        doi=BERMAN_DOI, title=berman["title"], volume="48", authors=[{"family": "Berman", "given": "R."}]
    )
    outcome = study_lookup_apply(study=study)
    study.refresh_from_db()
    assert study.volume == "48"  # not overwritten
    assert sorted((c.field, c.stored, c.found) for c in outcome.conflicts) == [
        (
            "authors",
            [{"family": "Berman", "given": "R."}],
            [{"family": a["family"], "given": a["given"]} for a in berman["author"]],
        ),
        ("volume", "48", "47"),
    ]
    assert "kept the stored volume '48'; Crossref says '47'" in outcome.summary()
    assert study.issue == "4"  # the empty ones are still filled
    assert study.verified  # DOI, title and first author agree


def test_pubmed_fills_a_study_known_by_its_pmid(lookups_on, network):
    replay(network, "pubmed/feder2014")
    feder = SEED["feder2014"]
    study = bare_study(pmid="24740528")
    outcome = study_lookup_apply(study=study)
    study.refresh_from_db()
    assert study.doi == feder["DOI"].lower() and study.title == feder["title"]
    assert study.pages == "681-688" and study.year == 2014 and study.container_title == "JAMA Psychiatry"
    assert study.authors[7] == {"family": "aan het Rot", "given": "M."}
    assert (
        outcome.confirmed_by == ["PubMed"]
        and "https://pubmed.ncbi.nlm.nih.gov/24740528/ (PubMed on" in study.verified_from[0]
    )


@pytest.mark.parametrize(
    ("recording", "message"),
    [
        ("crossref/berman2000-429", "Crossref is limiting our requests (it asks to wait 60 s)"),
        ("crossref/berman2000-timeout", "Crossref did not answer within 10 s for DOI 10.1016/s0006-3223(99)00230-9"),
    ],
)
def test_a_refusal_or_a_timeout_leaves_the_record_as_it_was(lookups_on, network, recording, message, settings):
    settings.EVIDENCE_LOOKUP_TIMEOUT = 10
    replay(network, recording)
    study = bare_study(doi=BERMAN_DOI)
    before = Study.history.count()
    outcome = study_lookup_apply(study=study)
    study.refresh_from_db()
    assert message in outcome.summary()
    assert study.title == "" and not study.verified and Study.history.count() == before


def test_a_doi_crossref_does_not_know(lookups_on, network):
    replay(network, "crossref/not-found")
    study = bare_study(doi="10.5555/test.404", title="A study")
    outcome = study_lookup_apply(study=study)
    assert outcome.failures == ["Crossref has no record of DOI 10.5555/test.404."] and not outcome.changed


def test_answers_are_cached(lookups_on, network):
    (route,) = replay(network, "crossref/berman2000")
    crossref_work(BERMAN_DOI)
    crossref_work(BERMAN_DOI)
    assert route.call_count == 1


def test_a_polite_user_agent_and_mailto(lookups_on, network, settings):
    settings.EVIDENCE_LOOKUP_MAILTO = "desk@example.org"
    (route,) = replay(network, "crossref/berman2000")
    crossref_work(BERMAN_DOI)
    request = route.calls.last.request
    assert request.url.params["mailto"] == "desk@example.org"
    assert request.headers["User-Agent"] == "evidence-review/0.1 (mailto:desk@example.org)"


def test_switched_off_no_request_is_made(network):
    study = bare_study(doi=BERMAN_DOI)
    with pytest.raises(LookupDisabled):
        study_lookup_apply(study=study)
    assert not network.calls


def test_a_dry_run_changes_nothing(lookups_on, network):
    replay(network, "crossref/berman2000")
    study = bare_study(doi=BERMAN_DOI)
    outcome = study_lookup_apply(study=study, dry_run=True)
    study.refresh_from_db()
    assert "title" in outcome.filled and study.title == "" and not study.verified


def test_medline_forms():
    assert medline_pages("351-4") == "351-354" and medline_pages("1134-1142") == "1134-1142"
    assert medline_author("Lapidus KAB") == {"family": "Lapidus", "given": "K. A. B."}
    assert medline_author("APA Council of Research Task Force") == {"literal": "APA Council of Research Task Force"}


# --- the command ----------------------------------------------------------------------------------------


def test_the_command_refuses_when_lookups_are_off(capsys):
    bare_study(doi=BERMAN_DOI)
    with pytest.raises(CommandError, match="switched off"):
        call_command("lookup_studies", "--missing")
    assert Study.objects.get().title == ""


def test_the_command_fills_the_studies_missing_fields(lookups_on, network, capsys):
    replay(network, "crossref/berman2000", "pubmed/feder2014")
    bare_study(doi=BERMAN_DOI)
    bare_study(pmid="24740528")
    complete = bare_study(
        doi="10.5555/test.complete",
        title="Done",
        verified=True,
        authors=[{"family": "X"}],
        container_title="J",
        year=2020,
        volume="1",
        pages="1-2",
    )
    call_command("lookup_studies", "--missing")
    out = capsys.readouterr().out
    assert "filled" in out and "2 looked up" in out
    assert Study.objects.get(pmid="24740528").doi == SEED["feder2014"]["DOI"].lower()
    complete.refresh_from_db()
    assert complete.title == "Done"  # verified and complete: not asked about


def test_the_command_dry_run_and_a_single_doi(lookups_on, network, capsys):
    replay(network, "crossref/berman2000")
    bare_study(doi=BERMAN_DOI)
    call_command("lookup_studies", "--doi", "https://doi.org/10.1016/S0006-3223(99)00230-9", "--dry-run")
    assert "Dry run, nothing written. 1 looked up: 1 filled" in capsys.readouterr().out
    assert Study.objects.get().title == ""
    with pytest.raises(CommandError, match="No study has DOI 10.5555/none"):
        call_command("lookup_studies", "--doi", "10.5555/none")
    with pytest.raises(CommandError, match="not a DOI"):
        call_command("lookup_studies", "--doi", "nonsense")


def test_the_command_exits_non_zero_when_a_lookup_fails(lookups_on, network):
    replay(network, "crossref/not-found")
    bare_study(doi="10.5555/test.404", title="A study")
    with pytest.raises(CommandError, match="1 failed"):
        call_command("lookup_studies", "--missing")


# --- the curator's button in the admin ---------------------------------------------------------------


def test_the_study_form_has_a_lookup_button_that_fills_and_reports(lookups_on, network, make_user):
    replay(network, "crossref/berman2000")
    study = bare_study(doi=BERMAN_DOI, volume="48")
    client = Client()
    client.force_login(make_user("Curators"))
    change = reverse("admin:evidence_study_change", args=[study.pk])
    lookup = reverse("admin:evidence_study_lookup", args=[study.pk])
    assert lookup in client.get(change).content.decode()
    assert client.get(lookup).status_code == 405  # a change: POST only
    response = client.post(lookup, follow=True)
    page = response.content.decode()
    assert "filled title" in page and "kept the stored volume" in page
    study.refresh_from_db()
    assert study.title and study.volume == "48"


def test_the_lookup_button_says_when_lookups_are_off_and_needs_change_permission(make_user):
    study = bare_study(doi=BERMAN_DOI)
    client = Client()
    client.force_login(make_user("Curators"))
    page = client.post(reverse("admin:evidence_study_lookup", args=[study.pk]), follow=True).content.decode()
    assert "switched off" in page
    client.force_login(make_user("Reviewers"))
    assert client.post(reverse("admin:evidence_study_lookup", args=[study.pk])).status_code == 403
