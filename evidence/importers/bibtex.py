"""BibTeX (Zotero, JabRef, Better BibTeX, the seed studies.bib) into StudyRecords, with bibtexparser 2.x.

bibtexparser splits the file into blocks and its middlewares do the field work: ``@string`` references
(with ``#`` concatenation, which bibtexparser 2 leaves alone, resolved here), enclosing braces removed,
co-authors separated and each name split into first/von/last/jr. LaTeX is decoded per field: prose
fields (title, journal, names, note …) through pylatexenc, the decoder LatexDecodingMiddleware uses,
so ``{\\'e}`` becomes é and ``--`` an en dash; identifier-like fields (DOI, URL, the project's
``verifiedfrom``) only lose their escaping backslashes, because ``--`` or ``~`` in a URL is literal.

Speed: a 10,000-record file must import in about twice the time bibtexparser takes to split it (issue 8),
and both pylatexenc and bibtexparser's name splitting walk their input a character at a time in Python.
So the commonest cases take a shorter road to the same result: values with no macro but an escaped
special (nearly all) are decoded by regular expressions (latex_to_text), "Last, First" names without
braces are split by str methods (_last_comma_first, _split_persons), and resolving @strings also removes
the enclosing braces, in one pass. An import streams the files split_entries() reads (see below) and
takes the entries whose values all have the commonest forms from the file to records without building
bibtexparser's Entry and Field objects (_PlainEntry). tests/test_bibliography_import.py checks each
shortcut against the library it stands in for on generated input, and tests/test_import_streaming.py
the streamed parse against the whole one.

Besides the standard fields, the project's extras written by our exporter and by the seed studies.bib
are read back: ``studydesign``, ``samplesize``, ``population``, ``retracted``, ``retractionstatus``,
``retractiondate``, ``retractiondoi``, ``retractionnote``, ``verified``, ``verifiedfrom`` (`` | ``
separated, or a JSON list), ``authorlistcomplete``, ``unconfirmedleads`` (JSON), ``csltype`` (the CSL
type when the entry type cannot say it) and ``date``/``day`` for the full publication date.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterator
from datetime import date
from typing import Any, NamedTuple

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares import RemoveEnclosingMiddleware
from bibtexparser.middlewares.middleware import BlockMiddleware, LibraryMiddleware
from bibtexparser.middlewares.names import (
    InvalidNameError,
    NameParts,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import (
    Block,
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    Field,
    MiddlewareErrorBlock,
)
from pylatexenc import latexwalker
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from evidence.identifiers import IdentifierError, normalize_doi, normalize_pmid
from evidence.importers.records import (
    BibliographyError,
    EntryError,
    ParseResult,
    RecordStream,
    Rejection,
    StreamRestart,
    StudyRecord,
    design_value,
    retraction_value,
)

# BibTeX entry type → CSL type. Unknown types are kept as "article" (CSL's generic type), as
# citeproc-py reads @misc.
ENTRY_TYPES: dict[str, str] = {
    "article": "article-journal",
    "book": "book",
    "booklet": "pamphlet",
    "inbook": "chapter",
    "incollection": "chapter",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "manual": "report",
    "mastersthesis": "thesis",
    "phdthesis": "thesis",
    "thesis": "thesis",
    "proceedings": "book",
    "techreport": "report",
    "report": "report",
    "unpublished": "manuscript",
    "online": "webpage",
    "electronic": "webpage",
    "www": "webpage",
    "misc": "article",
}

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}

# Fields whose value is an identifier or a list of sources: no LaTeX decoding beyond escapes.
VERBATIM_FIELDS = {"doi", "url", "pmid", "isbn", "eprint", "verifiedfrom", "unconfirmedleads", "file", "date"}
NAME_FIELDS = ("author",)
_ESCAPED = re.compile(r"\\([\\{}%&#_$~^])")
_ENTRY_START = re.compile(r"@\s*[A-Za-z]+\s*[{(]")

logger = logging.getLogger(__name__)


def _decoder() -> LatexNodes2Text:
    """pylatexenc configured as bibtexparser's LatexDecodingMiddleware configures it."""
    context = get_default_latex_context_db()
    context.add_context_category("evidence-bibtex", prepend=True, macros=[MacroTextSpec("url", simplify_repl="%s")])
    return LatexNodes2Text(latex_context=context, keep_braced_groups=False, math_mode="verbatim")


_DECODER = _decoder()
# LatexNodes2Text.latex_to_text() builds a new LatexWalker, and with it pylatexenc's whole default macro
# database, for every value: a third of the decoding time. The walker only reads its context, so one will do.
_WALKER_CONTEXT = latexwalker.get_default_latex_context_db()

