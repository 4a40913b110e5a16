"""Full-text search indexes, on PostgreSQL only.

They were expression GIN indexes over the expressions evidence/search.py queried with; migration 0006
replaced them with indexes on stored, trigger-maintained vectors. The expressions are kept here as
they were, so this migration still does on a fresh database what it did. SQLite (development only) has no
full-text search of this kind and gets none; Meta.indexes cannot express "PostgreSQL only", which is
why this is a RunPython migration rather than a model index.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations
from django.db.models import F, Func, TextField, Value
from django.db.models.functions import Cast


def claim_vector() -> SearchVector:
    return SearchVector("quote", config="english")


def study_vector() -> SearchVector:
    names = Cast(Func(F("authors"), Value("$[*].*"), function="jsonb_path_query_array"), TextField())
    return (
        SearchVector("title", config="english", weight="A")
        + SearchVector(names, config="simple", weight="B")
        + SearchVector("container_title", config="english", weight="C")
    )

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
