"""Full-text search indexes, on PostgreSQL only.

They are expression GIN indexes over exactly the expressions evidence/search.py queries with, built
here from those same functions so the two cannot drift apart. SQLite (development only) has no
full-text search of this kind and gets none; Meta.indexes cannot express "PostgreSQL only", which is
why this is a RunPython migration rather than a model index.
"""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

from evidence.search import claim_vector, study_vector

CLAIM_INDEX = "evidence_claim_search_idx"
STUDY_INDEX = "evidence_study_search_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # the claim list's q= search
    schema_editor.add_index(apps.get_model("evidence", "Claim"), GinIndex(claim_vector(), name=CLAIM_INDEX))
    # the study list's q= search over title, authors and journal
    schema_editor.add_index(apps.get_model("evidence", "Study"), GinIndex(study_vector(), name=STUDY_INDEX))


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {CLAIM_INDEX}")
    schema_editor.execute(f"DROP INDEX IF EXISTS {STUDY_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("evidence", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
