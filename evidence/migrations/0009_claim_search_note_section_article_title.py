"""Claim search covers the evidence note, the section and the article's title as well as the quote.

Readers search for what they see on a claim's card and page: the quote, the curator's reading of the
evidence, the section heading and the article it comes from. The claim trigger of 0006 now builds the
vector from all four, weighted in that order so that a match in the quote ranks first; the article's
title is read from its row when the claim is written. A second trigger, on the article, rewrites its
claims' vectors when its title changes (an UPDATE that sets each vector to NULL, which the claim
trigger fills in again), so the index never holds an old title, whatever wrote the change. The GIN
index of 0006 stays as it is: still one column, searched the same way, so the claim list runs the
same queries. SQLite (development only) has no triggers here and searches the same fields with LIKE
(evidence/search.py).
"""

from django.db import migrations

CLAIM_FUNCTION = "evidence_claim_search_vector"
ARTICLE_FUNCTION = "evidence_article_title_search_vector"
ARTICLE_TRIGGER = "evidence_article_title_search_vector"

# quote (A), evidence note (B), section (C), the article's title (D)
CLAIM_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, COALESCE(NEW.quote, '')), 'A')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(NEW.evidence_note, '')), 'B')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(NEW.section, '')), 'C')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE("
    "(SELECT title FROM evidence_article WHERE id = NEW.article_id), '')), 'D')"
)
# what 0006 built: the quote alone
OLD_CLAIM_VECTOR = "to_tsvector('english'::regconfig, COALESCE(NEW.quote, ''))"


def _claim_function(schema_editor, vector: str) -> None:
    # CREATE OR REPLACE keeps the trigger of 0006, which calls the function by name
    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {CLAIM_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN NEW.search_vector := {vector}; RETURN NEW; END $$"
    )
    schema_editor.execute("UPDATE evidence_claim SET search_vector = NULL")  # the trigger fills it in
    schema_editor.execute("ANALYZE evidence_claim")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _claim_function(schema_editor, CLAIM_VECTOR)
    schema_editor.execute(
        f"CREATE FUNCTION {ARTICLE_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN UPDATE evidence_claim SET search_vector = NULL WHERE article_id = NEW.id; RETURN NULL; END $$"
    )
    schema_editor.execute(
        f"CREATE TRIGGER {ARTICLE_TRIGGER} AFTER UPDATE OF title ON evidence_article"
        f" FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title) EXECUTE FUNCTION {ARTICLE_FUNCTION}()"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {ARTICLE_TRIGGER} ON evidence_article")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {ARTICLE_FUNCTION}()")
    _claim_function(schema_editor, OLD_CLAIM_VECTOR)


class Migration(migrations.Migration):
    dependencies = [("evidence", "0008_drop_study_history_as_of_index")]

    operations = [migrations.RunPython(create, drop)]
