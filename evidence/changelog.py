"""A claim's changelog for readers: edits to the claim, studies linked and unlinked, flags, re-review rounds
and each verdict published.

It says what happened, never who: no reviewer, flagger or editor is named (a claim's status moving to
"in review" under a reviewer's name would tell readers, and the next reviewer, who is reviewing a blind
round). ``who`` only says when the system or an import did it. Built from rows the claim page has already
loaded plus two history queries, never a query per entry (simple_history's diff_against would fetch the
previous record for each one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Fields whose change readers care about, with how to say it.
CLAIM_FIELDS = {
    "quote": "wording",
    "start": "position in the article",
    "section": "section",
    "substance": "substance",
    "claim_type": "claim type",
    "status": "review status",
    "anchor_state": "anchoring in the current text",
    "evidence_note": "curator's note",
}
CITATION_FIELDS = {"relation": "relation", "note": "note on what the study shows", "directness": "directness"}


@dataclass(frozen=True)
class Entry:
    when: datetime
    who: str
    what: str


def _who(user: Any, default: str = "system") -> str:
    """Who did it, as readers are told: the system or an import when nobody did; otherwise nobody named."""
    return default if user is None else ""


def _changes(records: list[Any], fields: dict[str, str]) -> Iterable[tuple[Any, Any | None, list[str]]]:
    """(record, previous record, changed field labels) for one object's history, oldest first."""
    previous = None
    for record in records:
        changed = (
            []
            if previous is None
            else [label for f, label in fields.items() if getattr(record, f) != getattr(previous, f)]
        )
        yield record, previous, changed
        previous = record


def claim_changelog(
    *,
    claim_history: list[Any],
    citation_history: list[Any],
    flags: Iterable[Any],
    reviews: Iterable[Any] = (),
    versions: Iterable[Any] = (),
    rounds: Iterable[Any] = (),
    study_labels: dict[int, str] | None = None,
) -> list[Entry]:
    """Every change, newest first. History lists must be ordered by history_date, oldest first;
    ``reviews`` are the public ones (reviews.models.reviews_are_public), ``versions`` the published verdict
    versions and ``rounds`` the re-review rounds opened."""
    study_labels = study_labels or {}
    entries: list[Entry] = []
    for record, previous, changed in _changes(claim_history, CLAIM_FIELDS):
        if previous is None:
            entries.append(Entry(record.history_date, _who(record.history_user, "import"), "Claim recorded"))
        elif record.history_type == "~" and changed:
            entries.append(Entry(record.history_date, _who(record.history_user), f"Changed {', '.join(changed)}"))

    by_citation: dict[int, list[Any]] = {}
    for record in citation_history:
        by_citation.setdefault(record.id, []).append(record)
    for records in by_citation.values():
        for record, _previous, changed in _changes(records, CITATION_FIELDS):
            study = study_labels.get(record.study_id, f"study {record.study_id}")
            who = _who(record.history_user, "import")
            if record.history_type == "+":
                entries.append(Entry(record.history_date, who, f"Linked {study} ({record.get_relation_display()})"))
            elif record.history_type == "-":
                entries.append(Entry(record.history_date, who, f"Unlinked {study}"))
            elif changed:
                entries.append(Entry(record.history_date, who, f"Changed the {', '.join(changed)} of {study}"))

    for flag in flags:
        entries.append(Entry(flag.raised_at, _who(flag.raised_by), f"Flag raised: {flag.get_reason_display()}"))
        if flag.resolved_at:
            verb = "resolved" if flag.status == "resolved" else "dismissed"
            entries.append(Entry(flag.resolved_at, _who(flag.resolved_by), f"Flag {verb}: {flag.get_reason_display()}"))
    for review in reviews:
        entries.append(Entry(review.created_at, "", f"Review submitted (round {review.round})"))
    for round_ in rounds:
        entries.append(Entry(round_.opened_at, "", f"Sent back for re-review, round {round_.number}: {round_.reason}"))
    for version in versions:
        entries.append(Entry(version.published_at, "", f"Verdict {version.number} published: {version.summary}"))
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries
