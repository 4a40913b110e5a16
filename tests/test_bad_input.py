"""The bad-input catalogue (docs/security.md): hostile text, malformed parameters, unknown ids, oversized
bodies and uploads. Each answer is an escaped page, a 400, a 404 or a 413: never a 500, never markup of
the attacker's."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence.models import Article, Claim, Study
from reviews.models import Flag
from reviews.services import flag_raise, review_submit, reviewer_profile_update
from tests.builders import grade_fields, graded, publish

# What an attacker would store: a script element, an event handler and a broken-out attribute.
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'"
RAW_MARKERS = ("<script>alert(", "<img src=x onerror", "onerror=alert(2)>")
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"


def x(tag: str) -> str:
    """The payload, labelled so a test can tell which field it came through."""
    return f"{tag}{XSS}"


def escaped(tag: str) -> str:
    return f"{tag}{ESCAPED}"


def assert_no_raw_markup(html: str, where: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in html, f"{where}: unescaped {marker!r}"


def jsonld_blocks(html: str) -> list[str]:
    return re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)


# --- Hostile text through an import file -----------------------------------------------------------------

HEADING = x("H-heading")
QUOTE = x("Q-quote") + " Ketamine cures everything."
TEXT = f"A hostile article\n{HEADING}\nSome plain words first. {QUOTE} And a last sentence.\n"


def write_article_file(tmp_path: Path) -> Path:
    studies = [
        {
            "id": "evil2020",
            "type": "article-journal",
            "title": x("S-title"),
            "author": [{"family": x("S-family"), "given": x("S-given")}, {"literal": x("S-literal")}],
            "container-title": x("S-journal"),
            "publisher": x("S-publisher"),
            "issued": {"date-parts": [[2020]]},
            "volume": x("V"),
            "DOI": "10.5555/hostile.1",
            "abstract": x("S-abstract"),
            "population": x("S-population"),
            "study_design": "rct",
            "sample_size": 12,
            "note": x("S-note"),
        }
    ]
    (tmp_path / "studies.json").write_text(json.dumps(studies))
    article = {
        "format": "evidence-article/1",
        "article": {
            "slug": "hostile-article",
            "title": x("A-title"),
            "author": x("A-author"),
            "publisher": x("A-publisher"),
            "url": 'https://example.org/hostile?a=<b>&c="d"',
            "published": "2024-05-01",
            "text": TEXT,
            "headings": [HEADING],
        },
        "bibliography": "studies.json",
        "claims": [
            {
                "key": "K1",
                "quote": QUOTE,
                "section": HEADING,
                "substance": x("C-substance"),
                "claim_type": "efficacy",
                "kind": "quotation",
                "evidence_note": x("C-note"),
                "attribution": {"attributed_to": x("C-who"), "status": x("C-status"), "note": x("C-attrnote")},
                "citations": [{"study": "evil2020", "relation": "supports", "note": x("T-citation")}],
            }
        ],
    }
    path = tmp_path / "article.json"
    path.write_text(json.dumps(article))
    return path


@pytest.fixture
def hostile(db, tmp_path, make_user) -> Claim:
    """An article, claim and study imported from a file full of markup; a review, flag and published
    verdict with markup in every free-text field; a reviewer whose name is markup."""
    call_command("import_article", str(write_article_file(tmp_path)), verbosity=0)
    claim = Claim.objects.get(article__slug="hostile-article", key="K1")
    reviewer = make_user("Reviewers")
    reviewer.first_name, reviewer.last_name = x("U-first"), "Reviewer"
    reviewer.save()
    # readers see a reviewer's name only from a profile they made public
    reviewer_profile_update(
        user=reviewer,
        display_name=x("U-display"),
        credentials=x("U-credentials"),
        field="Psychiatry",
        declared_interests="",
        public=True,
    )
    review_submit(
        claim=claim,
        reviewer=reviewer,
        certainty="low",
        verdict="unsupported",
        rationale=x("R-rationale"),
        **graded("low"),
    )
    flag_raise(claim=claim, reason=Flag.Reason.OVERSTATED, note=x("F-note"))
    publish(claim, verdict="unsupported", certainty="low", published_rationale=x("P-rationale"))
    return claim


def public_pages(claim: Claim) -> dict[str, str]:
    study = Study.objects.get(doi="10.5555/hostile.1")
    return {
        "home": reverse("evidence:home"),
        "article": claim.article.get_absolute_url(),
        "article map": reverse("evidence:article-map", args=[claim.article.slug]),
        "article map by substance": reverse("evidence:article-map", args=[claim.article.slug]) + "?group=substance",
        "gap map": reverse("evidence:gap-map"),
        "claim list": reverse("evidence:claim-list"),
        "claim list searched": reverse("evidence:claim-list") + "?q=ketamine",
        "claim page": claim.get_absolute_url(),
        "study list": reverse("evidence:study-list"),
        "study page": study.get_absolute_url(),
    }


# Where each labelled value must show up, escaped (proving the page renders it at all).
EXPECTED = {
    "home": ["A-title"],
    "article": ["A-title", "A-author", "A-publisher", "H-heading", "Q-quote"],
    "article map": ["A-title", "H-heading", "Q-quote"],
    "article map by substance": ["C-substance"],
    "gap map": ["C-substance"],
    "claim list": ["Q-quote", "A-title"],
    "claim list searched": ["Q-quote"],
    "claim page": ["Q-quote", "A-title", "H-heading", "C-who", "C-attrnote", "S-title", "T-citation", "P-rationale"],
    "study list": ["S-title", "S-journal"],
    "study page": ["S-title", "S-journal", "Q-quote"],
}


def test_markup_imported_from_a_file_is_escaped_on_every_public_page(client, hostile):
    for name, url in public_pages(hostile).items():
        response = client.get(url)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert_no_raw_markup(html, name)
        for tag in EXPECTED[name]:
            assert escaped(tag) in html, f"{name}: {tag} is not shown escaped"


def test_published_reviews_and_flags_are_escaped_on_the_claim_page(client, hostile):
    html = client.get(hostile.get_absolute_url()).content.decode()
    for tag in ("R-rationale", "F-note", "U-display"):
        assert escaped(tag) in html, tag


def test_claimreview_jsonld_cannot_close_its_script_element(client, hostile):
    html = client.get(hostile.get_absolute_url()).content.decode()
    (block,) = jsonld_blocks(html)
    # nothing in the JSON can end the element or open markup: <, > and & are \\u escapes
    assert "<" not in block and ">" not in block and "&" not in block
    data = json.loads(block)
    assert data["claimReviewed"] == hostile.quote
    appearance = data["itemReviewed"]["appearance"]
    assert appearance["headline"] == x("A-title")
    assert appearance["author"]["name"] == x("A-author")
    assert appearance["publisher"]["name"] == x("A-publisher")


def test_the_review_pages_escape_stored_markup(client, hostile, make_user):
    client.force_login(make_user("Editors", "Reviewers"))
    for url, shows_quote in (
        (reverse("reviews:queue"), False),
        (reverse("reviews:review-claim", args=[hostile.pk]), True),
        (reverse("reviews:desk"), False),
        (reverse("reviews:editor-claim", args=[hostile.pk]), True),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert_no_raw_markup(html, url)
        assert not shows_quote or escaped("Q-quote") in html, url
        assert not shows_quote or escaped("R-rationale") in html, url


def strings_in(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for value in data.values() for s in strings_in(value)]
    if isinstance(data, list):
        return [s for value in data for s in strings_in(value)]
    return []


def test_downloads_are_never_served_as_html(client, hostile):
    """Exports carry stored text verbatim (a reference manager needs it so); they are attachments of a
    non-HTML type that browsers may not sniff."""
    for url in (
        reverse("evidence:study-export", args=["bib"]),
        reverse("evidence:study-export", args=["ris"]),
        reverse("evidence:study-export", args=["json"]),
        reverse("evidence:article-studies-export", args=[hostile.article.slug, "bib"]),
        reverse("evidence:claim-export"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "html" not in response["Content-Type"], url
        assert response["Content-Disposition"].startswith("attachment"), url
        assert response["X-Content-Type-Options"] == "nosniff", url
    # the open-data feeds are JSON-LD documents, read by programs
    for name in ("evidence:article-claimreview", "evidence:article-annotations"):
        response = client.get(reverse(name, args=[hostile.article.slug]))
        assert response.status_code == 200, name
        assert response["Content-Type"].startswith("application/ld+json"), name
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert hostile.quote in strings_in(response.json()), name


# --- Hostile text through the admin ----------------------------------------------------------------------


def admin_form_data(response) -> dict[str, Any]:
    """What the admin change form would post unchanged: its fields and its inlines' management forms."""
    data: dict[str, Any] = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for field in formset.management_form:
            data[field.html_name] = field.value()
        forms += formset.forms
    for form in forms:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            data[field.html_name] = "on" if value is True else value
    return data


