"""Evidence maps: an article's claims against study designs, and substances against claim types.

Pure computation over rows the views have loaded in a fixed number of queries; the templates draw the
result as HTML tables (readable without JavaScript, printable, and a text alternative in themselves).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from evidence.models import ClaimType, Relation, StudyDesign
from evidence.status import LEGEND, EvidenceStatus


@dataclass(frozen=True)
class DesignColumn:
    key: str
    label: str
    designs: tuple[str, ...]


# Strongest to weakest, as evidence hierarchies order them; "other" last so nothing is hidden.
DESIGN_COLUMNS: list[DesignColumn] = [
    DesignColumn(
        "synthesis", "Meta-analysis / systematic review", (StudyDesign.META_ANALYSIS, StudyDesign.SYSTEMATIC_REVIEW)
    ),
    DesignColumn("rct", "Randomised trial", (StudyDesign.RCT,)),
    DesignColumn(
        "observational",
        "Cohort / case-control",
        (StudyDesign.COHORT, StudyDesign.CASE_CONTROL, StudyDesign.CROSS_SECTIONAL),
    ),
    DesignColumn("case_series", "Case series", (StudyDesign.CASE_SERIES,)),
    DesignColumn("preclinical", "Preclinical", (StudyDesign.PRECLINICAL,)),
    DesignColumn("review", "Review / opinion", (StudyDesign.REVIEW,)),
    DesignColumn("regulatory", "Regulatory", (StudyDesign.REGULATORY,)),
    # a study nobody has classified yet is counted, with the others that fit no column
    DesignColumn("other", "Other / unclassified", (StudyDesign.OTHER, StudyDesign.UNCLASSIFIED)),
]
COLUMN_OF = {design: column.key for column in DESIGN_COLUMNS for design in column.designs}
# The relations a map cell counts; "context" studies inform but neither support nor contradict.
COUNTED = (Relation.SUPPORTS, Relation.MIXED, Relation.CONTRADICTS)
RELATION_SYMBOL = {Relation.SUPPORTS: "✓", Relation.MIXED: "◐", Relation.CONTRADICTS: "✗"}


@dataclass
class Cell:
    supports: int = 0
    mixed: int = 0
    contradicts: int = 0
    retracted: int = 0  # of the counted studies, how many are retracted

    @property
    def total(self) -> int:
        return self.supports + self.mixed + self.contradicts

    def add(self, relation: str, retracted: bool) -> None:
        setattr(self, relation, getattr(self, relation) + 1)
        self.retracted += int(retracted)


@dataclass
class Row:
    claim: Any
    cells: list[Cell]
    n_context: int = 0

    @property
    def total(self) -> int:
        return sum(cell.total for cell in self.cells)

    @property
    def empty(self) -> bool:
        return self.total == 0

    @property
    def status(self) -> EvidenceStatus:
        return self.claim.evidence_status


@dataclass
class Group:
    label: str
    rows: list[Row] = field(default_factory=list)


def short_label(quote: str, words: int = 9) -> str:
    parts = quote.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def claim_rows(claims: Iterable[Any], citations: Iterable[Any]) -> list[Row]:
    """One row per claim (in the order given), a cell per design column.

    ``citations`` are the claims' citations with ``relation``, ``claim_id`` and the study's ``design``
    and ``retraction_status`` (values() rows or model instances with select_related study).
    """
    rows = {claim.pk: Row(claim, [Cell() for _ in DESIGN_COLUMNS]) for claim in claims}
    index = {column.key: i for i, column in enumerate(DESIGN_COLUMNS)}
    for citation in citations:
        row = rows.get(_get(citation, "claim_id"))
        if row is None:
            continue
        relation = _get(citation, "relation")
        if relation not in COUNTED:
            row.n_context += 1
            continue
        column = COLUMN_OF.get(_get(citation, "study__design"), "other")
        row.cells[index[column]].add(relation, _get(citation, "study__retraction_status") == "retracted")
    return list(rows.values())


def _get(row: Any, name: str) -> Any:
    if isinstance(row, dict):
        return row[name]
    value = row
    for part in name.split("__"):
        value = getattr(value, part)
    return value


def group_rows(rows: list[Row], by: str) -> list[Group]:
    """Rows grouped by the claim's section (article order) or substance (alphabetical)."""
    groups: dict[str, Group] = {}
    for row in rows:
        label = (row.claim.section if by == "section" else row.claim.substance) or "—"
        groups.setdefault(label, Group(label)).rows.append(row)
    if by == "substance":
        return sorted(groups.values(), key=lambda group: group.label.lower())
    return list(groups.values())


def column_totals(rows: list[Row]) -> list[Cell]:
    totals = [Cell() for _ in DESIGN_COLUMNS]
    for row in rows:
        for total, cell in zip(totals, row.cells, strict=True):
            total.supports += cell.supports
            total.mixed += cell.mixed
            total.contradicts += cell.contradicts
            total.retracted += cell.retracted
    return totals


CERTAINTY_ORDER = [
    ("high", "High"),
    ("moderate", "Moderate"),
    ("low", "Low"),
    ("very_low", "Very low"),
    ("", "None yet"),
]


def _share(count: int, total: int) -> int:
    """Percentage rounded to a multiple of 5, for the CSS bar widths (.w-0 … .w-100)."""
    return 0 if not total else round(20 * count / total) * 5


def distribution(claims: list[Any]) -> dict[str, Any]:
    """Verdicts and certainties of an article's claims, for the summary charts."""
    verdicts = Counter(claim.public_verdict or "unreviewed" for claim in claims)
    certainties = Counter(claim.public_certainty or "" for claim in claims)
    total = len(claims)
    return {
        "total": total,
        "verdicts": [(status, verdicts[status.key], _share(verdicts[status.key], total)) for status in LEGEND],
        "certainties": [(label, certainties[key], _share(certainties[key], total)) for key, label in CERTAINTY_ORDER],
        "reviewed": sum(1 for claim in claims if claim.public_verdict),
        "flagged": sum(1 for claim in claims if claim.n_open_flags),
        "no_support": sum(1 for claim in claims if not claim.n_supporting),
        "relies_on_retracted": sum(1 for claim in claims if claim.relies_on_retracted),
    }


@dataclass
class GapCell:
    claim_type: str
    verdicts: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.verdicts.values())

    def breakdown(self) -> list[tuple[EvidenceStatus, int]]:
        return [(status, self.verdicts[status.key]) for status in LEGEND if self.verdicts[status.key]]


def gap_map(counts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Substance × claim type from rows of (substance, claim_type, verdict, n)."""
    verdicts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for row in counts:
        verdicts[(row["substance"], row["claim_type"])][row["verdict"] or "unreviewed"] += row["n"]
    substances = sorted({substance for substance, _ in verdicts}, key=str.lower)
    types = list(ClaimType)
    return {
        "types": types,
        "rows": [
            (substance, [GapCell(t.value, verdicts.get((substance, t.value), Counter())) for t in types])
            for substance in substances
        ],
    }
