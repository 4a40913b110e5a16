"""GRADE as GRADEpro records it: the vocabulary and the pure rules that turn a reviewer's ratings into a
certainty. No database here; reviews.models stores the ratings, reviews.services enforces these rules on
every write (the review page, the admin, the API and the bulk path), the form shows their errors per field.

A body of evidence starts high when it comes from randomised trials and low when it is observational.
Each of the five downgrade domains lowers it by one level for a serious concern and by two for a very
serious one; for observational evidence only, the three upgrade domains raise it (a large effect by one,
a very large one by two; a dose-response gradient and opposing plausible confounding by one each). The
result is clamped to GRADE's four levels. A reviewer may judge the certainty one level away from that
result (GRADE's guidance allows, say, one downgrade for borderline concerns in two domains), saying why;
further away, the ratings and the certainty contradict each other and the review is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from django.db import models
from django.utils.translation import gettext_lazy as _


class Certainty(models.TextChoices):
    """GRADE certainty of evidence, strongest first."""

    HIGH = "high", _("High")
    MODERATE = "moderate", _("Moderate")
    LOW = "low", _("Low")
    VERY_LOW = "very_low", _("Very low")

    @classmethod
    def rank(cls, value: str) -> int:
        """Ordinal position for medians and agreement: very low = 1 … high = 4."""
        return {cls.VERY_LOW: 1, cls.LOW: 2, cls.MODERATE: 3, cls.HIGH: 4}[cls(value)]


# Certainty by rank (1 … 4), the inverse of Certainty.rank.
BY_RANK = {Certainty.rank(value): Certainty(value) for value in Certainty.values}


class EvidenceDesign(models.TextChoices):
    """The design of the body of evidence, which sets GRADE's starting level."""

    RANDOMISED = "randomised", _("Randomised trials (start high)")
    OBSERVATIONAL = "observational", _("Observational studies (start low)")


class Concern(models.TextChoices):
    """A downgrade domain's rating, as GRADEpro words it."""

    NOT_SERIOUS = "not_serious", _("Not serious")
    SERIOUS = "serious", _("Serious (−1)")
    VERY_SERIOUS = "very_serious", _("Very serious (−2)")


class LargeEffect(models.TextChoices):
    NO = "no", _("No")
    LARGE = "large", _("Large (+1)")
    VERY_LARGE = "very_large", _("Very large (+2)")


# The five domains that lower certainty, by the name of their field on Review (and in the form and the API).
DOWNGRADE_DOMAINS: dict[str, str] = {
    "risk_of_bias": _("Risk of bias"),
    "inconsistency": _("Inconsistency"),
    "indirectness": _("Indirectness"),
    "imprecision": _("Imprecision"),
    "publication_bias": _("Publication bias"),
}
# The three that raise it, for observational evidence only.
UPGRADE_DOMAINS: dict[str, str] = {
    "large_effect": _("Large effect"),
    "dose_response": _("Dose-response gradient"),
    "plausible_confounding": _("Opposing plausible confounding"),
}

STARTING_RANK = {EvidenceDesign.RANDOMISED: 4, EvidenceDesign.OBSERVATIONAL: 2}
CONCERN_STEPS = {Concern.NOT_SERIOUS: 0, Concern.SERIOUS: 1, Concern.VERY_SERIOUS: 2}
LARGE_EFFECT_STEPS = {LargeEffect.NO: 0, LargeEffect.LARGE: 1, LargeEffect.VERY_LARGE: 2}
# How far a reviewer's certainty may lie from the one the ratings give (with a reason).
MAX_DEPARTURE = 1


