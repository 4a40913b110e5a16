"""Three changes to studies (issue 17, items 10, 16 and 17).

Design: an import no longer files a study it cannot classify as "Other"; the design is left empty, "Not
yet classified", until a curator sets it (evidence.designs suggests one). Existing designs stay as they are.

Notes: ``note`` is now what readers see with a study, and ``internal_note`` the curators' research notes.
Every note stored so far came from bibliography files and the seed's research log ("2026-11-28: DOI not
seen in any stored source …"), written for curators, so each moves to ``internal_note`` (in the history
too, which readers see part of); a curator writes the public note on purpose.

Search: authors were indexed with the ``simple`` configuration but searched with ``english``, which stems
"Lodge" to "lodg" and found nothing. The study's vector now also holds its title and journal as ``simple``,
unaccented lexemes beside the ``english`` ones, and its authors unaccented; evidence/search.py searches
with both configurations (OR), names through the same function: "Lodge", "Zarate", "Carhart-Harris" and
"Zárate" find their studies. ``evidence_unaccent`` qualifies the extension's function and dictionary, so the
trigger works under any search_path (pg_restore runs with an empty one).
"""

import evidence.models
from django.db import migrations, models
from django.db.models import F

# What 0006 built, and what replaces it: see the docstring.
OLD_STUDY_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, COALESCE(NEW.title, '')), 'A')"
    " || setweight(to_tsvector('simple'::regconfig,"
    " COALESCE(jsonb_path_query_array(NEW.authors, '$[*].*')::text, '')), 'B')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(NEW.container_title, '')), 'C')"
)
STUDY_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, COALESCE(NEW.title, '')), 'A')"
    " || setweight(to_tsvector('simple'::regconfig, evidence_unaccent(COALESCE(NEW.title, ''))), 'A')"
    " || setweight(to_tsvector('simple'::regconfig,"
    " evidence_unaccent(COALESCE(jsonb_path_query_array(NEW.authors, '$[*].*')::text, ''))), 'B')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(NEW.container_title, '')), 'C')"
    " || setweight(to_tsvector('simple'::regconfig, evidence_unaccent(COALESCE(NEW.container_title, ''))), 'C')"
)


def _study_function(schema_editor, vector: str) -> None:
    # CREATE OR REPLACE keeps the trigger of 0006, which calls the function by name
    schema_editor.execute(
        "CREATE OR REPLACE FUNCTION evidence_study_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN NEW.search_vector := {vector}; RETURN NEW; END $$"
    )
    schema_editor.execute("UPDATE evidence_study SET search_vector = NULL")  # the trigger fills it in
    schema_editor.execute("ANALYZE evidence_study")


def search_names_simple(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # unaccent is a trusted extension: the database's owner may create it
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'unaccent'")
        (where,) = cursor.fetchone()
    schema_editor.execute(
        "CREATE OR REPLACE FUNCTION evidence_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE"
        f" STRICT AS $$ SELECT {where}.unaccent('{where}.unaccent'::regdictionary, $1) $$"
    )
    _study_function(schema_editor, STUDY_VECTOR)


def search_names_as_before(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _study_function(schema_editor, OLD_STUDY_VECTOR)
    schema_editor.execute("DROP FUNCTION IF EXISTS evidence_unaccent(text)")


# The seed's research-log sentences that stood in its retraction notes (fixtures/ketamine-mdma now keeps
# them in the studies' notes, which become internal): moved out of a stored retraction note too.
RESEARCH_LOG = (
    " The retraction notice's own DOI was NOT seen in any stored source.",
    " CAVEAT: the retraction notice for this article, its DOI and its exact date were NOT seen in any stored"
    " source; the status rests on consistent secondary reports.",
)


def notes_become_internal(apps, schema_editor):
    for name in ("Study", "HistoricalStudy"):
        model = apps.get_model("evidence", name)
        model.objects.exclude(note="").update(internal_note=F("note"), note="")
        for sentence in RESEARCH_LOG:
            for row in model.objects.filter(retraction_note__contains=sentence.strip()):
                row.retraction_note = row.retraction_note.replace(sentence, "").replace(sentence.strip(), "").strip()
                row.internal_note = f"{row.internal_note}{sentence}".strip()
                row.save(update_fields=["retraction_note", "internal_note"])


def notes_back(apps, schema_editor):
    for name in ("Study", "HistoricalStudy"):
        model = apps.get_model("evidence", name)
        model.objects.exclude(internal_note="").update(note=F("internal_note"), internal_note="")


class Migration(migrations.Migration):

    dependencies = [
        ('evidence', '0010_claim_anchor_state'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='study',
            name='evidence_study_design_valid',
        ),
        migrations.AddField(
            model_name='historicalstudy',
            name='internal_note',
            field=models.TextField(blank=True, help_text="Curators' research notes (how the record was checked, what is missing): never shown to readers."),
        ),
        migrations.AddField(
            model_name='study',
            name='internal_note',
            field=models.TextField(blank=True, help_text="Curators' research notes (how the record was checked, what is missing): never shown to readers."),
        ),
        migrations.AlterField(
            model_name='historicalstudy',
            name='authors',
            field=models.JSONField(blank=True, default=list, help_text='CSL names: [{"family": ..., "given": ..., "suffix": ...} or {"literal": ...}].', validators=[evidence.models.validate_csl_names]),
        ),
        migrations.AlterField(
            model_name='historicalstudy',
            name='design',
            field=models.CharField(blank=True, choices=[('', 'Not yet classified'), ('meta_analysis', 'Meta-analysis'), ('systematic_review', 'Systematic review'), ('rct', 'Randomised controlled trial'), ('cohort', 'Cohort study'), ('case_control', 'Case-control study'), ('case_series', 'Case series'), ('cross_sectional', 'Cross-sectional study'), ('preclinical', 'Preclinical study'), ('review', 'Narrative review'), ('regulatory', 'Regulatory document'), ('other', 'Other')], default='', max_length=20),
        ),
        migrations.AlterField(
            model_name='historicalstudy',
            name='note',
            field=models.TextField(blank=True, help_text='Shown to readers with the study.'),
        ),
        migrations.AlterField(
            model_name='study',
            name='authors',
            field=models.JSONField(blank=True, default=list, help_text='CSL names: [{"family": ..., "given": ..., "suffix": ...} or {"literal": ...}].', validators=[evidence.models.validate_csl_names]),
        ),
        migrations.AlterField(
            model_name='study',
            name='design',
            field=models.CharField(blank=True, choices=[('', 'Not yet classified'), ('meta_analysis', 'Meta-analysis'), ('systematic_review', 'Systematic review'), ('rct', 'Randomised controlled trial'), ('cohort', 'Cohort study'), ('case_control', 'Case-control study'), ('case_series', 'Case series'), ('cross_sectional', 'Cross-sectional study'), ('preclinical', 'Preclinical study'), ('review', 'Narrative review'), ('regulatory', 'Regulatory document'), ('other', 'Other')], default='', max_length=20),
        ),
        migrations.AlterField(
            model_name='study',
            name='note',
            field=models.TextField(blank=True, help_text='Shown to readers with the study.'),
        ),
        migrations.AddConstraint(
            model_name='study',
            constraint=models.CheckConstraint(condition=models.Q(('design__in', ['', 'meta_analysis', 'systematic_review', 'rct', 'cohort', 'case_control', 'case_series', 'cross_sectional', 'preclinical', 'review', 'regulatory', 'other'])), name='evidence_study_design_valid'),
        ),
        migrations.RunPython(notes_become_internal, notes_back),
        migrations.RunPython(search_names_simple, search_names_as_before),
    ]
