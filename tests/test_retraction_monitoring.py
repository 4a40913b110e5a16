"""The scheduled retraction check (evidence.services.monitoring): Crossref's updated-by notices and PubMed's
publication types for every cited study, applied through the one retraction service, listed on the editor's
desk. Offline: recorded answers (tests/recordings/) replayed with respx; a request nobody recorded fails."""

from __future__ import annotations

import json
from datetime import date

import pytest
import respx
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from evidence.models import RetractionChange, RetractionCheck, RetractionStatus, Study
from evidence.services.monitoring import retraction_check_run
from evidence.tasks import check_retractions
from reviews.models import Flag, FlagReason
from tests import builders
from tests.conftest import SEED_DIR
from tests.recorded import replay

pytestmark = pytest.mark.django_db
SEED = {entry["id"]: entry for entry in json.loads((SEED_DIR / "studies.json").read_text())}


@pytest.fixture
def lookups_on(settings):
    settings.EVIDENCE_LOOKUP_ENABLED = True
    settings.EVIDENCE_LOOKUP_MAILTO = ""


@pytest.fixture
def network():
    with respx.mock(assert_all_called=False) as router:
        yield router


def cited(key: str, **identifiers) -> Study:
    """The seed study ``key``, not (yet) known to be retracted, cited as support for a claim."""
    entry = SEED[key]
    study = builders.study(title=entry["title"], year=entry["issued"]["date-parts"][0][0], **identifiers)
    builders.citation(builders.claim(), study)
    return study


def test_a_retraction_crossref_reports_goes_through_the_retraction_service(lookups_on, network):
    replay(network, "crossref/mithoefer2019-retracted")
    study = cited("mithoefer2019", doi=SEED["mithoefer2019"]["DOI"].lower())
    outcome = retraction_check_run()
    study.refresh_from_db()
    assert study.retraction_status == RetractionStatus.RETRACTED
    assert study.retraction_date == date(2024, 8, 10)
    assert study.retraction_note == "Crossref: Retraction (from Retraction Watch), 2024-08-10"
    assert study.retraction_doi == ""  # the recording has no notice DOI, and none is made up
    # what a retraction recorded by hand does: the claim relying on it is flagged
    flag = Flag.objects.get()
    assert flag.reason == FlagReason.RETRACTED_SOURCE and flag.claim == study.citations.get().claim
    (change,) = outcome.changes
    assert (change.status_before, change.status_after, change.source) == ("none", "retracted", "Crossref")
    run = RetractionCheck.objects.get()
    assert run.state == "succeeded" and run.checked == 1 and run.failed == 0
    assert list(run.changes.all()) == [change]


def test_pubmeds_retracted_publication_type_is_a_retraction(lookups_on, network):
    replay(network, "pubmed/jerome2020-retracted")
    study = cited("jerome2020", pmid="32500209")
    retraction_check_run()
    study.refresh_from_db()
    assert study.retraction_status == RetractionStatus.RETRACTED
    assert study.retraction_note == "PubMed: Retracted Publication"


def test_a_second_run_changes_nothing_and_uncited_studies_are_not_asked(lookups_on, network):
    (route,) = replay(network, "crossref/mithoefer2019-retracted")
    cited("mithoefer2019", doi=SEED["mithoefer2019"]["DOI"].lower())
    builders.study(doi="10.5555/never.asked")  # cited by nothing: not checked (respx would refuse the request)
    retraction_check_run()
    history = Study.history.count()
    outcome = retraction_check_run()
    assert outcome.checked == 1 and outcome.changes == [] and route.call_count == 2  # asked afresh each run
    assert Study.history.count() == history and Flag.objects.count() == 1
    assert RetractionChange.objects.count() == 1


def test_a_study_known_to_be_retracted_is_left_alone(lookups_on, network):
    replay(network, "crossref/mithoefer2019-retracted")
    study = cited("mithoefer2019", doi=SEED["mithoefer2019"]["DOI"].lower(), retraction_status="retracted")
    assert retraction_check_run().changes == []
    study.refresh_from_db()
    assert study.retraction_note == ""


