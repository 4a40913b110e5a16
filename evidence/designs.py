"""Study designs: the one name for "not yet classified", and a design suggested for a curator to confirm.

An import never guesses a study's design: a file that does not say leaves it "Not yet classified"
(StudyDesign.UNCLASSIFIED, the empty value). Titles often say what a study is ("… A Randomized Clinical
Trial", "… a systematic review and meta-analysis"), as does a record's publication type (a CSL
``legislation`` is a regulatory document), so ``suggest`` proposes a design from them, with the words it
read, for the curator to accept or correct in the admin. It is shown, never stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evidence.models import StudyDesign

# The value the study list (page, API, admin) filters unclassified studies by (Study.objects.unclassified()):
# "" means "any design".
UNCLASSIFIED_PARAMETER = "unclassified"


# In order: the first that matches wins ("a systematic review and meta-analysis" is a meta-analysis, "a
# randomized trial in mice" preclinical only when nothing before matched: the design column says what a
# reader needs first).
TITLE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (design, re.compile(pattern, re.IGNORECASE))
    for design, pattern in (
        (StudyDesign.META_ANALYSIS, r"\bmeta-?\s?analy[sz](?:is|es)\b|\bpooled analysis of (?:randomi[sz]ed|trials)"),
        (StudyDesign.SYSTEMATIC_REVIEW, r"\bsystematic(?:ally)?\s+review|\bumbrella review\b|\bscoping review\b"),
        (
            StudyDesign.RCT,
            r"\brandomi[sz]ed\b|\brandomly assigned\b|\bplacebo-?\s?controlled\b|\bcontrolled (?:clinical )?trial\b",
        ),
        (StudyDesign.CASE_CONTROL, r"\bcase-?\s?control\b"),
        (StudyDesign.COHORT, r"\bcohort\b|\blongitudinal\b|\bprospective (?:study|follow-?\s?up)\b"),
        (StudyDesign.CROSS_SECTIONAL, r"\bcross-?\s?sectional\b"),
        (StudyDesign.CASE_SERIES, r"\bcase reports?\b|\bcase series\b|\ba case of\b"),
        (StudyDesign.PRECLINICAL, r"\b(?:rats?|mice|mouse|murine|rodents?|in vitro|animal models?|primates?)\b"),
        (StudyDesign.REVIEW, r"\breview\b|\boverview\b"),
    )
)
# CSL item types that say the design by themselves.
TYPE_RULES: dict[str, str] = {
    "legislation": StudyDesign.REGULATORY,
    "regulation": StudyDesign.REGULATORY,
    "bill": StudyDesign.REGULATORY,
    "review": StudyDesign.REVIEW,
}


@dataclass(frozen=True)
class Suggestion:
    design: str
    because: str  # e.g. 'the title says "Randomized"'

    @property
    def label(self) -> str:
        return StudyDesign(self.design).label

    def __str__(self) -> str:
        return f"{self.label} ({self.because})"


def suggest(title: str, work_type: str = "") -> Suggestion | None:
    """A design for a study of this title and CSL type, or None when neither says."""
    for design, pattern in TITLE_RULES:
        found = pattern.search(title or "")
        if found:
            return Suggestion(design, f"the title says “{found.group(0)}”")
    if work_type in TYPE_RULES:
        return Suggestion(TYPE_RULES[work_type], f"its publication type is {work_type}")
    return None