def admin_save(client, url: str, **changes: Any):
    response = client.get(url)
    assert response.status_code == 200
    data = admin_form_data(response)
    data.update(changes)
    response = client.post(url, data)
    errors = response.context["adminform"].form.errors if response.status_code == 200 else None
    assert response.status_code == 302, errors
    return response


@pytest.mark.slow
def test_markup_saved_through_the_admin_is_escaped_on_the_pages_and_in_the_admin(client, seed, make_user):
    client.force_login(make_user(superuser=True))
    claim = seed.claims.order_by("start").first()
    study = claim.citations.first().study
    admin_save(
        client,
        reverse("admin:evidence_study_change", args=[study.pk]),
        title=x("S-title"),
        container_title=x("S-journal"),
        population=x("S-population"),
        abstract=x("S-abstract"),
        authors=json.dumps([{"family": x("S-family"), "given": "Ann"}]),
    )
    admin_save(
        client,
        reverse("admin:evidence_claim_change", args=[claim.pk]),
        substance=x("C-substance"),
        evidence_note=x("C-note"),
    )
    admin_save(client, reverse("admin:evidence_article_change", args=[seed.pk]), title=x("A-title"))
    study.refresh_from_db()
    assert study.title == x("S-title")  # stored verbatim: escaping is the template's job

    pages = {
        "article": (seed.get_absolute_url(), ["A-title"]),
        "claim page": (claim.get_absolute_url(), ["A-title", "C-note", "S-title", "S-family"]),
        "claim list": (reverse("evidence:claim-list"), ["A-title"]),
        "study page": (study.get_absolute_url(), ["S-title", "S-journal", "S-population"]),
        "study list": (reverse("evidence:study-list") + "?q=alert", ["S-title"]),
        "gap map": (reverse("evidence:gap-map"), ["C-substance"]),
        "admin claims": (reverse("admin:evidence_claim_changelist"), ["A-title"]),
        "admin studies": (reverse("admin:evidence_study_changelist"), ["S-title"]),
        "admin study": (reverse("admin:evidence_study_change", args=[study.pk]), ["S-title"]),
        "admin history": (reverse("admin:evidence_study_history", args=[study.pk]), []),
    }
    for name, (url, tags) in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert_no_raw_markup(html, name)
        for tag in tags:
            assert escaped(tag) in html or escaped(tag).replace("&quot;", "&#x27;") in html, f"{name}: {tag}"


