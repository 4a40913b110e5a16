"""The seed article, loaded as `make run` loads it, against the verified research files it came from."""

from __future__ import annotations

import json

from django.core.management import call_command

from evidence.models import Article, Citation, Claim, Study
from reviews.models import Flag
from tests.conftest import SEED_DIR, SEED_FILE

SOURCE_CLAIMS = json.loads((SEED_DIR / "claims.json").read_text(encoding="utf-8"))
SOURCE_STUDIES = json.loads((SEED_DIR / "studies.json").read_text(encoding="utf-8"))
SOURCE_TEXT = (SEED_DIR / "article.txt").read_text(encoding="utf-8")
RETRACTED_KEYS = {"mithoefer2019", "jerome2020", "feduccia2021"}


def test_article_file_matches_the_research_file():
    """fixtures/ketamine-mdma/article.json was derived from claims.json; nothing may drift."""
    derived = json.loads(SEED_FILE.read_text(encoding="utf-8"))["claims"]
    assert [c["key"] for c in derived] == [c["id"] for c in SOURCE_CLAIMS]
    for ours, source in zip(derived, SOURCE_CLAIMS, strict=True):
        assert ours["quote"] == source["quote"]
        assert ours["section"] == source["section"]
        assert ours["substance"] == source["substance"]
        assert ours["claim_type"] == source["claim_type"]
        assert [(c["study"], c["relation"], c["note"]) for c in ours["citations"]] == [
            (s["key"], s["relation"], s["note"]) for s in source["studies"]
        ]


def test_counts(seed: Article):
    assert seed.text == SOURCE_TEXT
    assert seed.claims.count() == 38
    assert seed.claims.filter(kind=Claim.Kind.QUOTATION).count() == 2
    assert Study.objects.count() == 46
    assert Citation.objects.count() == sum(len(c["studies"]) for c in SOURCE_CLAIMS) == 109


def test_every_claim_offset_selects_exactly_its_quote(seed: Article):
    by_key = {c.key: c for c in seed.claims.all()}
    for source in SOURCE_CLAIMS:
        claim = by_key[source["id"]]
        assert seed.text[claim.start : claim.end] == claim.quote == source["quote"]
        assert (claim.start, claim.end) == (source["char_offset"], source["char_end"])
        assert claim.section == source["section"]
        assert claim.prefix == seed.text[max(0, claim.start - 32) : claim.start]
        assert claim.suffix == seed.text[claim.end : claim.end + 32]


def test_every_link_points_at_the_study_named_in_the_research_file(seed: Article):
    stored = set(Citation.objects.values_list("claim__key", "study__citation_key", "relation", "note"))
    expected = {(c["id"], s["key"], s["relation"], s["note"]) for c in SOURCE_CLAIMS for s in c["studies"]}
    assert stored == expected


def test_retracted_studies_are_marked_and_no_others(seed: Article):
    retracted = set(
        Study.objects.filter(retraction_status=Study.RetractionStatus.RETRACTED).values_list("citation_key", flat=True)
    )
    assert retracted == RETRACTED_KEYS == {s["id"] for s in SOURCE_STUDIES if s["retracted"]}
    notes = dict(Study.objects.filter(citation_key__in=RETRACTED_KEYS).values_list("citation_key", "retraction_note"))
    assert all("Retracted" in note for note in notes.values())


def test_claims_relying_on_a_retracted_study_are_flagged_by_the_system(seed: Article):
    flagged = set(
        Flag.objects.filter(reason=Flag.Reason.RETRACTED_SOURCE, raised_by=None).values_list(
            "claim__key", "study__citation_key"
        )
    )
    # M10 and M17 cite feduccia2021 as supporting; M14 and M16 cite retracted papers only as context.
    assert flagged == {("M10", "feduccia2021"), ("M17", "feduccia2021")}


def test_bibliographic_fields_are_kept_exactly(seed: Article):
    """Every field of every seed study as given, empty fields included; DOIs stored in lower case."""
    stored = {study.citation_key: study for study in Study.objects.all()}
    mismatches = []
    for source in SOURCE_STUDIES:
        study = stored[source["id"]]
        parts = [*source.get("issued", {}).get("date-parts", [[None]])[0], None, None]
        expected = {
            "title": source["title"],
            "authors": source["author"],
            "doi": source.get("DOI", "").lower(),
            "pmid": source.get("PMID", ""),
            "isbn": source.get("ISBN", ""),
            "publisher": source.get("publisher", ""),
            "container_title": source.get("container-title", ""),
            "volume": source.get("volume", ""),
            "issue": source.get("issue", ""),
            "pages": source.get("page", ""),
            "url": source.get("URL", ""),
            "year": parts[0],
            "month": parts[1],
            "day": parts[2],
            "sample_size": source["sample_size"],
            "verified": source["verified"],
            "verified_from": source["verified_from"],
            "author_list_complete": source["author_list_complete"],
            # values seen only in unreliable places stay out of the record's fields
            "unconfirmed_leads": source["unconfirmed_leads"],
            "internal_note": source["note"],  # the seed's research log: internal (SOURCES.md)
            "work_type": source["type"],
        }
        for field, value in expected.items():
            if getattr(study, field) != value:
                mismatches.append(f"{source['id']}.{field}: stored {getattr(study, field)!r}, given {value!r}")
    assert not mismatches, "\n".join(mismatches)


def test_verified_count_and_gaps_left_empty(seed: Article):
    assert Study.objects.filter(verified=True).count() == 35
    zarate = Study.objects.get(citation_key="zarate2006")
    assert zarate.pmid == ""  # a lead (16894061) that no bibliographic source confirmed
    untitled = Study.objects.get(citation_key="nmda_meta_ajp2015")
    assert untitled.title == "" and untitled.authors == [] and not untitled.verified


def test_importing_twice_changes_nothing(seed: Article, capsys):
    def snapshot():
        return (
            list(Study.history.values_list("history_id", flat=True)),
            list(Claim.history.values_list("history_id", flat=True)),
            list(Citation.history.values_list("history_id", flat=True)),
            list(Flag.objects.values_list("pk", "status")),
            list(Claim.objects.values_list("pk", "start", "end", "status", "updated_at")),
        )

    before = snapshot()
    call_command("import_article", str(SEED_FILE))
    assert snapshot() == before
    out = capsys.readouterr().out
    assert "study: 46 unchanged" in out and "claim: 38 unchanged" in out and "citation: 109 unchanged" in out
