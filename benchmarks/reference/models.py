"""A narrow table holding only the columns the reference pages show: no abstract, no search vector, no
foreign key. benchmarks/bench.py fills it from the library's first studies before each run (fill())."""

from __future__ import annotations

from django.db import models, transaction

# What each reference row shows, copied from evidence.Study of the same id.
COLUMNS = ("title", "container_title", "year", "design", "doi")


class ReferenceRow(models.Model):
    id = models.BigIntegerField(primary_key=True)  # the study's id, so R_detail can name a real study
    title = models.TextField()
    container_title = models.TextField()
    year = models.IntegerField(null=True)
    design = models.CharField(max_length=20)
    doi = models.CharField(max_length=300)

    def __str__(self) -> str:
        return self.title


@transaction.atomic
def fill(rows: int = 1000) -> int:
    """Replace the table with the library's first ``rows`` studies (by id); returns how many it holds."""
    from evidence.models import Study

    ReferenceRow.objects.all().delete()
    copied = Study.objects.order_by("pk").values("pk", *COLUMNS)[:rows]
    ReferenceRow.objects.bulk_create(ReferenceRow(id=row.pop("pk"), **row) for row in copied)
    return ReferenceRow.objects.count()
