"""Stored full-text search vectors for claims and studies, kept by triggers on PostgreSQL.

The expression indexes of 0002 let PostgreSQL find matches without a scan, but ranking them re-parsed
the text of every match (to_tsvector per row): 130 ms for a common word over 100,000 studies. Now each
row carries its vector, computed by a trigger on every insert and update, whatever writes the row
(the ORM, bulk_create, the data set generator's COPY), and the GIN indexes are on the columns.
The indexes keep 0002's names, so tests/test_public_pages.py's query-plan check still names them.
SQLite (development only) gets the empty columns and searches with LIKE (evidence/search.py).
"""

from importlib import import_module

import django.contrib.postgres.search
from django.db import migrations

# What evidence/search.py ranks by: the quote; and the title (A), every part of every author's name,
# organisations included (B), and the journal (C).
CLAIM_VECTOR = "to_tsvector('english'::regconfig, COALESCE(NEW.quote, ''))"
STUDY_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, COALESCE(NEW.title, '')), 'A')"
    " || setweight(to_tsvector('simple'::regconfig,"
    " COALESCE(jsonb_path_query_array(NEW.authors, '$[*].*')::text, '')), 'B')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(NEW.container_title, '')), 'C')"
)
TABLES = {"evidence_claim": CLAIM_VECTOR, "evidence_study": STUDY_VECTOR}
INDEXES = {"evidence_claim": "evidence_claim_search_idx", "evidence_study": "evidence_study_search_idx"}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, vector in TABLES.items():
        schema_editor.execute(
            f"CREATE FUNCTION {table}_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN NEW.search_vector := {vector}; RETURN NEW; END $$"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_search_vector BEFORE INSERT OR UPDATE ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION {table}_search_vector()"
        )
        schema_editor.execute(f"UPDATE {table} SET search_vector = NULL")  # the trigger fills it in
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEXES[table]}")
        schema_editor.execute(f"CREATE INDEX {INDEXES[table]} ON {table} USING gin (search_vector)")
        schema_editor.execute(f"ANALYZE {table}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEXES[table]}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_search_vector ON {table}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_search_vector()")
    # back to 0002's expression indexes, which the code of that time searches with
    import_module("evidence.migrations.0002_search_indexes").create(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("evidence", "0005_study_title_key_index")]

    operations = [
        migrations.AddField(
            model_name="claim",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="study",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(create, drop),
    ]
