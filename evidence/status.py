"""What readers are told about a claim's evidence: its published verdict, as a colour, a symbol and a
label together (colour is never the only signal). One definition for the article page, the lists, the
claim page, the map and the API."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EvidenceStatus:
    key: str  # also the CSS modifier: .status-supported
    label: str
    symbol: str
    description: str


UNREVIEWED = EvidenceStatus("unreviewed", "Not yet reviewed", "?", "No verdict has been published for this claim yet.")

STATUSES: dict[str, EvidenceStatus] = {
    "supported": EvidenceStatus("supported", "Supported", "✓", "The studies cited support the claim as worded."),
    "partly_supported": EvidenceStatus(
        "partly_supported", "Partly supported", "◐", "The evidence supports part of the claim, or a weaker version."
    ),
    "unsupported": EvidenceStatus("unsupported", "Unsupported", "✗", "No adequate evidence supports the claim."),
    "contradicted": EvidenceStatus("contradicted", "Contradicted", "⊘", "The better evidence points the other way."),
    "unreviewed": UNREVIEWED,
}

# Legend order: strongest support first.
LEGEND = [STATUSES[key] for key in ("supported", "partly_supported", "unsupported", "contradicted", "unreviewed")]


def status_for(verdict: str | None) -> EvidenceStatus:
    """The status of a published verdict ("" or None: not yet reviewed)."""
    return STATUSES.get(verdict or "", UNREVIEWED)