@pytest.mark.slow
def test_a_javascript_url_is_refused_by_the_admin(client, seed, make_user):
    client.force_login(make_user(superuser=True))
    url = reverse("admin:evidence_article_change", args=[seed.pk])
    data = admin_form_data(client.get(url))
    data["url"] = "javascript:alert(1)"
    response = client.post(url, data)
    assert response.status_code == 200 and "url" in response.context["adminform"].form.errors


# --- Malformed, huge and wrongly typed parameters ---------------------------------------------------------

PARAMETERS = [
    "q",
    "page",
    "sort",
    "article",
    "substance",
    "claim_type",
    "verdict",
    "certainty",
    "status",
    "flagged",
    "retracted",
    "unsupported",
    "design",
    "year_min",
    "year_max",
    "verified",
    "group",
    "format",
]
NASTY = [
    "",
    " ",
    "-1",
    "0",
    "1e309",
    "NaN",
    "Infinity",
    "99999999999999999999999999",
    "-99999999999999999999",
    "1.5",
    "0x10",
    "[]",
    "{}",
    "null",
    "' OR 1=1 --",
    '"; DROP TABLE evidence_claim; --',
    "\x00",
    "a\x00b",
    "%00",
    "\u202e\ufeff",
    "😀" * 50,
    "<script>alert(1)</script>",
    'ketamine -mdma "quoted phrase" OR (x',
    "10.1000/xyz",
    "PMID: 0000123",
    "x" * 5000,
    "word " * 2000,
    "!!&&||::**",
    "é" * 300,
]
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
VALUES = st.one_of(st.sampled_from(NASTY), ANY_TEXT, st.integers().map(str), st.floats().map(str))
NAMES = st.one_of(st.sampled_from(PARAMETERS), ANY_TEXT.filter(bool))
QUERIES = st.lists(st.tuples(NAMES, VALUES), max_size=8)
# raw query strings, not produced by urlencode: bad percent escapes, invalid UTF-8, stray separators
RAW = st.one_of(
    st.sampled_from(
        [
            "q=%ff%fe%00",
            "q=%zz",
            "q=%",
            "page=%00",
            "&&&==&",
            "q=a&q=b&q=c",
            "sort[]=newest",
            "page=1;page=2",
            "year_min=%E2%80%AE9",
            "article=%C0%AE%C0%AE",
            "q=" + "%41" * 3000,
        ]
    ),
    st.text(alphabet="abcqpagesortyear_min=&%0123456789fFxX;+", max_size=200),
)