def test_a_dry_run_reports_and_writes_nothing(lookups_on, network, capsys):
    replay(network, "crossref/mithoefer2019-retracted")
    study = cited("mithoefer2019", doi=SEED["mithoefer2019"]["DOI"].lower())
    call_command("check_retractions", "--dry-run")
    out = capsys.readouterr().out
    assert "Not retracted → Retracted  Crossref: Retraction" in out and "Dry run, nothing written. 1 cited" in out
    study.refresh_from_db()
    assert study.retraction_status == "none"
    assert not Flag.objects.exists() and not RetractionCheck.objects.exists()


def test_a_failed_lookup_is_recorded_and_the_command_exits_non_zero(lookups_on, network):
    replay(network, "crossref/berman2000-429", "crossref/mithoefer2019-retracted")
    cited("berman2000", doi=SEED["berman2000"]["DOI"].lower())
    retracted = cited("mithoefer2019", doi=SEED["mithoefer2019"]["DOI"].lower())
    with pytest.raises(CommandError, match="2 cited studies checked: 1 changed, 1 lookup"):
        call_command("check_retractions")
    run = RetractionCheck.objects.get()
    assert run.failed == 1 and "Crossref is limiting our requests" in run.error
    retracted.refresh_from_db()
    assert retracted.is_retracted  # what the other lookup found is kept


def test_switched_off_the_command_refuses_and_the_task_does_nothing(network):
    cited("berman2000", doi=SEED["berman2000"]["DOI"].lower())
    with pytest.raises(CommandError, match="switched off"):
        call_command("check_retractions")
    assert check_retractions.delay().get() == 0
    assert not RetractionCheck.objects.exists() and not network.calls


def test_the_scheduled_task_runs_the_check(lookups_on, network):
    replay(network, "crossref/mithoefer2019-retracted")
    cited("mithoefer2019", doi=SEED["mithoefer2019"]["DOI"].lower())
    assert check_retractions.delay().get() == 1


def test_the_editors_desk_lists_what_the_last_run_changed(lookups_on, network, make_user):
    client = Client()
    client.force_login(make_user("Editors"))
    assert "No check has run yet." in client.get(reverse("reviews:desk")).content.decode()
    replay(network, "crossref/mithoefer2019-retracted")
    study = cited("mithoefer2019", doi=SEED["mithoefer2019"]["DOI"].lower())
    retraction_check_run()
    page = client.get(reverse("reviews:desk")).content.decode()
    section = page[page.index('id="retraction-check"') :]
    assert "1 cited studies checked" in section and study.get_absolute_url() in section
    assert "Not retracted" in section and "<strong>Retracted</strong>" in section


def test_an_expression_of_concern_is_recorded_and_opens_its_own_flag(lookups_on, network):
    """The gravest of a work's notices counts; short of a retraction, the claims relying on the study get a
    flag of its own reason (issue 19 §5) without going back for re-review, and their evidence changed (their
    reviewers see it)."""
    replay(network, "crossref/example-concern")
    study = builders.study(doi="10.5555/test.concern", title="An example trial")
    claim = builders.claim()
    builders.citation(claim, study)
    (change,) = retraction_check_run().changes
    study.refresh_from_db()
    assert study.retraction_status == RetractionStatus.EXPRESSION_OF_CONCERN
    assert study.retraction_doi == "10.5555/test.concern-notice" and study.retraction_date == date(2022, 5, 2)
    assert change.status_after == "expression_of_concern" and "Expression of Concern" in change.notice
    (flag,) = Flag.objects.all()
    assert (flag.claim_id, flag.reason, flag.study_id, flag.is_open) == (
        claim.pk,
        Flag.Reason.CONCERN_SOURCE,
        study.pk,
        True,
    )
    status = claim.status
    claim.refresh_from_db()
    assert claim.evidence_changed_at is not None and claim.status == status
