"""Which bibliography format a file is in, read from its content, and the checks every upload passes.

The checks come before any parser runs, so a file that is empty, binary, not UTF-8, too large or not a
bibliography at all is refused with one clear sentence and nothing is written. "Too large" is the
EVIDENCE_IMPORT_MAX_BYTES setting (evidence/settings.py): an import holds the whole file and its records in
memory at once.
"""

from __future__ import annotations

import re

from django.conf import settings

from evidence.importers import bibtex, csljson, ris
from evidence.importers.records import BibliographyError, ParseResult

FORMATS = ("bibtex", "ris", "csljson")
EXTENSIONS = {".bib": "bibtex", ".bibtex": "bibtex", ".ris": "ris", ".json": "csljson", ".csljson": "csljson"}
PARSERS = {"bibtex": bibtex.parse, "ris": ris.parse, "csljson": csljson.parse}

_RIS_START = re.compile(r"^TY {1,2}- ", re.M)
_BIBTEX_START = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.M)


def size_limit_error(size: int, max_bytes: int | None = None) -> str | None:
    """Why a file of ``size`` bytes is refused, or None if it is within the limit (``max_bytes``, by default
    the EVIDENCE_IMPORT_MAX_BYTES setting). The command, the upload form and decode() all say it so."""
    limit = settings.EVIDENCE_IMPORT_MAX_BYTES if max_bytes is None else max_bytes
    if size <= limit:
        return None
    return (
        f"the file is {_size(size)}, larger than the import limit of {_size(limit)} "
        "(EVIDENCE_IMPORT_MAX_BYTES); split it, or raise the limit where the memory allows"
    )


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def decode(data: bytes | str, *, max_bytes: int | None = None) -> str:
    """The file as text: UTF-8 (a byte-order mark is dropped); BibliographyError for anything else,
    including a file larger than ``max_bytes`` (by default the EVIDENCE_IMPORT_MAX_BYTES setting)."""
    if isinstance(data, str):
        if refused := size_limit_error(len(data.encode("utf-8", "surrogatepass")), max_bytes):
            raise BibliographyError(refused)
        text = data.removeprefix("\ufeff")
    else:
        if refused := size_limit_error(len(data), max_bytes):
            raise BibliographyError(refused)
        if b"\x00" in data[:8192]:
            raise BibliographyError("the file is binary (it holds NUL bytes), not a bibliography")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BibliographyError(
                f"the file is not UTF-8 text (byte {exc.start} cannot be read); export it as UTF-8"
            ) from None
    if "\x00" in text:
        raise BibliographyError("the file is binary (it holds NUL characters), not a bibliography")
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > 8:
        raise BibliographyError("the file is binary (it holds control characters), not a bibliography")
    if not text.strip():
        raise BibliographyError("the file is empty")
    return text


def detect(text: str, filename: str = "") -> str:
    """bibtex, ris or csljson, from the content; the file name's extension only breaks a tie."""
    stripped = text.lstrip()
    if stripped[:1] in "[{" and not _BIBTEX_START.match(stripped):
        return "csljson"
    has_ris = bool(_RIS_START.search(text[:100_000]))
    has_bibtex = bool(_BIBTEX_START.search(text[:100_000]))
    if has_ris and has_bibtex:
        for extension, name in EXTENSIONS.items():
            if filename.lower().endswith(extension) and name in ("ris", "bibtex"):
                return name
        # whichever starts first
        return "ris" if _RIS_START.search(text).start() < _BIBTEX_START.search(text).start() else "bibtex"
    if has_ris:
        return "ris"
    if has_bibtex:
        return "bibtex"
    raise BibliographyError(
        "this is not a bibliography: expected BibTeX (@article{…}), RIS (TY  - JOUR … ER  - ) or CSL-JSON ([{…}])"
    )


def parse_bibliography(
    data: bytes | str, *, filename: str = "", format: str | None = None, max_bytes: int | None = None
) -> ParseResult:
    """Decode, detect (unless ``format`` is given) and parse a file. Pure: no database access.

    BibliographyError for what is wrong with the file as a whole (decode(), detect(), a truncated or empty
    file, a value nested too deeply for the parsers); the entries that cannot be read are in ``rejected``."""
    if format is not None and format not in FORMATS:
        raise BibliographyError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    text = decode(data, max_bytes=max_bytes)
    name = format or detect(text, filename)
    try:
        result = PARSERS[name](text)
    except RecursionError:
        raise BibliographyError(f"the file cannot be read as {name}: it is nested too deeply") from None
    result.format = name
    return result