LIST_PAGES = [
    "/",
    "/claims/",
    "/studies/",
    "/map/",
    "/articles/ketamine-vs-mdma-in-psychotherapy/map/",
    "/studies/export.bib",
    "/claims/export.csv",
]


def answer(client: Client, path: str, query: list[tuple[str, str]] | str) -> int:
    response = client.get(f"{path}?{query}") if isinstance(query, str) else client.get(path, query)
    return response.status_code


@pytest.fixture
def published_seed(seed):
    publish(seed.claims.order_by("start").first())
    return seed


@pytest.mark.slow
@pytest.mark.parametrize("path", LIST_PAGES)
def test_any_query_string_gives_a_page_or_a_400(client, published_seed, path: str):
    """Hypothesis over parameter names and values (known and arbitrary) and raw query strings. The
    client raises any exception a view lets out, so a 500 would fail with its traceback."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(query=st.one_of(QUERIES, RAW))
    def check(query):
        status = answer(client, path, query)
        assert status in (200, 400), (path, query, status)

    check()


@pytest.mark.slow
@pytest.mark.parametrize("path", LIST_PAGES)
def test_each_nasty_value_in_every_parameter_at_once(client, published_seed, path: str):
    """Every catalogued value in all the parameters of one request (each filter validates on its own):
    ignored (200) or, for a NUL character, a 400."""
    for value in NASTY:
        status = answer(client, path, [(name, value) for name in PARAMETERS])
        assert status == (400 if "\x00" in value else 200), (path, value, status)
        status = answer(client, path, [("q", value)])  # the search alone reaches the full-text query
        assert status == (400 if "\x00" in value else 200), (path, value, status)


@pytest.mark.django_db
def test_a_nul_character_in_the_query_string_is_a_400_page_everywhere(client, make_user):
    client.force_login(make_user(superuser=True))
    for url in (
        "/claims/?q=%00",
        "/studies/?q=ket%00amine",
        "/?page=%00",
        "/admin/evidence/claim/?q=%00",
        "/admin/evidence/study/?design__exact=%00",
        "/claims/?%00=1",
        "/claims/%00/",
    ):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "could not be understood" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.slow
def test_the_admin_search_and_filters_take_nasty_values(client, seed, make_user):
    client.force_login(make_user(superuser=True))
    for changelist in ("evidence_claim", "evidence_study", "evidence_article", "reviews_review", "reviews_flag"):
        url = reverse(f"admin:{changelist}_changelist")
        for query in ("q=%27%22%3C", "q=" + "x" * 5000, "p=-1", "p=abc", "o=99", "status__exact=<b>", "e=1"):
            response = client.get(f"{url}?{query}")
            assert response.status_code in (200, 302), (url, query)


# --- Unknown and malformed ids ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/claims/999999/",
        "/claims/0/",
        "/claims/99999999999999999999999999/",
        "/claims/abc/",
        "/claims/-1/",
        "/claims/1.5/",
        "/studies/999999/",
        "/studies/99999999999999999999999999/",
        "/studies/abc/",
        "/articles/no-such-article/",
        "/articles/no-such-article/map/",
        "/articles/no-such-article/studies.bib",
        "/articles/%3Cscript%3E/",
        "/studies/export.exe",
        "/no/such/page/",
    ],
)
def test_unknown_or_malformed_ids_are_a_404_page(client, url: str):
    response = client.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert "There is nothing at this address" in html and 'class="site-header"' in html
    assert "<script" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/review/claims/999999/",
        "/review/claims/99999999999999999999999999/",
        "/editor/claims/999999/",
        "/editor/queues/no-such-queue/",
        "/editor/flags/999999/resolve/",
    ],
)
def test_unknown_ids_in_the_review_pages_are_a_404(client, make_user, url: str):
    client.force_login(make_user("Editors", "Reviewers"))
    response = client.post(url) if "/flags/" in url else client.get(url)
    assert response.status_code == 404


@pytest.mark.django_db
def test_the_404_page_needs_no_database(client):
    """Error pages render from templates alone: no query, so they work while the database is down."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/no/such/page/")
    assert response.status_code == 404 and len(queries) == 0


