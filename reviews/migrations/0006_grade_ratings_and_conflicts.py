"""GRADE as GRADEpro records it, and conflict-of-interest declarations, on reviews (issue 19, sections 3 and 4).

The five downgrade booleans become a three-level rating each (not serious / serious / very serious): a ticked
box was a downgrade of one level, so True becomes "serious" and False "not serious", in the reviews and in
their history (the changelog compares versions field by field). The starting level, the upgrade domains and
the declaration are new: reviews saved before keep them blank (not recorded), and the services require them
on every submission from now on.
"""

from django.db import migrations, models

DOMAINS = ["risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias"]


def _checks_now(schema_editor) -> None:
    """Run the deferred foreign-key checks the updates queue at once: PostgreSQL refuses to drop the old
    columns in the same transaction while trigger events are pending."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def booleans_to_concerns(apps, schema_editor):
    _checks_now(schema_editor)
    for name in ("Review", "HistoricalReview"):
        model = apps.get_model("reviews", name)
        for domain in DOMAINS:
            model.objects.filter(**{f"downgrade_{domain}": True}).update(**{domain: "serious"})


def concerns_to_booleans(apps, schema_editor):
    """Back: any downgrade (serious or very serious) is a ticked box again."""
    _checks_now(schema_editor)
    for name in ("Review", "HistoricalReview"):
        model = apps.get_model("reviews", name)
        for domain in DOMAINS:
            model.objects.exclude(**{domain: "not_serious"}).update(**{f"downgrade_{domain}": True})


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0005_rounds_and_verdict_versions"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalreview",
            name="certainty_reason",
            field=models.TextField(
                blank=True,
                help_text="Why the certainty differs from the one the GRADE ratings give.",
                verbose_name="why another certainty",
            ),
        ),
        migrations.AddField(
            model_name="historicalreview",
            name="conflict_of_interest",
            field=models.CharField(
                blank=True,
                choices=[("none", "None"), ("declared", "Declared")],
                max_length=10,
                verbose_name="conflict of interest",
            ),
        ),
        migrations.AddField(
            model_name="historicalreview",
            name="conflict_statement",
            field=models.TextField(blank=True, verbose_name="declared conflict"),
        ),
        migrations.AddField(
            model_name="historicalreview",
            name="dose_response",
            field=models.BooleanField(default=False, verbose_name="dose-response gradient"),
        ),
        migrations.AddField(
            model_name="historicalreview",
            name="evidence_design",
            field=models.CharField(
                blank=True,
                choices=[
                    ("randomised", "Randomised trials (start high)"),
                    ("observational", "Observational studies (start low)"),
                ],
                max_length=16,
                verbose_name="design of the evidence",
            ),
        ),
        migrations.AddField(
            model_name="historicalreview",
            name="imprecision",
            field=models.CharField(
                choices=[
                    ("not_serious", "Not serious"),
                    ("serious", "Serious (−1)"),
                    ("very_serious", "Very serious (−2)"),
                ],
                default="not_serious",
                max_length=12,
                verbose_name="imprecision",
            ),
        ),
        migrations.AddField(
            model_name="historicalreview",
            name="inconsistency",
            field=models.CharField(
                choices=[
                    ("not_serious", "Not serious"),
                    ("serious", "Serious (−1)"),
                    ("very_serious", "Very serious (−2)"),
                ],
                default="not_serious",
                max_length=12,
                verbose_name="inconsistency",
            ),
        ),
        migrations.AddField(
            model_name="historicalreview",
            name="indirectness",
            field=models.CharField(
                choices=[
                    ("not_serious", "Not serious"),
                    ("serious", "Serious (−1)"),
                    ("very_serious", "Very serious (−2)"),
                ],
                default="not_serious",
                max_length=12,
                verbose_name="indirectness",
            ),
        ),
        migrations.AddField(
            model_name="historicalreview",
            name="large_effect",
            field=models.CharField(
                choices=[("no", "No"), ("large", "Large (+1)"), ("very_large", "Very large (+2)")],
                default="no",
                max_length=12,
                verbose_name="large effect",
            ),
        ),
        migrations.AddField(
            model_name="historicalreview",
            name="plausible_confounding",
            field=models.BooleanField(
                default=False,
                help_text="All plausible residual confounding would reduce the effect shown.",
                verbose_name="opposing plausible confounding",
            ),
        ),
        migrations.AddField(
            model_name="historicalreview",
            name="publication_bias",
            field=models.CharField(
                choices=[
                    ("not_serious", "Not serious"),
                    ("serious", "Serious (−1)"),
                    ("very_serious", "Very serious (−2)"),
                ],
                default="not_serious",
                max_length=12,
                verbose_name="publication bias",
            ),
        ),
        migrations.AddField(
            model_name="historicalreview",
            name="risk_of_bias",
            field=models.CharField(
                choices=[
                    ("not_serious", "Not serious"),
                    ("serious", "Serious (−1)"),
                    ("very_serious", "Very serious (−2)"),
                ],
                default="not_serious",
                max_length=12,
                verbose_name="risk of bias",
            ),
        ),
        migrations.AddField(
            model_name="review",
            name="certainty_reason",
            field=models.TextField(
                blank=True,
                help_text="Why the certainty differs from the one the GRADE ratings give.",
                verbose_name="why another certainty",
            ),
        ),
        migrations.AddField(
            model_name="review",
            name="conflict_of_interest",
            field=models.CharField(
                blank=True,
                choices=[("none", "None"), ("declared", "Declared")],
                max_length=10,
                verbose_name="conflict of interest",
            ),
        ),
        migrations.AddField(
            model_name="review",
            name="conflict_statement",
            field=models.TextField(blank=True, verbose_name="declared conflict"),
        ),
        migrations.AddField(
            model_name="review",
            name="dose_response",
            field=models.BooleanField(default=False, verbose_name="dose-response gradient"),
        ),
        migrations.AddField(
            model_name="review",
            name="evidence_design",
            field=models.CharField(
                blank=True,
                choices=[
                    ("randomised", "Randomised trials (start high)"),
                    ("observational", "Observational studies (start low)"),
                ],
                max_length=16,
                verbose_name="design of the evidence",
            ),
        ),
        migrations.AddField(
            model_name="review",
            name="imprecision",
            field=models.CharField(
                choices=[
                    ("not_serious", "Not serious"),
                    ("serious", "Serious (−1)"),
                    ("very_serious", "Very serious (−2)"),
                ],
                default="not_serious",
                max_length=12,
                verbose_name="imprecision",
            ),
        ),
        migrations.AddField(
            model_name="review",
            name="inconsistency",
            field=models.CharField(
                choices=[
                    ("not_serious", "Not serious"),
                    ("serious", "Serious (−1)"),
                    ("very_serious", "Very serious (−2)"),
                ],
                default="not_serious",
                max_length=12,
                verbose_name="inconsistency",
            ),
        ),
        migrations.AddField(
            model_name="review",
            name="indirectness",
            field=models.CharField(
                choices=[
                    ("not_serious", "Not serious"),
                    ("serious", "Serious (−1)"),
                    ("very_serious", "Very serious (−2)"),
                ],
                default="not_serious",
                max_length=12,
                verbose_name="indirectness",
            ),
        ),
        migrations.AddField(
            model_name="review",
            name="large_effect",
            field=models.CharField(
                choices=[("no", "No"), ("large", "Large (+1)"), ("very_large", "Very large (+2)")],
                default="no",
                max_length=12,
                verbose_name="large effect",
            ),
        ),
        migrations.AddField(
            model_name="review",
            name="plausible_confounding",
            field=models.BooleanField(
                default=False,
                help_text="All plausible residual confounding would reduce the effect shown.",
                verbose_name="opposing plausible confounding",
            ),
        ),
        migrations.AddField(
            model_name="review",
            name="publication_bias",
            field=models.CharField(
                choices=[
                    ("not_serious", "Not serious"),
                    ("serious", "Serious (−1)"),
                    ("very_serious", "Very serious (−2)"),
                ],
                default="not_serious",
                max_length=12,
                verbose_name="publication bias",
            ),
        ),
        migrations.AddField(
            model_name="review",
            name="risk_of_bias",
            field=models.CharField(
                choices=[
                    ("not_serious", "Not serious"),
                    ("serious", "Serious (−1)"),
                    ("very_serious", "Very serious (−2)"),
                ],
                default="not_serious",
                max_length=12,
                verbose_name="risk of bias",
            ),
        ),
        migrations.RunPython(booleans_to_concerns, concerns_to_booleans),
        migrations.RemoveField(
            model_name="historicalreview",
            name="downgrade_imprecision",
        ),
        migrations.RemoveField(
            model_name="historicalreview",
            name="downgrade_inconsistency",
        ),
        migrations.RemoveField(
            model_name="historicalreview",
            name="downgrade_indirectness",
        ),
        migrations.RemoveField(
            model_name="historicalreview",
            name="downgrade_publication_bias",
        ),
        migrations.RemoveField(
            model_name="historicalreview",
            name="downgrade_risk_of_bias",
        ),
        migrations.RemoveField(
            model_name="review",
            name="downgrade_imprecision",
        ),
        migrations.RemoveField(
            model_name="review",
            name="downgrade_inconsistency",
        ),
        migrations.RemoveField(
            model_name="review",
            name="downgrade_indirectness",
        ),
        migrations.RemoveField(
            model_name="review",
            name="downgrade_publication_bias",
        ),
        migrations.RemoveField(
            model_name="review",
            name="downgrade_risk_of_bias",
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("evidence_design", ""), ("evidence_design__in", ["randomised", "observational"]), _connector="OR"
                ),
                name="reviews_review_design_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(("risk_of_bias__in", ["not_serious", "serious", "very_serious"])),
                name="reviews_review_risk_of_bias_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(("inconsistency__in", ["not_serious", "serious", "very_serious"])),
                name="reviews_review_inconsistency_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(("indirectness__in", ["not_serious", "serious", "very_serious"])),
                name="reviews_review_indirectness_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(("imprecision__in", ["not_serious", "serious", "very_serious"])),
                name="reviews_review_imprecision_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(("publication_bias__in", ["not_serious", "serious", "very_serious"])),
                name="reviews_review_publication_bias_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(("large_effect__in", ["no", "large", "very_large"])),
                name="reviews_review_large_effect_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("evidence_design", "observational"),
                    models.Q(("dose_response", False), ("large_effect", "no"), ("plausible_confounding", False)),
                    _connector="OR",
                ),
                name="reviews_review_upgrades_observational",
            ),
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("conflict_of_interest", ""), ("conflict_of_interest__in", ["none", "declared"]), _connector="OR"
                ),
                name="reviews_review_conflict_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("conflict_of_interest", "declared"), models.Q(("conflict_statement", ""), _negated=True)),
                    models.Q(models.Q(("conflict_of_interest", "declared"), _negated=True), ("conflict_statement", "")),
                    _connector="OR",
                ),
                name="reviews_review_conflict_statement",
            ),
        ),
    ]
