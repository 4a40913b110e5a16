"""DOI and PMID normalisation, so one paper has one record whatever form its identifier was cited in.

idutils recognises the resolver prefixes (https://doi.org/, http://dx.doi.org/, doi:); DOIs are
case-insensitive by definition, so they are stored in lower case and compared that way.
"""

from __future__ import annotations

import re

import idutils


class IdentifierError(ValueError):
    """An identifier that is present but not valid."""


_PMID = re.compile(r"^[1-9][0-9]{0,9}$")
_PMID_PREFIX = re.compile(
    r"^(?:pmid:\s*|https?://(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov|ncbi\.nlm\.nih\.gov/pubmed)/)", re.I
)


def normalize_doi(value: str | None) -> str:
    """Return the DOI in lower case without resolver prefix, "" for an empty value.

    Raises IdentifierError for a value that is not a DOI, so a typo is rejected rather than stored.
    """
    value = (value or "").strip()
    if not value:
        return ""
    # idutils knows doi.org and dx.doi.org; people also paste www.doi.org links
    value = re.sub(r"^(https?://)www\.doi\.org/", r"\1doi.org/", value, flags=re.I)
    if not idutils.is_doi(value):
        raise IdentifierError(f"{value!r} is not a DOI (expected 10.<registrant>/<suffix>)")
    return idutils.normalize_doi(value).strip().lower()


def normalize_pmid(value: str | int | None) -> str:
    """Return the PubMed identifier as its digits, "" for an empty value."""
    value = str(value if value is not None else "").strip()
    if not value:
        return ""
    value = _PMID_PREFIX.sub("", value).strip().rstrip("/")
    if not _PMID.match(value):
        raise IdentifierError(f"{value!r} is not a PubMed identifier (expected digits, e.g. 10686270)")
    return value
