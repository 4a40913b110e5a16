"""The vocabularies of evidence's models and the rules on single values (choices, CSL names, who sees
internal notes)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def choices_check(field: str, choices: type[models.Choices], name: str) -> models.CheckConstraint:
    """A CHECK constraint that keeps ``field`` inside ``choices`` in the database itself."""
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


class ClaimKind(models.TextChoices):
    CLAIM = "claim", _("Claim")
    QUOTATION = "quotation", _("Quotation")


class ClaimType(models.TextChoices):
    EFFICACY = "efficacy", _("Efficacy")
    MECHANISM = "mechanism", _("Mechanism")
    SAFETY = "safety", _("Safety")
    ONSET = "onset", _("Onset")
    DURABILITY = "durability", _("Durability")
    ATTRIBUTION = "attribution", _("Attribution")
    OTHER = "other", _("Other")


class ClaimStatus(models.TextChoices):
    AWAITING_REVIEW = "awaiting_review", _("Awaiting review")
    IN_REVIEW = "in_review", _("In review")
    NEEDS_REREVIEW = "needs_rereview", _("Needs re-review")
    PUBLISHED = "published", _("Verdict published")


class AnchorState(models.TextChoices):
    """Whether a claim's quote stands in its article's current text. An orphan's quote is gone from it: the
    claim keeps where it was last found, is never drawn into the current text, and waits for an editor."""

    ANCHORED = "anchored", _("Anchored")
    ORPHANED = "orphaned", _("Orphaned: no longer found in the current text")


class StudyDesign(models.TextChoices):
    # What an import, or a curator who did not say, leaves: never a guess (evidence.designs suggests one
    # for a curator to confirm).
    UNCLASSIFIED = "", _("Not yet classified")
    META_ANALYSIS = "meta_analysis", _("Meta-analysis")
    SYSTEMATIC_REVIEW = "systematic_review", _("Systematic review")
    RCT = "rct", _("Randomised controlled trial")
    COHORT = "cohort", _("Cohort study")
    CASE_CONTROL = "case_control", _("Case-control study")
    CASE_SERIES = "case_series", _("Case series")
    CROSS_SECTIONAL = "cross_sectional", _("Cross-sectional study")
    PRECLINICAL = "preclinical", _("Preclinical study")
    REVIEW = "review", _("Narrative review")
    REGULATORY = "regulatory", _("Regulatory document")
    OTHER = "other", _("Other")


def validate_csl_names(value: Any) -> None:
    """A study's authors are a list of CSL names, each an object of texts ({"family": …, "given": …} or
    {"literal": …}): anything else would break every page that names them. The admin's form, the API and
    the model's full_clean apply this one rule."""
    if not isinstance(value, list) or not all(
        isinstance(name, dict) and name and all(isinstance(k, str) and isinstance(v, str) for k, v in name.items())
        for name in value
    ):
        raise ValidationError(
            'A list of CSL names: [{"family": "Berman", "given": "R. M."}, {"literal": "WHO"}].', code="csl_names"
        )


def sees_internal_notes(user: Any) -> bool:
    """Who may read a study's internal note (the curators' research log): those who may change studies.
    Readers, signed in or not, see the public note only."""
    return bool(user and user.is_authenticated and user.has_perm("evidence.change_study"))


class RetractionStatus(models.TextChoices):
    NONE = "none", _("Not retracted")
    RETRACTED = "retracted", _("Retracted")
    EXPRESSION_OF_CONCERN = "expression_of_concern", _("Expression of concern")
    CORRECTED = "corrected", _("Corrected")

    @classmethod
    def severity(cls, value: str) -> int:
        """How grave a status is: none 0, corrected 1, expression of concern 2, retracted 3. A notice only
        ever raises a study's status (services.retractions)."""
        return {cls.NONE: 0, cls.CORRECTED: 1, cls.EXPRESSION_OF_CONCERN: 2, cls.RETRACTED: 3}[cls(value)]


class Relation(models.TextChoices):
    SUPPORTS = "supports", _("Supports")
    MIXED = "mixed", _("Mixed")
    CONTRADICTS = "contradicts", _("Contradicts")
    CONTEXT = "context", _("Context")


# How a citation reads with its study as the subject ("… supports claim K1").
RELATION_VERBS = {
    Relation.SUPPORTS: "supports",
    Relation.MIXED: "gives mixed evidence on",
    Relation.CONTRADICTS: "contradicts",
    Relation.CONTEXT: "gives context to",
}

# A claim "relies on" the studies cited as supporting it or as giving mixed results.
RELIANT_RELATIONS = (Relation.SUPPORTS, Relation.MIXED)


class Directness(models.TextChoices):
    NOT_ASSESSED = "not_assessed", _("Not assessed")
    DIRECT = "direct", _("Direct")
    PARTLY_INDIRECT = "partly_indirect", _("Partly indirect")
    INDIRECT = "indirect", _("Indirect")