# The escaped specials the fast path reads; once they are taken out, any backslash left is another macro
# (or a trailing one), any % a comment and any $ math, which only pylatexenc reads.
_ESCAPED_SPECIAL = re.compile(r"\\[%&#_$]")
# What pylatexenc does to everything else, where nearly every field is: escaped specials become the
# character, braces go (keep_braced_groups=False), and the "specials" of its default context become
# their text. One left-to-right, longest-first scan, as its tokenizer's; tests/test_bibliography_import.py
# compares the two on generated text (test_fast_latex_decoding_is_pylatexenc).
# (Every alternative starts with a literal character, which lets the regular expression engine skip
# plain text quickly; a character class among them would make it try each alternative at every position.)
_FAST_TOKENS = re.compile(r"\\[%&#_$]|---|--|``|''|!`|\?`|~|&|\{|\}")
_FAST_TEXT = {
    "---": "\N{EM DASH}",
    "--": "\N{EN DASH}",
    "``": "\N{LEFT DOUBLE QUOTATION MARK}",
    "''": "\N{RIGHT DOUBLE QUOTATION MARK}",
    "!`": "\N{INVERTED EXCLAMATION MARK}",
    "?`": "\N{INVERTED QUESTION MARK}",
    "~": "\N{NO-BREAK SPACE}",
    "&": "   ",  # a tabular alignment: "a little space"
    "{": "",
    "}": "",
}


def _fast_token(match: re.Match[str]) -> str:
    token = match.group()
    return token[1] if token[0] == "\\" else _FAST_TEXT[token]


def _balanced_braces(value: str) -> bool:
    """Braces (not escaped ones: those values go to pylatexenc) that nest; pylatexenc's own recovery from
    an unbalanced one is its business."""
    if value.count("{") == 1 and value.count("}") == 1:
        return value.index("{") < value.index("}")  # a title protected by one pair of braces
    depth = 0
    for match in re.finditer(r"[{}]", value):
        depth += 1 if match.group() == "{" else -1
        if depth < 0:
            return False
    return depth == 0


def _plain(value: str) -> bool:
    """No macro but escaped specials, no comment, no math, and braces that nest: text the fast path reads.
    (The ``in`` tests scan at C speed; the regular expression only runs on values with one of the three.)"""
    if "\\" in value or "%" in value or "$" in value:
        rest = _ESCAPED_SPECIAL.sub("", value)
        if "\\" in rest or "%" in rest or "$" in rest:
            return False
    return ("{" not in value and "}" not in value) or _balanced_braces(value)


def latex_to_text(value: str) -> str:
    """pylatexenc's text for a LaTeX value, as LatexNodes2Text.latex_to_text() gives it, but without
    running its tokenizer (a few microseconds a character) over plain text with a few braces and dashes."""
    if _plain(value):
        return _FAST_TOKENS.sub(_fast_token, value)
    try:
        nodes = latexwalker.LatexWalker(value, latex_context=_WALKER_CONTEXT).get_latex_nodes()[0]
        return _DECODER.nodelist_to_text(nodes)
    except (AttributeError, TypeError, IndexError):
        # pylatexenc's tolerant mode still fails on a macro that takes arguments and has none ("\title")
        raise EntryError(f"cannot be read as LaTeX: {value[:60]!r}") from None


def decode_latex(value: str, *, paragraphs: bool = False) -> str:
    """LaTeX to Unicode text; whitespace collapsed (blank lines kept as paragraph breaks if asked)."""
    if len(value) <= _SHORT:
        return _decode_short(value, paragraphs)
    return _decode(value, paragraphs)


def _decode(value: str, paragraphs: bool) -> str:
    text = latex_to_text(value).replace("\xa0", " ")
    if paragraphs and "\n" in text:
        parts = [" ".join(p.split()) for p in re.split(r"\n[ \t]*\n", text)]
        return "\n\n".join(p for p in parts if p)
    return " ".join(text.split())


# Names, journals, publishers, years and flags recur from entry to entry; titles and abstracts do not.
_SHORT = 100
_decode_short = functools.lru_cache(maxsize=8192)(_decode)


def unescape_verbatim(value: str) -> str:
    r"""Drop the backslash of escaped specials (``\_`` → ``_``) and nothing else."""
    if "\\" in value:  # the regular expression only for the few values that have a backslash
        value = _ESCAPED.sub(r"\1", value)
    return " ".join(value.split()) if "\n" in value else value.strip()


# --- @string resolution with # concatenation -------------------------------------------------------------


_CONCATENATION_MARKS = re.compile(r'[{}"#]')


def _split_concatenation(raw: str) -> list[str] | None:
    """Split a raw field value on top-level ``#``; None if quotes or braces do not balance.

    Only the four characters that matter are visited (a regular expression finds them), not every
    character of every value: this runs over the whole file."""
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


def _unenclosed(value: str) -> str:
    """The value as bibtexparser's RemoveEnclosingMiddleware leaves it (which this module used to run as
    a pass of its own after ResolveStrings): stripped, and its enclosing braces or quotes removed if
    they enclose the whole value."""
    return RemoveEnclosingMiddleware._strip_enclosing(value)[0]


