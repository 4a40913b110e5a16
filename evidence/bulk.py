"""Writing many rows at once on PostgreSQL with COPY, for the synthetic library (evidence.synthetic) and
the bibliography import (evidence.services).

COPY checks CHECK and UNIQUE constraints and runs row triggers (Study's search vector) row by row, as
INSERT does; foreign keys are checked at commit, as Django declares them DEFERRABLE INITIALLY DEFERRED.
What it saves is the statement: no parameters to bind and no plan, so the server spends its time on the
rows, and the client only formats text. Primary keys are taken from the table's sequence beforehand
(``allocate_ids``), so the caller knows them without reading anything back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from django.db import connection, models

# Bytes handed to the server per read: big enough to keep per-call overhead low, small enough that the
# server inserts the first rows while the rest are still being formatted.
CHUNK_CHARS = 1 << 16


def copy_text(value: str) -> str:
    """A string in COPY's text format: backslash escapes for the characters that delimit fields and rows."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_value(field: models.Field, value: Any) -> str:
    """A Python value as COPY's text format writes it for ``field``'s column."""
    if value is None:
        return "\\N"
    if isinstance(field, models.JSONField):
        return copy_text(json.dumps(value, ensure_ascii=False, cls=field.encoder))
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return copy_text(str(value))


def allocate_ids(model: type[models.Model], n: int) -> list[int]:
    """``n`` primary keys from the table's sequence, in ascending order: nextval() hands out values nobody
    else can take, even with other writers on the table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) AS id FROM generate_series(1, %s) ORDER BY id",
            [model._meta.db_table, model._meta.pk.column, n],
        )
        return [row[0] for row in cursor.fetchall()]


class _Lines:
    """A read-only file over the COPY lines of ``rows``, formatted as psycopg2 reads them: the server
    writes the first rows while later ones are still being formatted."""

    def __init__(self, fields: list[models.Field], rows: Iterable[Iterable[Any]]):
        self.fields = fields
        self.rows: Iterator[Iterable[Any]] = iter(rows)

    def read(self, size: int = -1) -> str:
        lines: list[str] = []
        length = 0
        fields = self.fields
        for values in self.rows:
            line = "\t".join([copy_value(f, value) for f, value in zip(fields, values, strict=True)]) + "\n"
            lines.append(line)
            length += len(line)
            if length >= CHUNK_CHARS:
                break
        return "".join(lines)


def copy_rows(model: type[models.Model], fields: list[models.Field], rows: Iterable[Iterable[Any]]) -> None:
    """COPY ``rows`` (one value per field, in the order of ``fields``) into ``model``'s table."""
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN"
    # Django's cursor passes copy_expert() through without turning psycopg2's errors into its own
    # (IntegrityError for a duplicate DOI, …): the wrapper does that, as for execute().
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.copy_expert(sql, _Lines(fields, rows), CHUNK_CHARS)
