"""Drop evidence_hstudy_as_of_idx (migration 0004): nothing reads a study's version as of a moment any more.

It served the reviewer queue's old "a cited study's retraction status as of my review" lookup, which
Claim.evidence_changed_at replaced (migration 0007, whose one-off fill was its last reader). Every study
written adds a history row, and every history row paid for the index: an import of 10,000 studies wrote
10,000 entries into it for nothing.
"""

from django.db import migrations, models

INDEX = models.Index(
    fields=["id", "-history_date", "-history_id"], name="evidence_hstudy_as_of_idx", include=["retraction_status"]
)


def drop(apps, schema_editor):
    schema_editor.remove_index(apps.get_model("evidence", "HistoricalStudy"), INDEX)


def create(apps, schema_editor):
    index = INDEX
    if not schema_editor.connection.features.supports_covering_indexes:
        index = models.Index(fields=INDEX.fields, name=INDEX.name)
    schema_editor.add_index(apps.get_model("evidence", "HistoricalStudy"), index)


class Migration(migrations.Migration):
    dependencies = [("evidence", "0007_claim_evidence_changed_at")]

    operations = [migrations.RunPython(drop, create)]