class ResolveStrings(LibraryMiddleware):
    """Resolve ``@string`` references, ``#`` concatenation and the month macros (jan … dec), and remove
    the enclosing braces or quotes.

    A resolved value is what RemoveEnclosingMiddleware would make of it enclosed in braces, which is
    how it was handed on when that middleware ran as a pass of its own; one pass instead of two. An
    undefined reference is left in place and listed under the entry's parser metadata key
    ``undefined_strings`` so the entry can be rejected with a reason.
    """

    def __init__(self) -> None:
        super().__init__(allow_inplace_modification=True)

    @classmethod
    def metadata_key(cls) -> str:
        return "evidence_resolve_strings"

    def _piece(self, piece: str, strings: dict[str, str], seen: frozenset[str]) -> str | None:
        if len(piece) >= 2 and piece[0] == "{" and piece[-1] == "}":
            return piece[1:-1]
        if len(piece) >= 2 and piece[0] == '"' and piece[-1] == '"':
            return piece[1:-1]
        if piece.isdigit():
            return piece
        key = piece.lower()
        if key in strings and key not in seen:
            return self._value(strings[key], strings, seen | {key})
        if key in MONTHS:
            return key
        return None

    def _value(self, raw: str, strings: dict[str, str], seen: frozenset[str] = frozenset()) -> str | None:
        pieces = _split_concatenation(raw)
        if pieces is None:
            return None
        values = [self._piece(piece, strings, seen) for piece in pieces]
        if any(v is None for v in values):
            return None
        return "".join(values)  # type: ignore[arg-type]

    def transform(self, library: Library) -> Library:
        strings = {key.lower(): block.value for key, block in library.strings_dict.items()}
        for entry in library.entries:
            self.resolve(entry, strings)
        return library

    def resolve(self, entry: Entry, strings: dict[str, str], fields: list[Field] | None = None) -> None:
        """One entry's values (or these ``fields`` of it), given the file's @strings by lower-case name."""
        undefined = []
        for field in entry.fields if fields is None else fields:
            if not isinstance(field.value, str):
                continue
            raw = field.value.strip()
            # Most values take a form _resolved() reads without the general path below, which copies the
            # value three times; a bare word the file defines as an @string is not a month.
            if raw and (raw[0] == "{" or raw.lower() not in strings):
                resolved = _resolved(raw)
                if resolved is not None:
                    field.value = resolved
                    continue
            value = self._value(field.value, strings)
            if value is None:
                undefined.append(field.key)
                field.value = _unenclosed(field.value)
                continue
            field.value = _unenclosed("{" + value + "}")
        if undefined:
            entry.parser_metadata["undefined_strings"] = undefined


class SplitNames(BlockMiddleware):
    """bibtexparser's SeparateCoAuthors and SplitNameParts in one pass, each distinct name split once.

    Authors recur across a library, and bibtexparser splits a name character by character; the parts
    of a name depend on nothing but its text. A name that cannot be split turns the entry into a
    MiddlewareErrorBlock, as SplitNameParts does.
    """

    def __init__(self) -> None:
        super().__init__(allow_inplace_modification=True, allow_parallel_execution=True)
        self._parts: dict[str, NameParts] = {}

    @classmethod
    def metadata_key(cls) -> str:
        return "evidence_split_names"

    def parts(self, name: str) -> NameParts:
        """The parts of one name."""
        parts = self._parts.get(name)
        if parts is None:
            parts = self._parts[name] = _last_comma_first(name) or parse_single_name_into_parts(name)
        return parts

    def transform_entry(self, entry: Entry, library: Library) -> Block:
        try:
            for field in entry.fields:
                if field.key in NAME_FIELDS:
                    enclosing = field.enclosing  # the value setter resets it, as in bibtexparser's own
                    field.value = [self.parts(name) for name in _split_persons(field.value)]
                    field.enclosing = enclosing
        except InvalidNameError as exc:
            return MiddlewareErrorBlock(entry, exc)
        return entry


_AND = re.compile(r"[ \r\n\t]+[aA][nN][dD][ \r\n\t]+")


def _split_persons(names: str) -> list[str]:
    """split_multiple_persons_names(): the names of a field, separated by "and" between whitespace
    outside braces. Without braces or escapes that is one regular expression, not a walk through every
    character of the field."""
    if "{" in names or "}" in names or "\\" in names:
        return split_multiple_persons_names(names)
    names = names.strip(" \r\n\t")
    return _AND.split(names) if names else []


_NAME_SPECIALS = re.compile(r"[\\{}~\r\n\t]")


def _word_case(word: str) -> int:
    """1 if the first letter of the word is upper case, 0 if lower case, -1 if it has no letter."""
    for char in word:
        if char.isalpha():
            return 1 if char.isupper() else 0
    return -1


