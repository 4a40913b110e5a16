"""Drawing the library's studies: their metadata, designs and sizes, identifiers unique in the library,
and the retraction notices some of them receive after they entered it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils.text import slugify

from benchmarks.dataset.draw import Dice
from benchmarks.dataset.vocabulary import (
    ABSTRACT_PARTS,
    DESIGNS,
    FAMILY_NAMES,
    GIVEN_NAMES,
    JOURNALS,
    SUBSTANCES,
    TITLE_OPENINGS,
    TITLE_QUALIFIERS,
)
from evidence.models import RetractionStatus, Study, StudyDesign

NOTICES = {
    RetractionStatus.RETRACTED: "Retracted by the publisher: the data could not be verified.",
    RetractionStatus.EXPRESSION_OF_CONCERN: "The editors have raised concerns about the reported outcomes.",
    RetractionStatus.CORRECTED: "A correction was published for a table of adverse events.",
}


@dataclass
class Notice:
    """A retraction notice, expression of concern or correction, and when it reached the library."""

    status: str
    at: datetime
    note: str
    notice_doi: str
    retraction_date: date


@dataclass
class PlannedStudy:
    index: int
    values: dict[str, Any]  # what studies_create_bulk takes, named as on Study
    substance: str
    at: datetime
    user_id: int | None
    notice: Notice | None

    @property
    def retracted_at(self) -> datetime | None:
        return self.notice.at if self.notice and self.notice.status == RetractionStatus.RETRACTED else None

    def record(self) -> Study:
        """The study as it stands once its notice arrived (unsaved): for files the benchmarks import."""
        study = Study(**self.values)
        if self.notice is not None:
            study.retraction_status, study.retraction_note = self.notice.status, self.notice.note
            study.retraction_doi, study.retraction_date = self.notice.notice_doi, self.notice.retraction_date
        return study


class StudyDrafts:
    """Draws studies; ``used_dois`` and ``used_pmids`` hold the identifiers already taken (--append)."""

    def __init__(self, dice: Dice, used_dois: set[str], used_pmids: set[str], curators: list[int]) -> None:
        self.dice = dice
        self.rng = dice.rng
        self.used_dois = used_dois
        self.used_pmids = used_pmids
        self.curators = curators
        self.by_substance: dict[str, list[int]] = {key: [] for key in SUBSTANCES}
        self.everything: list[int] = []

    def studies(self, n: int) -> list[PlannedStudy]:
        r = self.rng
        # 1% retracted, 0.3% with an expression of concern, 0.5% corrected: exact shares (at least one
        # retraction in any library of 50 studies or more), at random places
        notices = r.sample(range(n), k=round(n * 0.018))
        retracted = max(round(n * 0.01), 1 if n >= 50 else 0)
        notice_of = {index: RetractionStatus.RETRACTED for index in notices[:retracted]}
        notice_of |= {index: RetractionStatus.EXPRESSION_OF_CONCERN for index in notices[retracted : round(n * 0.013)]}
        notice_of |= {index: RetractionStatus.CORRECTED for index in notices[round(n * 0.013) :]}
        studies = [self.study(index, notice_of.get(index)) for index in range(n)]
        # landmark studies are cited far more often: the front of each list is the popular end
        for indices in self.by_substance.values():
            r.shuffle(indices)
        self.everything = list(range(len(studies)))
        r.shuffle(self.everything)
        return studies

    def study(self, index: int, notice: str | None) -> PlannedStudy:
        r = self.rng
        substance = self.dice.pick({key: weight for key, (_, weight) in SUBSTANCES.items()})
        if substance == "both":
            substance = r.choice(["ketamine", "MDMA"])
        self.by_substance[substance].append(index)
        design = self.dice.pick({design: weight for design, (weight, _, _) in DESIGNS.items()})
        _, sizes, templates = DESIGNS[design]
        words = self.dice.words(substance)
        title = r.choice(TITLE_OPENINGS) + r.choice(templates).format_map(words)
        if r.random() < 0.9:
            title += r.choice(TITLE_QUALIFIERS).format_map(words)
        if design in (StudyDesign.RCT, StudyDesign.COHORT) and r.random() < 0.5:
            acronym = "".join(r.choice("ABCDEFGHIJKLMNOPRSTUVW") for _ in range(r.randint(3, 6)))
            title += f" (the {acronym}-{r.randint(1, 9)} {'trial' if design == StudyDesign.RCT else 'study'})"
        title = title[0].upper() + title[1:]
        year = max(1965, 2026 - int(r.expovariate(1 / 9)))
        journal, code = r.choice(JOURNALS)
        regulatory = design == StudyDesign.REGULATORY
        if regulatory:
            authors = [{"literal": words["agency"]}]
        else:
            authors = [
                {"family": r.choice(FAMILY_NAMES), "given": f"{r.choice(GIVEN_NAMES)} {chr(65 + r.randrange(26))}."}
                for _ in range(r.choice([1, 2, 3, 3, 4, 5, 6, 6, 8, 10, 14]))
            ]
            if r.random() < 0.02:
                authors.append({"literal": f"The {words['Sub']} Trials Group"})
        doi = self.unique_doi(code, year) if r.random() < 0.92 else ""
        pmid = self.unique_pmid() if not regulatory and r.random() < 0.75 else ""
        # a few records whose title nobody could confirm: known by their identifier only
        if (doi or pmid) and r.random() < 0.005:
            title = ""
        created = self.dice.days_ago(30, 1100)
        month = r.randint(1, 12) if r.random() < 0.7 else None
        values = {
            "citation_key": f"{slugify(authors[0].get('family', 'anon'))}{year}{chr(97 + r.randrange(26))}",
            "work_type": "report" if regulatory else "article-journal",
            "title": title,
            "authors": authors,
            "author_list_complete": r.random() < 0.9,
            "container_title": "" if regulatory else journal,
            "publisher": words["agency"] if regulatory else "",
            "year": year,
            "month": month,
            "day": r.randint(1, 28) if month and r.random() < 0.5 else None,
            "volume": str(r.randint(1, 120)) if not regulatory else "",
            "issue": str(r.randint(1, 12)) if r.random() < 0.8 else "",
            "pages": self.pages(),
            "doi": doi,
            "pmid": pmid,
            "url": "" if doi else f"https://reports.example.org/{code}/{index}",
            "abstract": self.abstract(substance) if r.random() < 0.75 else "",
            "design": design,
            "sample_size": r.randint(*sizes) if sizes and r.random() < 0.9 else None,
            "population": f"Adults with {words['cond']}" if sizes and design != StudyDesign.PRECLINICAL else "",
            "verified": r.random() < 0.7,
        }
        if values["verified"]:
            values["verified_from"] = ["crossref"] if not pmid else ["crossref", "pubmed"]
        planned = PlannedStudy(index, values, substance, created, None, None)
        if notice is not None:
            # it reached the library after the study did: the history holds both versions
            noticed = self.dice.later(created, 0.9)
            notice_doi = f"10.5555/retraction.{doi or index}".lower() if notice == RetractionStatus.RETRACTED else ""
            planned.notice = Notice(notice, noticed, NOTICES[notice], notice_doi, noticed.date())
        planned.user_id = r.choice(self.curators) if self.curators else None
        return planned

    def unique_doi(self, code: str, year: int) -> str:
        while True:
            doi = f"10.5555/{code}.{year}.{self.rng.randrange(10**6, 10**7)}"
            if doi not in self.used_dois:
                self.used_dois.add(doi)
                return doi

    def unique_pmid(self) -> str:
        while True:
            pmid = str(self.rng.randrange(1_000_000, 40_000_000))
            if pmid not in self.used_pmids:
                self.used_pmids.add(pmid)
                return pmid

    def pages(self) -> str:
        r = self.rng
        if r.random() < 0.15:
            return f"e{r.randint(100000, 999999)}"
        first = r.randint(1, 2400)
        return f"{first}-{first + r.randint(3, 18)}"

    def abstract(self, substance: str) -> str:
        r = self.rng
        sections = []
        words = self.dice.words(substance)  # one set of numbers for the whole abstract
        for heading, options in ABSTRACT_PARTS.items():
            picked = r.sample(options, k=min(len(options), r.randint(1, 3)))
            sections.append(f"{heading}: " + " ".join(t.format_map(words) for t in picked))
        return " ".join(sections)

    def cited_by(self, substance: str, n: int) -> list[int]:
        """n distinct studies for a claim: mostly on its substance, popular ones more often."""
        r = self.rng
        chosen: list[int] = []
        pools = [self.by_substance.get(s, []) for s in (["ketamine", "MDMA"] if substance == "both" else [substance])]
        n = min(n, len(self.everything))
        while len(chosen) < n:
            pool = r.choice(pools)
            if not pool or r.random() < 0.15:
                pool = self.everything
            index = pool[int(len(pool) * r.random() ** 2.5)]
            if index not in chosen:
                chosen.append(index)
        return chosen
