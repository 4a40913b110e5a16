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
from collections.abc import Callable, Iterable, Iterator
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


def copy_value(field: models.Field, value: Any) -> str:
    """A Python value as COPY's text format writes it for ``field``'s column."""
    if value is None:
        return _NULL
    if isinstance(field, models.JSONField):
        return copy_text(json.dumps(value, ensure_ascii=False, cls=field.encoder))
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return copy_text(str(value))


def _formatter(field: models.Field) -> Callable[[Any], str]:
    """copy_value(field, …), with the type tests done once for the column where its type says enough."""
    if isinstance(field, models.CharField | models.TextField):

        def text(value: Any) -> str:
            return copy_text(value) if type(value) is str else copy_value(field, value)

        return text
    return functools.partial(copy_value, field)


def allocate_ids(model: type[models.Model], n: int) -> list[int]:
    """``n`` primary keys from the table's sequence, in ascending order: nextval() hands out values nobody
    else can take, even with other writers on the table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) AS id FROM generate_series(1, %s) ORDER BY id",
            [model._meta.db_table, model._meta.pk.column, n],
        )
        return [row[0] for row in cursor.fetchall()]


class Lines:
    """A read-only file over the COPY lines of ``rows``, formatted as psycopg2 reads them: the server
    writes the first rows while later ones are still being formatted."""

    def __init__(self, fields: list[models.Field], rows: Iterable[Iterable[Any]]):
        self.formatters = [_formatter(field) for field in fields]
        self.rows: Iterator[Iterable[Any]] = iter(rows)

    def read(self, size: int = -1) -> str:
        lines: list[str] = []
        length = 0
        formatters = self.formatters
        for values in self.rows:
            line = "\t".join([f(value) for f, value in zip(formatters, values, strict=True)]) + "\n"
            lines.append(line)
            length += len(line)
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