def _last_comma_first(name: str) -> NameParts | None:
    """parse_single_name_into_parts() of the commonest form, "von Last, First", when the name holds no
    braces, escapes or whitespace other than spaces (None otherwise, for bibtexparser to split).

    The same steps, without walking the name a character at a time: words are separated by spaces;
    the words before the comma are the last name, except that those up to the last lower-case word
    before the final one are the von part; the words after it are the first name.
    """
    if name.count(",") != 1 or _NAME_SPECIALS.search(name):
        return None
    before, _, after = name.partition(",")
    last, first = _words(before), _words(after)
    if not last or not first:
        return None  # a trailing comma (an error) or no last name: bibtexparser's rules for those
    if len(last) == 1:
        return NameParts(first=first, last=last)
    cases = [_word_case(word) for word in last]
    lower = [index for index, case in enumerate(cases[:-1]) if case == 0]
    split = lower[-1] + 1 if lower else 0  # the von part ends with the last lower-case word but one
    return NameParts(first=first, von=last[:split], last=last[split:])


def _words(text: str) -> list[str]:
    """The words between spaces (and only spaces: bibtexparser keeps other white space in words)."""
    text = text.strip(" ")
    if "  " in text:
        return [word for word in text.split(" ") if word]
    return text.split(" ") if text else []


def _parse_stack() -> list:
    return [ResolveStrings(), SplitNames()]


# --- Splitting the file into entries --------------------------------------------------------------------------
#
# bibtexparser's Splitter walks the file one mark ({ } " , = newline @) at a time in Python: 2.5 s of the
# 3 s bibtexparser.parse_string() takes on a 10,000-entry file. split_entries() reads the commonest files
# (what Zotero, JabRef, Better BibTeX and our exporter write: @type{key, field = {value} or bare, …}) with
# regular expressions instead, into the same Entry and Field blocks, and gives up (None) on anything else,
# which then goes to Splitter as before: @string, @preamble and @comment blocks, (…)-delimited blocks,
# "quoted" or #-concatenated values, braces nested more than four deep, a backslash before a line break
# (Splitter does not count that line), an @ that starts a line inside an entry, or any syntax error, so
# that every message about a broken file is still Splitter's. tests/test_bibliography_import.py checks
# that the two agree, on real files and on generated ones.

# The same block start as Splitter's (bibtexparser.splitter._BLOCK_START).
_BLOCK_START = re.compile(r"@[\w]*( |\t)*(?=[{(])")
# Brace-balanced text, as Splitter counts braces: one after a backslash is not counted. Possessive
# quantifiers, so that an escaped brace can never be read as a plain backslash followed by a brace.
_PLAIN = r"(?:[^{}\\]++|\\[{}]|\\)"
_BALANCED = _PLAIN + "*+"
for _ in range(3):
    _BALANCED = rf"(?:{_PLAIN}|\{{{_BALANCED}\}})*+"
# Characters that never appear in a key or a bare value of the files split_entries() reads.
_WORD = r"[^\s{}\",=\\@#()%]++"
_FIELD = rf"\s*+({_WORD})[ \t]*+=\s*+(\{{{_BALANCED}\}}|{_WORD})\s*+"
# A whole entry after its @type: the key, then fields separated by commas, then the closing brace.
_ENTRY = re.compile(rf"\{{\s*+({_WORD})\s*+,(?:{_FIELD},)*+(?:{_FIELD})?\s*+\}}")
# One field and the comma or brace after it: within an entry _ENTRY matched, one after the other.
_ENTRY_FIELD = re.compile(rf"{_FIELD}[,}}]")
# An @ that starts a line inside an entry: Splitter reads it as the start of the next block.
_BLOCK_START_AT_LINE_START = re.compile(r"\n\s*@[\w]*[ \t]*[{(]")
_OTHER_BLOCKS = ("@comment", "@preamble", "@string")


class _Unsplittable(Exception):
    """The file holds something split_entries() does not read: bibtexparser's Splitter must."""


def split_entries(text: str) -> Library | None:
    """bibtexparser's Splitter(text).split() without its comments, for the files it can read exactly
    (see above); None for any other."""
    library = Library()
    try:
        for block in _blocks(text):
            library.add(block, fail_on_duplicate_key=False)
    except _Unsplittable:
        return None
    return library


class _PlainEntry(NamedTuple):
    """An entry _blocks() read to the end: every value resolved, the field names lower case and distinct.
    What entry_record() reads of an Entry, without bibtexparser's Entry and Field objects."""

    entry_type: str
    key: str
    start_line: int
    values: dict[str, Any]


def _blocks(text: str, *, resolve: bool = False) -> Iterator[Block | _PlainEntry]:
    """The blocks of split_entries(), one at a time (before Library.add() replaces those whose key an
    earlier entry has); _Unsplittable as soon as something else shows.

    With ``resolve``, an entry whose values all take a form _resolved() reads (nearly all) comes as a
    _PlainEntry, its values as ResolveStrings makes them. Any other comes as an Entry with the values
    _resolved() read so given, and its other fields listed in its parser metadata under "unresolved",
    for ResolveStrings.resolve()."""
    if "\\\n" in text:
        raise _Unsplittable
    position = 0
    line = 0  # newlines before ``position``
    count = text.count
    while (start := _BLOCK_START.search(text, position)) is not None:
        block_type = start.group().lower()
        entry = _ENTRY.match(text, start.end())
        if entry is None or block_type.startswith(_OTHER_BLOCKS):
            raise _Unsplittable
        line += count("\n", position, start.start())
        end = entry.end()
        if _BLOCK_START_AT_LINE_START.search(text, start.start(), end):
            raise _Unsplittable
        plain = _plain_entry(text, block_type, entry, line) if resolve else None
        yield plain or _entry_block(text, block_type, start.start(), entry, line, resolve)
        line += count("\n", start.start(), end)
        position = end


