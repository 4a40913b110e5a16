"""An editor adds an article and marks its claims in the site (issue 21, item 1): placing a marked passage
(a TextQuoteSelector) with the importer's anchoring code, refusing what it cannot place, the text read from
real .txt, .html and .docx files (tests/samples/articles/), a revision of the text re-anchoring the claims,
who may use the pages, and hostile input refused with a form error, never a 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evidence import anchoring
from evidence.importers import documents
from evidence.models import Article, ArticleRevision, Claim
from evidence.services import article_create, claim_mark
from tests.builders import article_with_claims

SAMPLES = Path(__file__).resolve().parent / "samples" / "articles"
TEXT = (
    "Ketamine and MDMA\n"
    "Background\n"
    "Ketamine lifts mood within hours. The trial was small.\n"
    "Risks\n"
    "Ketamine lifts mood within hours. Later studies disagree.\n"
    "The effect faded after a week. The effect faded after a week.\n"
)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def article(db) -> Article:
    return article_create(
        values={
            "slug": "ketamine-and-mdma",
            "title": "Ketamine and MDMA",
            "text": TEXT,
            "headings": anchoring.infer_headings(TEXT),
        }
    )


# --- Placing a selector: the importer's code -------------------------------------------------------------


def test_a_quote_that_occurs_once_is_placed_as_the_importer_places_it():
    quote = "The trial was small."
    assert anchoring.locate(TEXT, quote, "hours. ", "\nRisks") == anchoring.locate(TEXT, quote)


def test_the_words_around_a_repeated_quote_tell_its_occurrences_apart():
    quote = "Ketamine lifts mood within hours."
    with pytest.raises(anchoring.AnchorError, match="occurs 2 times"):
        anchoring.locate(TEXT, quote)
    second = TEXT.rindex(quote)
    anchor = anchoring.locate(TEXT, quote, TEXT[second - 32 : second], TEXT[second + len(quote) :][:32])
    assert (anchor.start, anchor.end) == (second, second + len(quote))
    # a context typed by hand: a few words, without the space between them and the quote
    assert anchoring.locate(TEXT, quote, "Risks", "Later").start == second


def test_a_repeated_quote_the_context_does_not_tell_apart_is_refused():
    quote = "The effect faded after a week."
    # both occurrences follow a line break or a space and are followed by one: the context fits both
    with pytest.raises(anchoring.AnchorError, match="same words around it"):
        anchoring.locate(TEXT, quote, "", "\n")
    with pytest.raises(anchoring.AnchorError, match="none of them has these words"):
        anchoring.locate(TEXT, quote, "nowhere in the text", "")
    with pytest.raises(anchoring.AnchorError, match="does not occur"):
        anchoring.locate(TEXT, "Ketamine cures everything.", "", "")


def test_claim_mark_saves_the_claim_with_its_anchor_section_and_history(article, make_user):
    editor = make_user("Editors")
    quote = "Ketamine lifts mood within hours."
    second = TEXT.rindex(quote)
    claim = claim_mark(
        article=article,
        quote=quote,
        prefix="Risks\n",
        suffix=" Later studies",
        values={"claim_type": "efficacy", "substance": "ketamine"},
        user=editor,
    )
    claim.refresh_from_db()
    assert (claim.start, claim.end) == (second, second + len(quote))
    assert (claim.section, claim.substance) == ("Risks", "ketamine")
    assert claim.prefix == TEXT[second - 32 : second] and claim.status == Claim.Status.AWAITING_REVIEW
    record = claim.history.latest()
    assert (record.history_change_reason, record.history_user) == ("marked in the text", editor)
    # the editor may name another of the article's headings, and no other
    other = claim_mark(article=article, quote="The trial was small.", section="Risks", values={"claim_type": "other"})
    assert other.section == "Risks"
    with pytest.raises(ValidationError) as refused:
        claim_mark(article=article, quote="Later studies disagree.", section="Nope", values={"claim_type": "other"})
    assert "section" in refused.value.message_dict


def test_claim_mark_refuses_an_ambiguous_or_missing_quote_and_writes_nothing(article):
    for quote in ("The effect faded after a week.", "Not in the text."):
        with pytest.raises(ValidationError) as refused:
            claim_mark(article=article, quote=quote, values={"claim_type": "onset"})
        assert "quote" in refused.value.message_dict
    assert not article.claims.exists()


def test_a_revision_of_the_text_re_anchors_marked_claims(article, make_user):
    editor = make_user("Editors")
    claim = claim_mark(article=article, quote="The trial was small.", values={"claim_type": "other"})
    client = signed_in(editor)
    new_text = "An update from the author.\n" + TEXT
    response = client.post(
        reverse("evidence:article-text-edit", args=[article.slug]),
        {"text": new_text, "headings": "Background\nRisks", "note": "the author's update"},
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.start == new_text.index("The trial was small.") and not claim.is_orphaned
    revision = ArticleRevision.objects.get(article=article)
    assert (revision.number, revision.text, revision.note) == (1, TEXT, "the author's update")
    # words taken out of the text: the claim becomes an orphan, the page says so
    response = client.post(
        reverse("evidence:article-text-edit", args=[article.slug]),
        {"text": new_text.replace("The trial was small.", ""), "headings": ""},
        follow=True,
    )
    claim.refresh_from_db()
    assert claim.is_orphaned and "1 claim no longer found" in response.content.decode()


# --- Text from files -------------------------------------------------------------------------------------


def test_text_from_a_web_page_leaves_out_navigation_and_adverts():
    text = documents.extract_text("page.html", (SAMPLES / "page.html").read_bytes())
    assert "Ketamine lifts mood within hours in people with treatment-resistant depression" in text
    assert "Risks" in text.splitlines()
    assert "Sign in" not in text and "Advertisement" not in text and "<p>" not in text


def test_text_from_a_word_document_has_one_paragraph_a_line():
    text = documents.extract_text("article.docx", (SAMPLES / "article.docx").read_bytes())
    lines = [line for line in text.splitlines() if line]
    assert lines[:2] == ["Ketamine and MDMA in therapy", "Background"]
    assert "Risks" in anchoring.infer_headings(text)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("not-a-word-file.docx", (SAMPLES / "not-a-word-file.docx").read_bytes(), "not a zip archive"),
        ("notes.pdf", b"%PDF-1.4", "Upload plain text"),
        ("latin1.txt", "café".encode("latin-1"), "not UTF-8"),
        ("empty.html", b"<html><head><title>T</title></head><body></body></html>", "No article text"),
        ("nul.txt", b"a\x00b", "NUL"),
        ("huge.txt", b"a" * (documents.MAX_DOCUMENT_BYTES + 1), "larger than"),
        ("long.txt", b"word " * (documents.MAX_TEXT_CHARS // 5 + 10), "at most"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_a_reason(name, data, reason):
    with pytest.raises(documents.DocumentError, match=reason):
        documents.extract_text(name, data)


# --- The pages -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_editors_reach_the_pages(article, make_user):
    urls = [
        reverse("evidence:article-new"),
        reverse("evidence:article-marking", args=[article.slug]),
        reverse("evidence:article-text-edit", args=[article.slug]),
    ]
    for url in urls:
        assert Client().get(url).status_code == 302  # sent to sign in
        for role in ("Reviewers", "Curators"):
            assert signed_in(make_user(role)).get(url).status_code == 403
        assert signed_in(make_user()).get(url).status_code == 403  # a reader with an account
        assert signed_in(make_user("Editors")).get(url).status_code == 200
    mark = reverse("evidence:article-mark-claim", args=[article.slug])
    data = {"quote": "The trial was small.", "claim_type": "other", "kind": "claim"}
    for role in ("Reviewers", "Curators"):
        assert signed_in(make_user(role)).post(mark, data).status_code == 403
    assert not article.claims.exists()
    assert signed_in(make_user("Editors")).post(mark, data).status_code == 302
    assert article.claims.count() == 1


@pytest.mark.django_db
def test_an_editor_adds_an_article_from_a_word_document(make_user):
    client = signed_in(make_user("Editors"))
    upload = SimpleUploadedFile("article.docx", (SAMPLES / "article.docx").read_bytes())
    response = client.post(
        reverse("evidence:article-new"),
        {"title": "Ketamine and MDMA in therapy", "author": "A. Writer", "url": "example.org/a", "file": upload},
    )
    article = Article.objects.get(slug="ketamine-and-mdma-in-therapy")
    assert response.status_code == 302
    assert response["Location"] == reverse("evidence:article-marking", args=[article.slug])
    assert (article.author, article.url) == ("A. Writer", "https://example.org/a")
    assert article.headings == ["Background", "Risks"] and "\r" not in article.text
    # the same title again: a form error, not a second article or a 500
    response = client.post(reverse("evidence:article-new"), {"title": article.title, "text": "Some text."})
    assert response.status_code == 400 and "exists already" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "T"}, "Paste the article"),
        ({"title": "T", "text": "x" * (documents.MAX_TEXT_CHARS + 1)}, "at most"),
        ({"title": "!!!", "text": "Some text."}, "letter or digit"),
        ({"title": "T", "text": "Some text.", "published_on": "yesterday"}, "valid date"),
        ({"title": "T", "text": "a\x00b"}, "Null characters"),
    ],
)
def test_bad_new_article_input_is_a_form_error(make_user, data, message):
    response = signed_in(make_user("Editors")).post(reverse("evidence:article-new"), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_a_broken_upload_is_a_form_error(make_user):
    upload = SimpleUploadedFile("article.docx", (SAMPLES / "not-a-word-file.docx").read_bytes())
    response = signed_in(make_user("Editors")).post(reverse("evidence:article-new"), {"title": "T", "file": upload})
    assert response.status_code == 400 and "not a zip archive" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"quote": "The effect faded after a week."}, "occurs 2 times"),
        ({"quote": "Not in the text at all."}, "does not occur"),
        ({"quote": "The trial was small.", "start": "ten", "end": "20"}, "not a pair of character offsets"),
        ({"quote": "The trial was small.", "start": "-1", "end": "20"}, "not a pair of character offsets"),
        ({"quote": "The trial was small.", "start": "90", "end": "20"}, "ends before it starts"),
        ({"quote": "x" * 6000}, "at most 5000"),
        ({"quote": "The trial was small.", "claim_type": "miracle"}, "Select a valid choice"),
        ({"quote": "The trial was small.", "section": "Not a heading"}, "Select a valid choice"),
        ({"quote": ""}, "This field is required"),
    ],
)
def test_a_refused_mark_is_a_form_error_and_writes_nothing(article, make_user, data, message):
    data = {"claim_type": "efficacy", "kind": "claim", **data}
    response = signed_in(make_user("Editors")).post(reverse("evidence:article-mark-claim", args=[article.slug]), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not article.claims.exists()


def test_a_position_that_does_not_match_the_quote_is_only_a_hint(article, make_user):
    data = {"quote": "The trial was small.", "start": "0", "end": "5", "claim_type": "other", "kind": "claim"}
    response = signed_in(make_user("Editors")).post(reverse("evidence:article-mark-claim", args=[article.slug]), data)
    assert response.status_code == 302
    assert article.claims.get().start == TEXT.index("The trial was small.")


def test_the_marking_page_shows_the_text_exactly_with_block_offsets(article, make_user):
    claim_mark(article=article, quote="The trial was small.", values={"claim_type": "other"})
    page = signed_in(make_user("Editors")).get(reverse("evidence:article-marking", args=[article.slug]))
    body = page.content.decode()
    start = TEXT.index("Ketamine lifts mood within hours.")
    assert f'data-start="{start}">Ketamine lifts mood within hours. <mark class="marked-claim"' in body
    assert 'id="article-source"' in body and "js/marking.js" in body


def test_the_desk_links_to_new_article_and_each_article_s_marking_page(article, make_user):
    page = signed_in(make_user("Editors")).get(reverse("reviews:desk")).content.decode()
    assert reverse("evidence:article-new") in page
    assert reverse("evidence:article-marking", args=[article.slug]) in page


def test_the_marking_page_s_queries_do_not_grow_with_its_claims(make_user):
    client = signed_in(make_user("Editors"))
    few, many = article_with_claims(2), article_with_claims(40)
    client.get(reverse("evidence:article-marking", args=[few.slug]))
    with CaptureQueriesContext(connection) as two:
        client.get(reverse("evidence:article-marking", args=[few.slug]))
    with CaptureQueriesContext(connection) as forty:
        page = client.get(reverse("evidence:article-marking", args=[many.slug]))
    assert page.content.decode().count('<mark class="marked-claim"') == 40
    assert len(forty) == len(two), "a query runs per claim: explain any new query"


def test_plain_text_loses_its_byte_order_mark_and_windows_line_breaks():
    text = documents.extract_text("a.TXT", "\ufeffTitle\r\n\r\n\r\n\r\nFirst line.  \r\nSecond.\r\n".encode())
    assert text == "Title\n\nFirst line.\nSecond."