# --- Oversized bodies and uploads ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_form_post_over_the_limit_is_refused_with_its_limit(client):
    from django.conf import settings as django_settings

    body = "username=a&password=" + "x" * django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = client.post(reverse("login"), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "at most 2.5 MB" in response.content.decode()


@pytest.mark.django_db
def test_a_post_with_too_many_fields_is_a_400_not_a_500(client):
    from django.conf import settings as django_settings

    body = "&".join(f"f{i}=1" for i in range(django_settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = client.post(reverse("login"), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "could not be understood" in response.content.decode()


@pytest.mark.django_db
def test_an_upload_over_the_limit_is_refused_before_it_is_read(client, make_user):
    from django.conf import settings as django_settings

    client.force_login(make_user("Curators"))
    big = SimpleUploadedFile("huge.bib", b"%" * (django_settings.MAX_UPLOAD_SIZE + 1), content_type="text/plain")
    response = client.post(reverse("admin:evidence_study_import"), {"file": big})
    assert response.status_code == 413
    assert "at most 10 MB" in response.content.decode()


@pytest.mark.django_db
def test_an_upload_over_the_forms_limit_gets_the_forms_message(client, make_user):
    from evidence.bibliography_upload import MAX_UPLOAD_BYTES

    client.force_login(make_user("Curators"))
    big = SimpleUploadedFile("big.bib", b"%" * (MAX_UPLOAD_BYTES + 1), content_type="text/plain")
    response = client.post(reverse("admin:evidence_study_import"), {"file": big})
    assert response.status_code == 200
    assert "larger than 5 MB" in response.content.decode()
    assert Study.objects.count() == 0


BIBTEX = b"""@article{evil,
  title = {A perfectly ordinary trial},
  author = {Tester, Ada},
  journal = {Journal of Tests},
  year = {2021},
  doi = {10.5555/upload.1}
}
"""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "../../../../tmp/evidence-upload-escape.bib",
        "/etc/evidence-upload-escape.bib",
        "..\\..\\evidence-upload-escape.bib",
        "<script>alert(1)</script>.bib",
        "evidence-upload-escape.bib\x00.php",
    ],
)
def test_an_uploads_name_cannot_write_anywhere_and_is_shown_escaped(client, make_user, tmp_path, name: str):
    """The bibliography upload keeps the file's text in the session, never on disk; the name is only
    shown (escaped) and recorded as the source of each study."""
    client.force_login(make_user("Curators"))
    upload = SimpleUploadedFile(name, BIBTEX, content_type="application/x-php")
    response = client.post(reverse("admin:evidence_study_import"), {"file": upload})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)" not in html
    assert "1 created" in html, html  # read as BibTeX by its content, whatever its name and type
    for place in (Path("/tmp"), Path("/etc"), Path.cwd(), Path.cwd().parent):
        assert not (place / "evidence-upload-escape.bib").exists()
    token = client.session["evidence.bibliography_upload"]["token"]
    response = client.post(reverse("admin:evidence_study_import"), {"token": token})
    assert response.status_code == 302
    assert Study.objects.filter(doi="10.5555/upload.1").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("paper.bib", (Path(__file__).parent / "samples" / "broken-binary.pdf").read_bytes()),
        ("empty.bib", b""),
        ("nul.bib", b"@article{a, title={x\x00y}, year={2020}}"),
        ("latin1.ris", "TY  - JOUR\nTI  - Caf\xe9\nER  - \n".encode("latin-1")),
    ],
)
def test_an_upload_that_is_not_a_bibliography_gets_a_message_not_a_500(client, make_user, name, content):
    client.force_login(make_user("Curators"))
    response = client.post(reverse("admin:evidence_study_import"), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 200


# --- Import files ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"title": "A\x00B"},
        {"text": "Text with a NUL \x00 in it.\n"},
        {"title": "x" * 10_000},
        {"slug": "../../etc/passwd"},
        {"url": "javascript:alert(1)"},
        {"published": "2024-13-45"},
        {"headings": "not a list"},
    ],
    ids=["nul-title", "nul-text", "huge-title", "path-slug", "javascript-url", "bad-date", "bad-headings"],
)
def test_a_bad_article_file_is_refused_with_a_message(tmp_path, change: dict[str, Any]):
    path = write_article_file(tmp_path)
    data = json.loads(path.read_text())
    data["article"].update(change)
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_article", str(path), verbosity=0)
    assert not Article.objects.exists()