def _plain_entry(text: str, block_type: str, entry: re.Match[str], line: int) -> _PlainEntry | None:
    """The entry _ENTRY matched as a _PlainEntry; None if a value takes another form than those
    _resolved() reads, or a field name is repeated or not lower case (entry_record() and SplitNames read
    such an entry differently, or reject it)."""
    values: dict[str, Any] = {}
    for key, value in _ENTRY_FIELD.findall(text, entry.end(1), entry.end()):
        if key in values or not key.islower() or (resolved := _resolved(value)) is None:
            return None
        values[key] = resolved
    return _PlainEntry(block_type[1:].strip(), entry.group(1), line, values)


def _entry_block(text: str, block_type: str, start: int, entry: re.Match[str], line: int, resolve: bool) -> Block:
    """The Entry (or DuplicateFieldKeyBlock) Splitter makes of the entry _ENTRY matched at ``start``;
    with ``resolve``, the values _resolved() reads are given resolved (see _blocks())."""
    count = text.count
    fields = []
    unresolved = []
    field_line, scanned = line, start
    for found in _ENTRY_FIELD.finditer(text, entry.end(1), entry.end()):
        key_end = found.end(1)  # the = is on the key's line (_FIELD allows no line break between)
        field_line += count("\n", scanned, key_end)
        scanned = key_end
        key, value = found.group(1, 2)
        if resolve:
            resolved = _resolved(value)
            if resolved is None:
                unresolved.append(len(fields))
            else:
                value = resolved
        fields.append(Field(key, value, field_line))
    keys = [field.key for field in fields]
    block = Entry(block_type[1:].strip(), entry.group(1), fields, line, text[start : entry.end()])
    if resolve:
        block.parser_metadata["unresolved"] = [fields[index] for index in unresolved]
    if len(set(keys)) < len(keys):
        return DuplicateFieldKeyBlock({key for key in keys if keys.count(key) > 1}, block)
    return block


def _resolved(value: str) -> str | None:
    """What ResolveStrings.resolve()'s general path makes of a value (a bare word being no @string of the
    file), for the three forms nearly every value takes: one braced group with no braces inside
    (``{text}`` → ``text``), a title protected by double braces (``{{text}}`` → ``{text}``:
    decode_latex() then drops the inner braces, a verbatim field such as url keeps them) and a bare
    number or month (``2020``, ``jan``); None for any other, which the general path reads."""
    if value[0] == "{":
        if value[-1] != "}":
            return None
        inner = value[1:-1]
        if "{" not in inner and "}" not in inner:
            return inner if not inner.endswith("\\") else None
        if inner[0] == "{" and inner[-1] == "}":
            core = inner[1:-1]
            if "{" not in core and "}" not in core and not core.endswith("\\"):
                return inner
        return None
    if value.isdigit():
        return value
    key = value.lower()
    return key if key in MONTHS else None


# --- The file -----------------------------------------------------------------------------------------------

# A block split_entries() leaves to Splitter, anywhere in the file (JabRef ends its files with @comment)
_OTHER_BLOCK_ANYWHERE = re.compile(r"@(?:comment|preamble|string)", re.IGNORECASE)


def parse(text: str) -> ParseResult:
    """Every entry of a BibTeX file as a StudyRecord or a Rejection; BibliographyError for the file."""
    return parse_stream(text).read_whole()


def parse_stream(text: str, chunk_size: int | None = None) -> RecordStream:
    """parse(), ``chunk_size`` entries at a time, so that an import can write the first records while
    later ones are still being read (evidence.services.bibliography_import).

    Only a file split_entries() reads is read this way, the blocks split as the chunks are asked for; if
    it turns out to hold something split_entries() does not read after all (a quoted value, a syntax
    error), reading the next chunk raises StreamRestart, for the import to read the file whole instead.
    Without ``chunk_size``, or for a file with @string, @preamble or @comment blocks, the file is split
    whole first, so that every message about its syntax comes before any record; Splitter's files come
    as one chunk."""
    if not _ENTRY_START.search(text):
        raise BibliographyError("no BibTeX entries found (expected lines such as @article{key, …})")
    if chunk_size and "\\\n" not in text and not _OTHER_BLOCK_ANYWHERE.search(text):
        blocks = _blocks(text, resolve=True)
        return _entry_stream(blocks, len(_BLOCK_START.findall(text)), chunk_size, per_entry=True)
    library = split_entries(text)
    per_entry = library is not None  # the middlewares' work is left to be done entry by entry
    if library is None:
        # bibtexparser logs each block it cannot parse; the report says the same thing with a reason.
        bibtex_logger = logging.getLogger("bibtexparser")
        previous = bibtex_logger.level
        bibtex_logger.setLevel(logging.CRITICAL)
        try:
            library = bibtexparser.parse_string(text, parse_stack=_parse_stack())
        finally:
            bibtex_logger.setLevel(previous)
        chunk_size = None  # the middlewares have done the per-entry work already: one chunk
    # every message about the file's syntax before any record
    failed = [(block.start_line or 0, _SPLITTING, _failed_block(block)) for block in library.failed_blocks]
    entries = library.entries
    return _entry_stream(iter(entries), len(entries), chunk_size or len(entries) or 1, per_entry, failed)


