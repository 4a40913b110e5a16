"""Writing many rows at once on PostgreSQL with COPY, for the synthetic library (evidence.synthetic) and
the bibliography import (evidence.services).

COPY checks CHECK and UNIQUE constraints and runs row triggers (Study's search vector) row by row, as
INSERT does; foreign keys are checked at commit, as Django declares them DEFERRABLE INITIALLY DEFERRED.
What it saves is the statement: no parameters to bind and no plan, so the server spends its time on the
rows, and the client only formats text. Primary keys are taken from the table's sequence beforehand
(``allocate_ids``), so the caller knows them without reading anything back.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from datetime import date, datetime
from typing import Any

from django.db import connection, models

# Characters handed to psycopg2 per read: big enough to keep per-call overhead low, small enough that the
# server inserts the first rows while the rest are still being formatted.
CHUNK_CHARS = 1 << 16


_SPECIAL = re.compile(r"[\\\t\n\r]")
_NULL = "\\N"


def copy_text(value: str) -> str:
    """A string in COPY's text format: backslash escapes for the characters that delimit fields and rows."""
    if _SPECIAL.search(value) is None:  # most values: one scan at C speed
        return value
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _raw_value(field: models.Field, value: Any) -> str:
    """A non-NULL value as COPY's text format writes it for ``field``'s column, before escaping."""
    if isinstance(field, models.JSONField):
        if not value and type(value) in (list, dict):
            return "[]" if type(value) is list else "{}"  # the commonest JSON values, without json.dumps()
        return json.dumps(value, ensure_ascii=False, cls=field.encoder)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def allocate_ids(model: type[models.Model], n: int, cursor: Any = None) -> list[int]:
    """``n`` primary keys from the table's sequence, in ascending order: nextval() hands out values nobody
    else can take, even with other writers on the table. ``cursor``: a DB-API cursor to use instead of
    Django's connection (from another thread)."""
    with nullcontext(cursor) if cursor is not None else connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) AS id FROM generate_series(1, %s) ORDER BY id",
            [model._meta.db_table, model._meta.pk.column, n],
        )
        return [row[0] for row in cursor.fetchall()]


# Stand-ins for the field separator (a tab) and NULL (\N) while a line is escaped as a whole: control
# characters that JSON always escapes and text hardly ever holds. A line whose values hold either is
# written value by value instead.
_SEPARATOR, _NULL_MARK = "\x1f", "\x1e"


class Lines:
    """A read-only file over the COPY lines of ``rows``, formatted as psycopg2 reads them: the server
    writes the first rows while later ones are still being formatted.

    A line is escaped at once, not value by value: the values are joined with stand-ins for the tab and
    for NULL, one search finds whether anything needs escaping, and the stand-ins are swapped back. For
    the import's 10,000 studies that is a third of the time, which the import's other thread needs."""

    def __init__(self, fields: list[models.Field], rows: Iterable[Iterable[Any]]):
        # text columns take a str as it is; everything else goes through _raw_value
        self.columns = [
            (isinstance(field, models.CharField | models.TextField), functools.partial(_raw_value, field))
            for field in fields
        ]
        self.rows: Iterator[Iterable[Any]] = iter(rows)

    def read(self, size: int = -1) -> str:
        lines: list[str] = []
        length = 0
        columns = self.columns
        separators = len(columns) - 1
        for values in self.rows:
            values = list(values)
            pieces = [
                _NULL_MARK if value is None else value if text and type(value) is str else raw(value)
                for (text, raw), value in zip(columns, values, strict=True)
            ]
            line = _SEPARATOR.join(pieces)
            if line.count(_SEPARATOR) != separators or line.count(_NULL_MARK) != values.count(None):
                # a value holds a stand-in: escape value by value
                line = "\t".join(
                    _NULL if value is None else copy_text(piece) for piece, value in zip(pieces, values, strict=True)
                )
            else:
                if _SPECIAL.search(line) is not None:
                    line = copy_text(line)
                line = line.replace(_SEPARATOR, "\t").replace(_NULL_MARK, _NULL)
            lines.append(line + "\n")
            length += len(line) + 1
            if length >= CHUNK_CHARS:
                break
        return "".join(lines)


def copy_statement(model: type[models.Model], fields: list[models.Field]) -> str:
    """The COPY … FROM STDIN statement for these columns of ``model``'s table."""
    quote = connection.ops.quote_name
    return f"COPY {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN"


def copy_rows(model: type[models.Model], fields: list[models.Field], rows: Iterable[Iterable[Any]]) -> None:
    """COPY ``rows`` (one value per field, in the order of ``fields``) into ``model``'s table."""
    # Django's cursor passes copy_expert() through without turning psycopg2's errors into its own
    # (IntegrityError for a duplicate DOI, …): the wrapper does that, as for execute().
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.copy_expert(copy_statement(model, fields), Lines(fields, rows), CHUNK_CHARS)
