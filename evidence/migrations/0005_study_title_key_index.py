"""An index for matching imported titles against the library, on PostgreSQL only.

evidence_study_title_key_idx: bibliography_import's title match (evidence.services._TitleIndex), the
last resort after DOI and PMID. It asks for the studies whose title key, a title's letters and digits
after NFKD and lower case (evidence.services.study_title_key), is one of the file's:

    SELECT id, title, year, doi FROM evidence_study
    WHERE NOT title = '' AND LEFT(REGEXP_REPLACE(LOWER(normalize(title, NFKD)), '[^a-z0-9]+', '', 'g'), 100)
          IN (...)

Without it, matching a 10,000-record file read and normalised in Python every title of the years it
mentions: all 100,000 of the benchmark's library. The expression is built from the function the query
uses, as 0002 does, so the two cannot drift apart. SQLite (development only) has no normalize() and
gets no index; the import reads the titles there as before. A RunPython migration because
Meta.indexes cannot say "PostgreSQL only"; the autodetector does not see it, so nothing is pending.
"""

from django.db import migrations, models

from evidence.services import study_title_key

INDEX = "evidence_study_title_key_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.add_index(apps.get_model("evidence", "Study"), models.Index(study_title_key(), name=INDEX))
    # An expression index has no statistics until the table is analysed, and autovacuum may never
    # analyse a table whose rows do not change: without them PostgreSQL guesses a hundred thousand rows
    # per key and scans the table instead (docs/performance.md, import).
    schema_editor.execute("ANALYZE evidence_study")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("evidence", "0004_performance_indexes")]

    operations = [migrations.RunPython(create, drop)]
