"""The library's to-do lists: each a named rule of Study.objects (evidence/models/library.py), with the
words the workspace and the admin's "to do" filter show for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from evidence.models import Study
from evidence.models.library import StudyQuerySet


@dataclass(frozen=True)
class ToDo:
    slug: str
    title: str
    help: str
    rule: Callable[[StudyQuerySet], StudyQuerySet]


STUDY_LISTS: dict[str, ToDo] = {
    todo.slug: todo
    for todo in (
        ToDo(
            "unclassified",
            "Not yet classified by design",
            "Imports never guess a design. Where the title or type suggests one, it is chosen in advance: "
            "confirm it or pick another.",
            StudyQuerySet.unclassified,
        ),
        ToDo(
            "unverified",
            "Unverified",
            "Nobody has seen the DOI, title and first author in a bibliographic source yet.",
            StudyQuerySet.unverified,
        ),
        ToDo(
            "no-identifiers",
            "Without DOI and PMID",
            "No lookup, retraction check or de-duplication by identifier can reach these.",
            StudyQuerySet.without_identifiers,
        ),
        ToDo(
            "retracted-relied-on",
            "Retracted, still cited as support",
            "Claims still rely on these retracted studies (cited as supporting or mixed): "
            "change the link or unlink it.",
            StudyQuerySet.retracted_still_relied_on,
        ),
    )
}


def counts() -> dict[str, int]:
    """How many studies each list holds: one COUNT per list."""
    return {slug: todo.rule(Study.objects.all()).count() for slug, todo in STUDY_LISTS.items()}
