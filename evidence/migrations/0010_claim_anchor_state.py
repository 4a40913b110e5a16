"""A claim's anchor has a state: anchored, or orphaned when a revision of its article's text no longer holds
its quote (issue 19). An orphan's offsets refer to the text of the revision it was last found in
(anchor_revision); anchor_suggestion is a passage of the current text for an editor to accept.

Existing claims that a revision lost kept their old offsets, which selected other words of the current
text: they become orphans here. Each gets the newest revision whose text holds its quote at its offsets
(the newest revision at all when none does: the claim was last seen before it), and a suggestion computed
as article_revise computes one (evidence.anchoring.suggest). Every other claim is anchored.
"""

from django.db import migrations, models

from evidence.anchoring import suggest


def orphan_lost_claims(apps, schema_editor):
    Article = apps.get_model("evidence", "Article")
    Claim = apps.get_model("evidence", "Claim")
    ArticleRevision = apps.get_model("evidence", "ArticleRevision")
    # only an article with revisions can have lost a claim
    for article in Article.objects.filter(pk__in=ArticleRevision.objects.values("article_id")).iterator():
        revisions = list(ArticleRevision.objects.filter(article=article).order_by("-number"))
        lost = [c for c in Claim.objects.filter(article=article) if article.text[c.start : c.end] != c.quote]
        for claim in lost:
            found = next((r for r in revisions if r.text[claim.start : claim.end] == claim.quote), revisions[0])
            suggestion = suggest(article.text, claim.quote)
            claim.anchor_state = "orphaned"
            claim.anchor_revision = found.number
            claim.anchor_suggestion = suggestion.as_json() if suggestion else None
            claim.save(update_fields=["anchor_state", "anchor_revision", "anchor_suggestion"])



class Migration(migrations.Migration):

    dependencies = [
        ('evidence', '0009_claim_search_note_section_article_title'),
    ]

    operations = [
        migrations.AddField(
            model_name='claim',
            name='anchor_revision',
            field=models.PositiveIntegerField(blank=True, help_text='For an orphan: the number of the article revision whose text its offsets refer to.', null=True),
        ),
        migrations.AddField(
            model_name='claim',
            name='anchor_state',
            field=models.CharField(choices=[('anchored', 'Anchored'), ('orphaned', 'Orphaned: no longer found in the current text')], default='anchored', max_length=10),
        ),
        migrations.AddField(
            model_name='claim',
            name='anchor_suggestion',
            field=models.JSONField(blank=True, help_text='For an orphan: the passage of the current text most like its quote (quote, start, end, score), for an editor to accept; null when nothing is alike enough.', null=True),
        ),
        migrations.AddField(
            model_name='historicalclaim',
            name='anchor_revision',
            field=models.PositiveIntegerField(blank=True, help_text='For an orphan: the number of the article revision whose text its offsets refer to.', null=True),
        ),
        migrations.AddField(
            model_name='historicalclaim',
            name='anchor_state',
            field=models.CharField(choices=[('anchored', 'Anchored'), ('orphaned', 'Orphaned: no longer found in the current text')], default='anchored', max_length=10),
        ),
        migrations.AddField(
            model_name='historicalclaim',
            name='anchor_suggestion',
            field=models.JSONField(blank=True, help_text='For an orphan: the passage of the current text most like its quote (quote, start, end, score), for an editor to accept; null when nothing is alike enough.', null=True),
        ),
        migrations.RunPython(orphan_lost_claims, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='claim',
            index=models.Index(condition=models.Q(('anchor_state', 'orphaned')), fields=['article', 'start'], name='evidence_claim_orphaned_idx'),
        ),
        migrations.AddConstraint(
            model_name='claim',
            constraint=models.CheckConstraint(condition=models.Q(('anchor_state__in', ['anchored', 'orphaned'])), name='evidence_claim_anchor_state_valid'),
        ),
        migrations.AddConstraint(
            model_name='claim',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('anchor_revision__isnull', True), ('anchor_state', 'anchored')), models.Q(('anchor_revision__isnull', False), ('anchor_state', 'orphaned')), _connector='OR'), name='evidence_claim_orphan_revision'),
        ),
        migrations.AddConstraint(
            model_name='claim',
            constraint=models.CheckConstraint(condition=models.Q(('anchor_state', 'orphaned'), ('anchor_suggestion__isnull', True), _connector='OR'), name='evidence_claim_suggestion_orphan_only'),
        ),
    ]
