"""A claim's changelog, read from django-simple-history's tables: every version of the claim, its
citations, its reviews, its flags and its consensus, newest first, with what changed in each.

Five queries whatever the length of the history (one per history table, related rows joined in), and
the differences between versions are computed here rather than with ``diff_against``, which would
query once per version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

from django.db import models

from evidence.models import Citation, Claim
from reviews.grade import DOWNGRADE_DOMAINS, UPGRADE_DOMAINS
from reviews.models import Consensus, Flag, Review

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


@dataclass
class Entry:
    when: datetime
    who: str  # "" when the system made the change
    subject: str  # "Review by anna", "Citation of Smith (2020) …", "Flag: Unsupported"
    kind: str  # claim, citation, review, flag, consensus
    action: str  # created, changed, deleted
    reason: str
    changes: list[Change] = field(default_factory=list)


# What each history shows, field by field: enough to follow the work, nothing that is only bookkeeping.
FIELDS: dict[str, list[str]] = {
    "claim": ["status", "quote", "section", "kind", "substance", "claim_type", "evidence_note"],
    "citation": ["relation", "note", "directness", "directness_note"],
    "review": [
        "certainty",
        "verdict",
        "evidence_design",
        *DOWNGRADE_DOMAINS,
        *UPGRADE_DOMAINS,
        "certainty_reason",
        "read_full_text",
        "rationale",
        "conflict_of_interest",
        "conflict_statement",
    ],
    "flag": ["reason", "note", "status", "resolution_note"],
    "consensus": [
        "n_reviews",
        "certainty",
        "verdict",
        "certainty_spread",
        "verdict_split",
        "disputed",
        "adjudicated_certainty",
        "adjudicated_verdict",
        "adjudication_rationale",
        "published_certainty",
        "published_verdict",
        "published_rationale",
    ],
}


def _display(record: models.Model, name: str) -> str:
    value = getattr(record, name)
    model_field = record._meta.get_field(name)
    if model_field.choices and value not in ("", None):
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _label(record: models.Model, name: str) -> str:
    return str(record._meta.get_field(name).verbose_name)


def _entries(records: list[Any], kind: str, subject: Any, key: str) -> list[Entry]:
    """Entries for one history table, each version compared with the previous version of its object."""
    names = FIELDS[kind]
    entries = []
    records.sort(key=lambda r: (getattr(r, key), r.history_date, r.history_id))
    for _, versions in groupby(records, key=lambda r: getattr(r, key)):
        previous = None
        for record in versions:
            if previous is None or record.history_type == "-":
                changes = [
                    Change(_label(record, name), "", _display(record, name))
                    for name in names
                    if record.history_type == "+" and _display(record, name) not in ("", "no", "0")
                ]
            else:
                changes = [
                    Change(_label(record, name), _display(previous, name), _display(record, name))
                    for name in names
                    if getattr(previous, name) != getattr(record, name)
                ]
            entries.append(
                Entry(
                    when=record.history_date,
                    who=str(record.history_user) if record.history_user_id else "",
                    subject=subject(record),
                    kind=kind,
                    action=ACTIONS.get(record.history_type, record.history_type),
                    reason=record.history_change_reason or "",
                    changes=changes,
                )
            )
            previous = record
    return entries


def claim_history(claim: Claim, limit: int = 200) -> list[Entry]:
    """The claim's changelog for editors, newest first (reviewers' names included)."""
    tables = [
        (Claim.history.filter(id=claim.pk).select_related("history_user"), "claim", lambda r: "Claim", "id"),
        (
            Citation.history.filter(claim_id=claim.pk).select_related("history_user", "study"),
            "citation",
            lambda r: f"Citation of {r.study}" if r.study_id else "Citation",
            "id",
        ),
        (
            Review.history.filter(claim_id=claim.pk).select_related("history_user", "reviewer"),
            "review",
            lambda r: f"Review by {r.reviewer}",
            "id",
        ),
        (
            Flag.history.filter(claim_id=claim.pk).select_related("history_user"),
            "flag",
            lambda r: f"Flag: {r.get_reason_display()}",
            "id",
        ),
        (
            Consensus.history.filter(claim_id=claim.pk).select_related("history_user"),
            "consensus",
            lambda r: "Consensus",
            "claim_id",
        ),
    ]
    entries: list[Entry] = []
    for queryset, kind, subject, key in tables:
        entries.extend(_entries(list(queryset), kind, subject, key))
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]


def review_versions(review: Review) -> list[Entry]:
    """Every saved version of one review, newest first: what its reviewer sees of its history."""
    records = list(Review.history.filter(id=review.pk).select_related("history_user", "reviewer"))
    entries = _entries(records, "review", lambda r: f"Review by {r.reviewer}", "id")
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries
