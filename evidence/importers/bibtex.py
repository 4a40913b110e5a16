"""BibTeX (Zotero, JabRef, Better BibTeX, the seed studies.bib) into StudyRecords, with bibtexparser 2.x.

bibtexparser splits the file into blocks and its middlewares do the field work: ``@string`` references
(with ``#`` concatenation, which bibtexparser 2 leaves alone, resolved here), enclosing braces removed,
co-authors separated and each name split into first/von/last/jr. Each entry's values then become a
StudyRecord (evidence.importers.bibtex_entry, where LaTeX is decoded and the project's own fields read).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares import (
    RemoveEnclosingMiddleware,
    SeparateCoAuthors,
    SplitNameParts,
)
from bibtexparser.middlewares.middleware import LibraryMiddleware
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    MiddlewareErrorBlock,
    ParsingFailedBlock,
    String,
)

from evidence.importers.bibtex_entry import MONTHS, NAME_FIELDS, entry_record
from evidence.importers.records import BibliographyError, EntryError, ParseResult, Rejection, StudyRecord

_ENTRY_START = re.compile(r"@\s*[A-Za-z]+\s*[{(]")


# --- @string resolution with # concatenation -------------------------------------------------------------


# What decides where a value splits: braces, quotes and #; every other character is text.
_CONCATENATION_MARKS = re.compile(r'[{}"#]')


def _split_concatenation(raw: str) -> list[str] | None:
    """Split a raw field value on top-level ``#``; None if quotes or braces do not balance."""
    pieces, depth, quoted, start = [], 0, False, 0
    for match in _CONCATENATION_MARKS.finditer(raw):
        char = match.group()
        if char == "{" and not quoted:
            depth += 1
        elif char == "}" and not quoted:
            depth -= 1
            if depth < 0:
                return None
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif char == "#" and depth == 0 and not quoted:
            pieces.append(raw[start : match.start()].strip())
            start = match.end()
    if depth or quoted:
        return None
    pieces.append(raw[start:].strip())
    return pieces


class ResolveStrings(LibraryMiddleware):
    """Resolve ``@string`` references, ``#`` concatenation and the month macros (jan … dec).

    Runs before RemoveEnclosingMiddleware, on values still enclosed in braces or quotes; a resolved
    value is re-enclosed in braces. An undefined reference is left in place and listed under the
    entry's parser metadata key ``undefined_strings`` so the entry can be rejected with a reason.

    One ResolveStrings reads all the pieces of a file (parse()): an @string applies to the entries after
    it, in its piece and the later ones, as BibTeX reads a file; the first definition of a name stands.
    """

    def __init__(self) -> None:
        super().__init__(allow_inplace_modification=True)
        self.known: dict[str, str] = {}  # the @strings defined so far, by lower-case name, still enclosed

    @classmethod
    def metadata_key(cls) -> str:
        return "evidence_resolve_strings"

    def _piece(self, piece: str, seen: frozenset[str]) -> str | None:
        if len(piece) >= 2 and piece[0] == "{" and piece[-1] == "}":
            return piece[1:-1]
        if len(piece) >= 2 and piece[0] == '"' and piece[-1] == '"':
            return piece[1:-1]
        if piece.isdigit():
            return piece
        key = piece.lower()
        if key in self.known and key not in seen:
            return self._value(self.known[key], seen | {key})
        if key in MONTHS:
            return key
        return None

    def _value(self, raw: str, seen: frozenset[str] = frozenset()) -> str | None:
        pieces = _split_concatenation(raw)
        if pieces is None:
            return None
        values = [self._piece(piece, seen) for piece in pieces]
        if any(v is None for v in values):
            return None
        return "".join(values)  # type: ignore[arg-type]

    def transform(self, library: Library) -> Library:
        # (line, name, value) of this piece's @strings, in file order: each becomes known before the entries
        # after it are resolved
        defined = sorted(
            ((block.start_line or 0), key.lower(), block.value) for key, block in library.strings_dict.items()
        )
        pending = iter(defined)
        upcoming = next(pending, None)
        for entry in library.entries:
            while upcoming is not None and upcoming[0] < (entry.start_line or 0):
                self.known.setdefault(upcoming[1], upcoming[2])
                upcoming = next(pending, None)
            undefined = []
            for field in entry.fields:
                if not isinstance(field.value, str):
                    continue
                value = self._value(field.value)
                if value is None:
                    undefined.append(field.key)
                    continue
                field.value = "{" + value + "}"
            if undefined:
                entry.parser_metadata["undefined_strings"] = undefined
        for _, name, value in defined:
            self.known.setdefault(name, value)
        return library


def _parse_stack(strings: ResolveStrings) -> list:
    return [
        strings,
        RemoveEnclosingMiddleware(allow_inplace_modification=True),
        SeparateCoAuthors(allow_inplace_modification=True, name_fields=NAME_FIELDS),
        SplitNameParts(allow_inplace_modification=True, name_fields=NAME_FIELDS),
    ]


# --- The file -----------------------------------------------------------------------------------------------


# bibtexparser keeps every block of what it parses, with the block's raw text and each field, at many
# times the size of the text, and the records come on top: a 50 MB file parsed at once went far over the
# import's memory budget (docs/performance.md). So it is given the file a piece at a time, each about
# PIECE_CHARS characters long and cut before a line that starts a block ("@type{" after nothing but white
# space). bibtexparser's Splitter starts a
# block there too, even inside one that is not finished, so the pieces hold the blocks one parse of the
# whole file would find; each piece's entries become records before the next piece is parsed.
PIECE_CHARS = 1 << 20
_LINE_STARTS_BLOCK = re.compile(r"^[^\S\n]*@\w*[ \t]*(?=[{(])", re.M)


def parse(text: str, *, piece_chars: int = PIECE_CHARS) -> ParseResult:
    """Every entry of a BibTeX file as a StudyRecord or a Rejection; BibliographyError for the file.

    Rejections come in the order of the lines they name: the blocks bibtexparser could not read (a syntax
    error, a repeated key or field, a name it cannot split) and the entries whose values are refused.
    ``piece_chars``: about how much of the file bibtexparser is given at a time (PIECE_CHARS, above)."""
    if not _ENTRY_START.search(text):
        raise BibliographyError("no BibTeX entries found (expected lines such as @article{key, …})")
    reader = _Reader()
    stack = _parse_stack(reader.strings)
    # bibtexparser logs each block it cannot parse; the report says the same thing with a reason.
    bibtex_logger = logging.getLogger("bibtexparser")
    previous = bibtex_logger.level
    bibtex_logger.setLevel(logging.CRITICAL)
    try:
        for lines_before, library in _pieces(text, piece_chars, stack):
            reader.read(library, lines_before)
    finally:
        bibtex_logger.setLevel(previous)
    reader.rejected.sort(key=lambda pair: pair[0])  # stable: in file order on one line
    result = ParseResult(records=reader.records, rejected=[rejection for _, rejection in reader.rejected])
    if not result.records and not result.rejected:
        raise BibliographyError("no BibTeX entries found (only comments, @string or @preamble blocks)")
    return result


def _pieces(text: str, piece_chars: int, stack: list) -> Iterator[tuple[int, Library]]:
    """bibtexparser's parse of each piece of the file, with the number of lines before the piece."""
    start, lines_before = 0, 0
    while start < len(text):
        end = _piece_end(text, start + piece_chars)
        library = bibtexparser.parse_string(text[start:end], parse_stack=stack)
        while end < len(text) and any(_ends_early(block) for block in library.failed_blocks):
            # Its last block runs to the end of the piece: parsed again with the next piece, bibtexparser
            # sees where it ends, or that the next block starts first, as in one parse of the whole file.
            end = _piece_end(text, end + 1)
            library = bibtexparser.parse_string(text[start:end], parse_stack=stack)
        yield lines_before, library
        lines_before += text.count("\n", start, end)
        start = end


def _piece_end(text: str, position: int) -> int:
    """Where the line that starts the first block at or after ``position`` starts; the end if none does."""
    found = _LINE_STARTS_BLOCK.search(text, position)
    return found.start() if found is not None else len(text)


class _Reader:
    """The records and rejections of a file's pieces, in turn. bibtexparser reports a repeated key within
    a piece; _Reader reports a key an earlier piece used, in the same words."""

    def __init__(self) -> None:
        self.strings = ResolveStrings()
        self.records: list[StudyRecord] = []
        self.rejected: list[tuple[int, Rejection]] = []  # (line from 0, rejection)
        self.lines: dict[tuple[str, str], int] = {}  # ("entry" or "string", key) → the line that first used it

    def read(self, library: Library, lines_before: int) -> None:
        for block in library.blocks:
            line = (block.start_line or 0) + lines_before
            if isinstance(block, Entry | String):
                kind = "entry" if isinstance(block, Entry) else "string"
                if (kind, block.key) in self.lines:
                    self._reject(line, _duplicate_key(block.key, line, self.lines[(kind, block.key)]))
                    continue
                self.lines[(kind, block.key)] = line
                if isinstance(block, Entry):
                    self._entry(block, line)
            elif isinstance(block, MiddlewareErrorBlock) and isinstance(block.ignore_error_block, Entry):
                # an entry with a name bibtexparser cannot split: its key is taken all the same
                key = block.ignore_error_block.key
                if ("entry", key) in self.lines:
                    self._reject(line, _duplicate_key(key, line, self.lines[("entry", key)]))
                    continue
                self.lines[("entry", key)] = line
                self._reject(line, Rejection(f"line {line + 1} (key {key})", f"cannot be read: {block.error}"))
            elif isinstance(block, DuplicateBlockKeyBlock):
                kind = "entry" if isinstance(block.previous_block, Entry) else "string"
                first = self.lines.get((kind, block.key), (block.previous_block.start_line or 0) + lines_before)
                self._reject(line, _duplicate_key(block.key, line, first))
            elif isinstance(block, ParsingFailedBlock):
                self._reject(line, _failed_block(block, line))

    def _entry(self, entry: Entry, line: int) -> None:
        source = f"line {line + 1} (key {entry.key})"
        try:
            self.records.append(entry_record(entry, source))
        except EntryError as exc:
            self._reject(line, Rejection(source, str(exc)))

    def _reject(self, line: int, rejection: Rejection) -> None:
        self.rejected.append((line, rejection))


def _duplicate_key(key: str, line: int, first: int) -> Rejection:
    """The block at ``line`` uses the key of the one at ``first`` (lines counted from 0)."""
    return Rejection(
        f"line {line + 1} (key {key})", f"duplicate key {key!r}: the entry at line {first + 1} already uses it"
    )


def _ends_early(block: ParsingFailedBlock) -> bool:
    """The block runs to the end of what bibtexparser was given."""
    return "end of file" in _abort_reason(block).lower()


def _abort_reason(block: ParsingFailedBlock) -> str:
    # bibtexparser's BlockAbortedException keeps its message in abort_reason, not in str()
    error = block.error
    return getattr(error, "abort_reason", "") or getattr(error, "message", "") or str(error) or "syntax error"


def _failed_block(block: ParsingFailedBlock, line: int) -> Rejection:
    """Why a block bibtexparser could not split is rejected (``line``: where it starts, from 0);
    BibliographyError for a file that ends inside an entry."""
    if isinstance(block, DuplicateFieldKeyBlock):
        key = getattr(block.ignore_error_block, "key", "?")
        fields = ", ".join(sorted(block.duplicate_keys))
        return Rejection(f"line {line + 1} (key {key})", f"the field(s) {fields} are given twice")
    if _ends_early(block):
        raise BibliographyError(
            f"the file ends inside the entry that starts at line {line + 1}: it looks truncated "
            "(an unbalanced brace or quote, or a cut-off download)"
        )
    reason = _first_line(_abort_reason(block))
    return Rejection(f"line {line + 1}", f"cannot be parsed (an unbalanced brace or quote?): {reason}")


def _first_line(message: str) -> str:
    return " ".join(message.split())[:300]