# Where a failed block was found: while splitting the file (a syntax error, a repeated key or field), or
# while splitting the names of an entry.
_SPLITTING, _NAMES = 0, 1


def _entry_stream(
    blocks: Iterator[Block],
    size: int,
    chunk_size: int,
    per_entry: bool,
    failed: list[tuple[int, int, Rejection]] | None = None,
) -> RecordStream:
    """The records of these blocks, ``chunk_size`` at a time. ``per_entry``: resolve the values and split
    the names here (split_entries() leaves that to the middlewares). Rejections in the order parse() has
    always listed them: the blocks that failed (a repeated key or field, a name that cannot be split) by
    line, and on one line those splitting found before those whose names could not be split, as when
    the file is split whole first; then the entries entry_record() refuses."""
    stream = RecordStream(chunks=iter(()), size=size)
    failed = failed if failed is not None else []
    refused: list[Rejection] = []
    keys: dict[str, int] = {}  # the line of the entry that has each key

    def chunks() -> Iterator[list[StudyRecord]]:
        resolve, split = ResolveStrings(), SplitNames()
        records: list[StudyRecord] = []
        read = 0
        try:
            for block in blocks:
                plain = type(block) is _PlainEntry
                if not (plain or isinstance(block, Entry)):
                    failed.append((block.start_line or 0, _SPLITTING, _failed_block(block)))
                    continue
                if per_entry:
                    if block.key in keys:  # as Library.add(…, fail_on_duplicate_key=False) does
                        line = block.start_line or 0
                        failed.append((line, _SPLITTING, _duplicate_key(block.key, line, keys[block.key])))
                        continue
                    keys[block.key] = block.start_line or 0
                read += 1
                source = f"line {(block.start_line or 0) + 1} (key {block.key})"
                if plain:
                    try:
                        records.append(_plain_record(block, split, source))
                    except InvalidNameError as exc:  # as SplitNames makes it a MiddlewareErrorBlock
                        failed.append((block.start_line, _NAMES, Rejection(source, f"cannot be read: {exc}")))
                    except EntryError as exc:
                        refused.append(Rejection(source, str(exc)))
                else:
                    if per_entry:
                        # split_entries() reads no file with @string blocks; _blocks() may have resolved most values
                        resolve.resolve(block, {}, block.parser_metadata.pop("unresolved", None))
                        named = split.transform_entry(block, None)
                        if named is not block:
                            failed.append((named.start_line or 0, _NAMES, _failed_block(named)))
                            continue
                    try:
                        records.append(entry_record(block, source))
                    except EntryError as exc:
                        refused.append(Rejection(source, str(exc)))
                if len(records) >= chunk_size:
                    yield records
                    records = []
        except _Unsplittable:
            raise StreamRestart("the file holds blocks only bibtexparser's Splitter reads") from None
        yield records
        failed.sort(key=lambda failure: failure[:2])  # stable: file order within a line and stage
        stream.rejected[:] = [rejection for _, _, rejection in failed] + refused
        if not read and not stream.rejected:
            raise BibliographyError("no BibTeX entries found (only comments, @string or @preamble blocks)")

    stream.chunks = chunks()
    return stream


def _failed_block(block: Block) -> Rejection:
    """Why a block bibtexparser (or split_entries(), or a middleware) could not read is rejected."""
    line = (block.start_line or 0) + 1
    if isinstance(block, DuplicateBlockKeyBlock):
        return _duplicate_key(block.key, line - 1, block.previous_block.start_line or 0)
    if isinstance(block, MiddlewareErrorBlock):
        key = getattr(block.ignore_error_block, "key", "?")
        return Rejection(f"line {line} (key {key})", f"cannot be read: {block.error}")
    if isinstance(block, DuplicateFieldKeyBlock):
        key = getattr(block.ignore_error_block, "key", "?")
        fields = ", ".join(sorted(block.duplicate_keys))
        return Rejection(f"line {line} (key {key})", f"the field(s) {fields} are given twice")
    # any other ParsingFailedBlock: bibtexparser's BlockAbortedException keeps its message in abort_reason, not in str()
    error = getattr(block.error, "abort_reason", "") or getattr(block.error, "message", "") or str(block.error)
    error = error or "syntax error"
    if "end of file" in error.lower():
        raise BibliographyError(
            f"the file ends inside the entry that starts at line {line}: it looks truncated "
            "(an unbalanced brace or quote, or a cut-off download)"
        )
    return Rejection(f"line {line}", f"cannot be parsed (an unbalanced brace or quote?): {_first_line(error)}")