@dataclass(frozen=True)
class Grading:
    """A reviewer's GRADE ratings of a claim's evidence: the fields of Review with the same names."""

    evidence_design: str = ""
    risk_of_bias: str = Concern.NOT_SERIOUS
    inconsistency: str = Concern.NOT_SERIOUS
    indirectness: str = Concern.NOT_SERIOUS
    imprecision: str = Concern.NOT_SERIOUS
    publication_bias: str = Concern.NOT_SERIOUS
    large_effect: str = LargeEffect.NO
    dose_response: bool = False
    plausible_confounding: bool = False

    @classmethod
    def of(cls, source: object) -> Grading:
        """The ratings an object (a Review, a form's cleaned data as a namespace) carries."""
        return cls(**{f.name: getattr(source, f.name) for f in fields(cls)})

    @classmethod
    def from_mapping(cls, values: dict) -> Grading:
        """The ratings among ``values`` (a form's or a serializer's cleaned data); absent ones at their default."""
        return cls(**{f.name: values[f.name] for f in fields(cls) if f.name in values})

    def values(self) -> dict[str, str | bool]:
        """Field name → value, for writing to a Review."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def upgraded(self) -> bool:
        return self.large_effect != LargeEffect.NO or self.dose_response or self.plausible_confounding


def grading_errors(grading: Grading) -> dict[str, str]:
    """What is wrong with the ratings themselves, by field name (empty when nothing is)."""
    errors: dict[str, str] = {}
    if grading.evidence_design not in EvidenceDesign.values:
        errors["evidence_design"] = "Choose the design of the evidence: randomised trials or observational studies."
    for name, label in DOWNGRADE_DOMAINS.items():
        if getattr(grading, name) not in Concern.values:
            errors[name] = f"Rate {str(label).lower()}: not serious, serious or very serious."
    if grading.large_effect not in LargeEffect.values:
        errors["large_effect"] = "Rate the size of the effect: no, large or very large."
    if grading.evidence_design == EvidenceDesign.RANDOMISED and not errors:
        for name, label in UPGRADE_DOMAINS.items():
            if getattr(grading, name) not in (LargeEffect.NO, False):
                errors[name] = (
                    f"{label} raises the certainty of observational evidence only; "
                    "randomised trials already start high."
                )
    return errors


def computed_certainty(grading: Grading) -> str:
    """The certainty the ratings give: the starting level, less the downgrades, plus the upgrades of
    observational evidence, within very low … high. Expects valid ratings (grading_errors empty)."""
    rank = STARTING_RANK[EvidenceDesign(grading.evidence_design)]
    rank -= sum(CONCERN_STEPS[Concern(getattr(grading, name))] for name in DOWNGRADE_DOMAINS)
    if grading.evidence_design == EvidenceDesign.OBSERVATIONAL:
        rank += LARGE_EFFECT_STEPS[LargeEffect(grading.large_effect)]
        rank += int(grading.dose_response) + int(grading.plausible_confounding)
    return BY_RANK[max(1, min(4, rank))].value


def certainty_errors(grading: Grading, certainty: str, reason: str) -> dict[str, str]:
    """What is wrong with the certainty a reviewer chose, given valid ratings: more than MAX_DEPARTURE
    levels from the computed one is refused; any departure needs a reason."""
    computed = computed_certainty(grading)
    if certainty not in Certainty.values or certainty == computed:
        return {}
    chosen, given = Certainty(certainty).label, Certainty(computed).label.lower()
    apart = abs(Certainty.rank(certainty) - Certainty.rank(computed))
    if apart > MAX_DEPARTURE:
        return {
            "certainty": f"{chosen} is {apart} levels from the {given} certainty your ratings give; change the "
            f"ratings, or choose a certainty at most {MAX_DEPARTURE} level from {given}."
        }
    if not reason.strip():
        return {"certainty_reason": f"Your ratings give {given} certainty; say why you chose {chosen.lower()}."}
    return {}


def downgrades_in_words(grading: Grading) -> list[str]:
    """The downgrade domains rated serious or very serious: ["Risk of bias: serious (−1)", …]."""
    return [
        f"{label}: {Concern(getattr(grading, name)).label.lower()}"
        for name, label in DOWNGRADE_DOMAINS.items()
        if getattr(grading, name) in (Concern.SERIOUS, Concern.VERY_SERIOUS)
    ]


def upgrades_in_words(grading: Grading) -> list[str]:
    """The upgrade domains that apply: ["Large effect: very large (+2)", "Dose-response gradient (+1)"]."""
    parts = []
    if grading.large_effect in (LargeEffect.LARGE, LargeEffect.VERY_LARGE):
        parts.append(f"{UPGRADE_DOMAINS['large_effect']}: {LargeEffect(grading.large_effect).label.lower()}")
    parts.extend(
        f"{UPGRADE_DOMAINS[name]} (+1)" for name in ("dose_response", "plausible_confounding") if getattr(grading, name)
    )
    return parts
