"""The reviewer's queue reads a reviewer's reviews in the order they were saved, with each one's claim, from
one index (what it serves: Review.Meta.indexes); the claims' side is evidence/migrations/0007."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0007_claim_evidence_changed_at"),
        ("reviews", "0003_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="review",
            index=models.Index(fields=["reviewer", "updated_at", "id", "claim"], name="reviews_review_queue_idx"),
        ),
    ]