def test_a_nul_character_in_a_json_field_of_the_admin_is_a_form_error(client, seed, make_user):
    """PostgreSQL's jsonb cannot store \\u0000: the form says so instead of the save failing (a 500)."""
    client.force_login(make_user(superuser=True))
    study = seed.claims.order_by("start").first().citations.first().study
    url = reverse("admin:evidence_study_change", args=[study.pk])
    data = admin_form_data(client.get(url))
    data["authors"] = json.dumps([{"family": "Nul\u0000Byte", "given": "Ada"}])
    response = client.post(url, data)
    assert response.status_code == 200
    assert "NUL characters are not allowed" in str(response.context["adminform"].form.errors["authors"])


# --- The API -------------------------------------------------------------------------------------------

API_LISTS = ["/api/articles/", "/api/claims/", "/api/studies/", "/api/citations/", "/api/flags/", "/api/reviews/"]


@pytest.fixture
def unthrottled(settings):
    """The API's rates are per minute; the fuzzing sends hundreds of requests from one address."""
    rates = dict.fromkeys(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def api_error(response) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["status"] == response.status_code
    return body


@pytest.mark.slow
@pytest.mark.parametrize("path", API_LISTS)
def test_any_query_string_on_the_api_gives_json_never_a_500(client, published_seed, unthrottled, path: str):
    """200, or the API's JSON error: 400 for a filter value it refuses, 404 for a page that does not exist."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(query=st.one_of(QUERIES, RAW))
    def check(query):
        response = client.get(f"{path}?{query}") if isinstance(query, str) else client.get(path, query)
        assert response.status_code in (200, 400, 404), (path, query, response.status_code)
        if response.status_code != 200:
            api_error(response)

    check()


@pytest.mark.slow
@pytest.mark.parametrize("path", API_LISTS)
def test_each_nasty_value_on_the_api(client, published_seed, unthrottled, path: str):
    for value in NASTY:
        for query in ([(name, value) for name in PARAMETERS], [("q", value)], [("page", value)]):
            response = client.get(path, query)
            if "\x00" in value:
                assert response.status_code == 400 and api_error(response), (path, value)
            else:
                assert response.status_code in (200, 400, 404), (path, query, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/claims/999999/",
        "/api/claims/abc/",
        "/api/claims/99999999999999999999999999/",
        "/api/studies/999999/",
        "/api/studies/-1/",
        "/api/articles/no-such-article/",
        "/api/citations/999999/",
        "/api/flags/999999/",
        "/api/reviews/999999/",
        "/api/no-such-endpoint/",
    ],
)
def test_unknown_ids_on_the_api_are_a_json_404(client, unthrottled, url: str):
    response = client.get(url)
    assert response.status_code == 404
    assert api_error(response)["code"] == "not_found"


@pytest.mark.django_db
def test_an_oversized_json_body_is_a_json_413(client, make_user, unthrottled):
    from django.conf import settings as django_settings

    client.force_login(make_user("Curators"))
    body = json.dumps({"title": "x" * (django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = client.post("/api/studies/", body, content_type="application/json")
    assert response.status_code == 413
    api_error(response)


def test_markup_sent_through_the_api_is_escaped_on_the_pages(client, seed, make_user, unthrottled):
    claim = seed.claims.order_by("start").first()
    curator, reviewer, editor = make_user("Curators"), make_user("Reviewers"), make_user("Editors")

    client.force_login(curator)
    response = client.post(
        "/api/studies/",
        {"title": x("S-title"), "container_title": x("S-journal"), "authors": [{"family": x("S-family")}]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["title"] == x("S-title")  # JSON carries the text as it is
    study_id = response.json()["id"]
    response = client.post(
        "/api/citations/",
        {"claim": claim.pk, "study": study_id, "relation": "supports", "note": x("T-citation")},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content

    client.force_login(reviewer)
    response = client.put(
        f"/api/claims/{claim.pk}/review/",
        {**grade_fields("low"), "certainty": "low", "verdict": "unsupported", "rationale": x("R-rationale")},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content

    client.force_login(editor)
    response = client.post(
        "/api/flags/", {"claim": claim.pk, "reason": "overstated", "note": x("F-note")}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    publish(claim)
    client.logout()

    for url, tags in {
        claim.get_absolute_url(): ["S-title", "S-family", "T-citation", "R-rationale", "F-note"],
        reverse("evidence:study-detail", args=[study_id]): ["S-title", "S-journal"],
        reverse("evidence:study-list") + "?q=alert": ["S-title"],
    }.items():
        html = client.get(url).content.decode()
        assert_no_raw_markup(html, url)
        for tag in tags:
            assert escaped(tag) in html, f"{url}: {tag}"
    response = client.get(f"/api/claims/{claim.pk}/")
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