def _duplicate_key(key: str, line: int, previous_line: int) -> Rejection:
    """An entry at ``line`` (counted from 0) whose key the entry at ``previous_line`` has."""
    return Rejection(
        f"line {line + 1} (key {key})", f"duplicate key {key!r}: the entry at line {previous_line + 1} already uses it"
    )


def _first_line(message: str) -> str:
    return " ".join(message.split())[:300]


# --- One entry ------------------------------------------------------------------------------------------------


def _names(parts_list: list[Any]) -> list[dict[str, str]]:
    names = []
    for parts in parts_list:
        if not isinstance(parts, NameParts):
            raise EntryError(f"cannot read the author {parts!r}")
        if parts.last == ["others"] and not (parts.first or parts.von or parts.jr):
            continue  # "and others": the list is incomplete, which author_list_complete records
        # {U.S. Food and Drug Administration}: one braced token and nothing else is an institution
        if len(parts.last) == 1 and not (parts.first or parts.von or parts.jr):
            token = parts.last[0]
            if token.startswith("{") and token.endswith("}") and _balanced(token[1:-1]):
                names.append({"literal": decode_latex(token[1:-1])})
                continue
        family = decode_latex(" ".join([*parts.von, *parts.last]))
        given = decode_latex(" ".join(parts.first)) if parts.first else ""
        suffix = decode_latex(" ".join(parts.jr)) if parts.jr else ""
        if not family:
            raise EntryError(f"an author has no family name ({given!r})")
        name = {"family": family}
        if given:
            name["given"] = given
        if suffix:
            name["suffix"] = suffix
        names.append(name)
    return names


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _bool(value: str, name: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in {"true", "yes", "1"}:
        return True
    if lowered in {"false", "no", "0"}:
        return False
    if lowered in {"", "null"}:
        return None
    raise EntryError(f"{name} = {value!r} is not true or false")


def _month(value: str) -> int:
    raw = value.strip().lower().rstrip(".")
    if raw.isdigit() and 1 <= int(raw) <= 12:
        return int(raw)
    if raw in MONTHS:
        return MONTHS[raw]
    raise EntryError(f"month = {value!r} is not a month")


def _date(value: str) -> tuple[int, int | None, int | None]:
    """A biblatex date (YYYY, YYYY-MM or YYYY-MM-DD)."""
    match = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", value.strip())
    if not match:
        raise EntryError(f"date = {value!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(g) if g else None for g in match.groups())
    if month is not None and not 1 <= month <= 12:
        raise EntryError(f"date = {value!r} has no month {month}")
    if day is not None and not 1 <= day <= 31:
        raise EntryError(f"date = {value!r} has no day {day}")
    return year, month, day  # type: ignore[return-value]


def _year(value: str) -> int:
    match = re.fullmatch(r"\s*(\d{4})\s*", value)
    if not match or not 1000 <= int(match.group(1)) <= 2999:
        raise EntryError(f"year = {value!r} is not a year")
    return int(match.group(1))


def normalize_pages(value: str) -> str:
    """351--354, 351–354 and 351 - 354 are all stored as 351-354."""
    return re.sub(r"\s*(?:-+|–|—)\s*", "-", value.strip())


def _verified_from(value: str) -> list[str]:
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        try:
            sources = json.loads(value)
        except json.JSONDecodeError:
            sources = None
        if isinstance(sources, list) and all(isinstance(s, str) for s in sources):
            return sources
    return [part.strip() for part in value.split(" | ") if part.strip()] if value else []


def entry_record(entry: Entry, source: str) -> StudyRecord:
    """The record of an entry the middlewares have read (its values resolved, its names split)."""
    undefined = entry.parser_metadata.get("undefined_strings")
    if undefined:
        raise EntryError(f"undefined @string (or unbalanced value) in {', '.join(undefined)}")
    raw: dict[str, Any] = {}
    for field in entry.fields:
        key = field.key.lower()
        if key in raw:
            raise EntryError(f"the field {key!r} is given twice")
        raw[key] = field.value
    return _record(entry.entry_type, entry.key, raw, source)


def _plain_record(entry: _PlainEntry, split: SplitNames, source: str) -> StudyRecord:
    """entry_record() of a _PlainEntry, its names split as SplitNames splits them (InvalidNameError if
    one cannot be)."""
    values = entry.values
    for key in NAME_FIELDS:
        if key in values:
            values[key] = [split.parts(name) for name in _split_persons(values[key])]
    return _record(entry.entry_type, entry.key, values, source)


def _record(entry_type: str, citation_key: str, raw: dict[str, Any], source: str) -> StudyRecord:
    """A StudyRecord from an entry's values by lower-case field name (the names already split)."""

    def text(key: str, *, paragraphs: bool = False) -> str | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise EntryError(f"{key} cannot be read")
        if key in VERBATIM_FIELDS:
            return unescape_verbatim(value)
        return decode_latex(value, paragraphs=paragraphs)

    entry_type = entry_type.lower()
    record = StudyRecord(source=source, citation_key=citation_key)
    csl_type = text("csltype")
    record.work_type = csl_type or ENTRY_TYPES.get(entry_type, "article")
    record.title = text("title") or ""
    if "author" in raw:
        record.authors = _names(raw["author"])
    container = text("journal") or text("journaltitle") or text("booktitle")
    howpublished = text("howpublished")
    if howpublished and re.match(r"https?://", howpublished):
        record.url = howpublished
    elif howpublished and container is None:
        container = howpublished
    record.container_title = container
    record.publisher = text("publisher") or text("institution") or text("school") or text("organization")

    if raw.get("date"):
        record.year, record.month, record.day = _date(text("date") or "")
    else:
        if raw.get("year"):
            record.year = _year(text("year") or "")
        if raw.get("month"):
            record.month = _month(text("month") or "")
        if raw.get("day"):
            day = (text("day") or "").strip()
            if not (day.isdigit() and 1 <= int(day) <= 31):
                raise EntryError(f"day = {day!r} is not a day of the month")
            record.day = int(day)
    record.volume = text("volume")
    record.issue = text("number") if "number" in raw else text("issue")
    pages = text("pages")
    record.pages = normalize_pages(pages) if pages is not None else None
    url = text("url")
    if url is not None:
        record.url = url
    record.isbn = text("isbn")
    record.abstract = text("abstract", paragraphs=True)
    record.note = text("note", paragraphs=True)
    try:
        doi = text("doi")
        record.doi = normalize_doi(doi) if doi is not None else None
        pmid = text("pmid")
        if pmid is None and (text("eprinttype") or "").lower() == "pubmed":
            pmid = text("eprint")
        if pmid is None and record.note:
            # Zotero keeps the PMID in its Extra field, which its BibTeX export writes to note; the
            # line is an identifier, not a note
            found = re.search(r"^PMID:\s*(\d+)\s*$", record.note, re.M)
            if found:
                pmid = found.group(1)
                record.note = (record.note[: found.start()] + record.note[found.end() :]).strip() or None
        record.pmid = normalize_pmid(pmid) if pmid is not None else None
    except IdentifierError as exc:
        raise EntryError(str(exc)) from None
    if not (record.title or record.doi or record.pmid):
        raise EntryError("the entry has no title, DOI or PMID to identify it")

    _extras(record, text)
    return record


def _extras(record: StudyRecord, text: Any) -> None:
    """The project's own fields, as the exporter and the seed studies.bib write them."""
    design = text("studydesign")
    if design is not None:
        value = design_value(design)
        if value is None:
            raise EntryError(f"unknown study design {design!r}")
        record.design = value or None
    size = text("samplesize")
    if size is not None and size.strip().lower() not in {"", "null"}:
        if not size.strip().isdigit():
            raise EntryError(f"samplesize = {size!r} is not a whole number")
        record.sample_size = int(size)
    record.population = text("population", paragraphs=True)
    retracted = text("retracted")
    if retracted is not None:
        flag = _bool(retracted, "retracted")
        if flag is not None:
            record.retraction_status = "retracted" if flag else "none"
    status = text("retractionstatus")
    if status is not None:
        value = retraction_value(status)
        if value is None:
            raise EntryError(f"unknown retraction status {status!r}")
        record.retraction_status = value
    notice_date = text("retractiondate")
    if notice_date:
        try:
            record.retraction_date = date.fromisoformat(notice_date.strip())
        except ValueError:
            raise EntryError(f"retractiondate = {notice_date!r} is not a date (YYYY-MM-DD)") from None
    notice_doi = text("retractiondoi")
    if notice_doi is not None:
        try:
            record.retraction_doi = normalize_doi(unescape_verbatim(notice_doi))
        except IdentifierError as exc:
            raise EntryError(f"retractiondoi: {exc}") from None
    record.retraction_note = text("retractionnote", paragraphs=True)
    for key, attr in (("verified", "verified"), ("authorlistcomplete", "author_list_complete")):
        value = text(key)
        if value is not None:
            setattr(record, attr, _bool(value, key))
    sources = text("verifiedfrom")
    if sources is not None:
        record.verified_from = _verified_from(sources)
    leads = text("unconfirmedleads")
    if leads is not None and leads.strip():
        try:
            parsed = json.loads(leads)
        except json.JSONDecodeError as exc:
            raise EntryError(f"unconfirmedleads is not JSON: {exc.msg}") from None
        if not isinstance(parsed, dict):
            raise EntryError("unconfirmedleads must be a JSON object")
        record.unconfirmed_leads = parsed
