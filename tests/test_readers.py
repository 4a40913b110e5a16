"""Readers' trust and reach (issue 23): the Atom feeds of published verdicts, the embeddable claim card and
its oEmbed endpoint, the methodology and about pages, the article's source, the home page, reader reports."""

from __future__ import annotations

from datetime import timedelta

import feedparser
import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from evidence.models import Claim, SitePage
from evidence.services import article_revise
from evidence.status import STATUSES
from reviews.models import Certainty, Consensus, ReaderReport, ReviewerProfile
from reviews.services import reader_report_submit, reviewer_profile_update
from tests.builders import ArticleFactory, ReviewFactory, add_claim, publish

# the GRADE downgrade domains as the methodology's anchors name them
TERM_DOWNGRADES = ["risk-of-bias", "inconsistency", "indirectness", "imprecision", "publication-bias"]

pytestmark = pytest.mark.django_db


def _feed(client, url: str) -> feedparser.FeedParserDict:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    return feedparser.parse(response.content)


# --- Atom feeds --------------------------------------------------------------------------------------------


def test_a_verdict_published_again_is_a_new_entry_and_a_refresh_is_not(client):
    article = ArticleFactory()
    claim = add_claim(article)
    first = timezone.now() - timedelta(days=3)
    publish(claim, verdict="supported", published_at=first)
    Consensus.objects.filter(claim=claim).update(n_reviews=3)  # a late review refreshes it: no publication
    publish(claim, verdict="contradicted", certainty="low", published_at=first + timedelta(days=1))

    entries = _feed(client, reverse("evidence:verdict-feed")).entries

    assert [entry.title.split(" (")[0] for entry in entries] == ["Contradicted", "Supported"]
    assert entries[0].title.startswith("Contradicted (low certainty)")
    assert len({entry.id for entry in entries}) == 2
    assert entries[0].link == f"http://testserver{claim.verdict_versions.get(number=2).get_absolute_url()}"


def test_an_orphans_verdicts_leave_the_feeds(client):
    article = ArticleFactory()
    kept = add_claim(article, "Ketamine lifts mood within hours.")
    lost = add_claim(article, "MDMA heals everything at once.")
    publish(kept)
    publish(lost)
    article_revise(article=article, text=article.text.replace(lost.quote, "Something else."), headings=article.headings)

    for url in (reverse("evidence:verdict-feed"), reverse("evidence:article-verdict-feed", args=[article.slug])):
        titles = [entry.title for entry in _feed(client, url).entries]
        assert titles == [f"Supported (moderate certainty): “{kept.quote}”"], url


def test_the_article_feed_holds_only_its_own_claims_and_unknown_articles_are_404(client):
    mine, other = ArticleFactory(), ArticleFactory()
    publish(add_claim(mine, "Mine says ketamine works."))
    publish(add_claim(other, "Other says MDMA works."))

    entries = _feed(client, reverse("evidence:article-verdict-feed", args=[mine.slug])).entries

    assert [entry.title for entry in entries] == ["Supported (moderate certainty): “Mine says ketamine works.”"]
    assert client.get(reverse("evidence:article-verdict-feed", args=["no-such-article"])).status_code == 404


def test_feed_text_is_escaped_not_markup(client):
    claim = add_claim(ArticleFactory(), "Ketamine <b>lifts</b> mood & more.")
    publish(claim, published_rationale="Because <script>alert(1)</script> & so on.")

    entry = _feed(client, reverse("evidence:verdict-feed")).entries[0]

    assert "<b>lifts</b>" in entry.title  # plain text in the title, shown as typed
    assert "<script>" not in entry.summary
    assert "&lt;script&gt;" in entry.summary


def test_unpublished_claims_are_not_in_the_feed(client):
    add_claim(ArticleFactory())
    assert _feed(client, reverse("evidence:verdict-feed")).entries == []


def test_the_feed_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    article = ArticleFactory()
    for _ in range(5):
        publish(add_claim(article))
    with django_assert_max_num_queries(3):  # the data version, the article, the events with their claims
        client.get(reverse("evidence:article-verdict-feed", args=[article.slug]))


def test_pages_announce_their_feeds(client):
    article = ArticleFactory()
    page = client.get(article.get_absolute_url()).content.decode()
    assert f'title="Verdicts on this article (Atom)" href="/articles/{article.slug}/verdicts.atom"' in page
    assert 'href="/feeds/verdicts.atom"' in client.get(reverse("evidence:home")).content.decode()


# --- The claim card and oEmbed ------------------------------------------------------------------------------


def test_the_card_shows_the_verdict_sets_no_cookie_and_has_its_own_frame_policy(client, settings):
    settings.EMBED_ORIGINS = ["https://publisher.example"]
    claim = add_claim(ArticleFactory(title="Ketamine <i>news</i>"), "Ketamine lifts mood within hours.")
    publish(claim, verdict="contradicted", certainty="low")

    response = client.get(reverse("evidence:claim-embed", args=[claim.pk]))

    assert response.status_code == 200
    assert not response.cookies
    assert "X-Frame-Options" not in response
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["frame-ancestors"] == "'self' https://publisher.example"
    assert policy["script-src"] == "'none'"
    page = response.content.decode()
    assert "<script" not in page and "<form" not in page
    assert "Contradicted" in page and "Low certainty" in page and "verdict of" in page
    assert "Ketamine &lt;i&gt;news&lt;/i&gt;" in page
    assert f'href="{claim.get_absolute_url()}" target="_blank" rel="noopener"' in page


def test_other_pages_still_refuse_every_frame(client, settings):
    settings.EMBED_ORIGINS = ["https://publisher.example"]
    claim = add_claim(ArticleFactory())
    response = client.get(claim.get_absolute_url())
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_the_card_of_an_orphan_withholds_its_verdict(client):
    article = ArticleFactory()
    claim = add_claim(article, "MDMA heals everything at once.")
    publish(claim, verdict="supported")
    article_revise(article=article, text=article.text.replace(claim.quote, "Something else."), headings=[])

    page = client.get(reverse("evidence:claim-embed", args=[claim.pk])).content.decode()

    assert "verdict is withdrawn" in page
    assert "status-badge" not in page


def test_the_card_of_an_unknown_claim_is_404(client):
    assert client.get(reverse("evidence:claim-embed", args=[999999])).status_code == 404


def test_oembed_answers_for_a_claim_page_with_an_iframe_of_its_card(client):
    claim = add_claim(ArticleFactory(title='Quotes " and <tags>'))
    page = client.get(claim.get_absolute_url()).content.decode()
    assert 'type="application/json+oembed"' in page  # discovery

    response = client.get(reverse("evidence:oembed"), {"url": f"http://testserver{claim.get_absolute_url()}"})

    assert response.status_code == 200
    data = response.json()
    assert data["version"] == "1.0" and data["type"] == "rich"
    assert (data["width"], data["height"]) == (480, 260)
    assert f'src="http://testserver/claims/{claim.pk}/embed/"' in data["html"]
    assert 'title="Evidence review of a claim in “Quotes &quot; and &lt;tags&gt;”"' in data["html"]
    assert "<script" not in data["html"]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({}, 404),
        ({"url": "http://elsewhere.example/claims/1/"}, 404),
        ({"url": "http://testserver/studies/1/"}, 404),
        ({"url": "http://testserver/claims/999999/"}, 404),
        ({"url": "not a url at all"}, 404),
        ({"url": "CLAIM", "format": "xml"}, 501),
        ({"url": "CLAIM", "maxwidth": "wide"}, 400),
        ({"url": "CLAIM", "maxwidth": "100"}, 404),
    ],
)
def test_oembed_refuses_what_it_cannot_answer_with_a_json_error(client, query, status):
    claim = add_claim(ArticleFactory())
    if query.get("url") == "CLAIM":
        query["url"] = f"http://testserver{claim.get_absolute_url()}"
    response = client.get(reverse("evidence:oembed"), query)
    assert response.status_code == status
    assert response.json()["error"]


def test_oembed_shrinks_the_card_to_the_consumers_maximum(client):
    claim = add_claim(ArticleFactory())
    url = f"http://testserver{claim.get_absolute_url()}embed/"
    data = client.get(reverse("evidence:oembed"), {"url": url, "maxwidth": "300", "maxheight": "999"}).json()
    assert (data["width"], data["height"]) == (300, 260)


# --- How we judge, and who we are ------------------------------------------------------------------------------


def test_methodology_explains_every_term_the_claim_pages_use(client, seed):
    page = client.get(reverse("evidence:methodology")).content.decode()
    for anchor in [
        *(f'id="type-{value}"' for value in Claim.ClaimType.values),
        *(f'id="certainty-{value}"' for value in Certainty.values),
        *(f'id="verdict-{key}"' for key in STATUSES),
        *(f'id="downgrade-{key}"' for key in TERM_DOWNGRADES),
        'id="upgrade"',
        'id="blind-review"',
        'id="adjudication"',
        'id="publication"',
        'id="re-review"',
    ]:
        assert anchor in page, anchor
    example = Claim.objects.get(article=seed, key="M14")
    assert f'href="{example.get_absolute_url()}"' in page  # the worked example links to its claim


def test_methodology_without_the_seed_has_no_example_link(client):
    response = client.get(reverse("evidence:methodology"))
    assert response.status_code == 200
    assert "the claim’s page</a>)" not in response.content.decode()


def test_about_shows_the_editors_texts_the_corrections_policy_and_the_contact_address(client, settings):
    settings.CONTACT_EMAIL = "corrections@news.example"
    page = client.get(reverse("evidence:about")).content.decode()
    assert 'id="corrections"' in page and "Corrections policy" in page
    assert 'href="mailto:corrections@news.example"' in page
    assert "/edit/" not in page  # readers get no edit link


def test_an_editor_edits_the_about_page_and_the_history_keeps_the_old_text(client, make_user):
    editor = make_user("Editors")
    client.force_login(editor)
    about = SitePage.objects.get(slug="about")
    old_body = about.body
    edit = reverse("evidence:site-page-edit", args=["about"])
    assert 'href="/about/about/edit/"' in client.get(reverse("evidence:about")).content.decode()

    response = client.post(edit, {"title": "About us", "body": "We check <b>claims</b>.\r\n\r\nSecond paragraph."})

    assert response.status_code == 302
    about.refresh_from_db()
    assert (about.title, about.body) == ("About us", "We check <b>claims</b>.\n\nSecond paragraph.")
    versions = list(about.history.order_by("history_date", "history_id"))
    assert versions[0].body == old_body and versions[-1].history_user == editor
    page = client.get(reverse("evidence:about")).content.decode()
    assert "<p>We check &lt;b&gt;claims&lt;/b&gt;.</p>" in page
    assert "Second paragraph." in client.get(edit).content.decode()  # the versions under the form


def test_only_editors_edit_the_about_page(client, make_user):
    edit = reverse("evidence:site-page-edit", args=["about"])
    anonymous = client.post(edit, {"title": "Hacked", "body": "Hacked"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(make_user("Reviewers"))
    assert client.post(edit, {"title": "Hacked", "body": "Hacked"}).status_code == 403
    assert SitePage.objects.get(slug="about").title != "Hacked"


def test_a_refused_about_edit_says_why_and_unknown_pages_are_404(client, make_user):
    client.force_login(make_user("Editors"))
    response = client.post(reverse("evidence:site-page-edit", args=["about"]), {"title": "", "body": "x\x00y"})
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert client.get(reverse("evidence:site-page-edit", args=["nope"])).status_code == 404


def test_the_claim_page_links_its_terms_to_the_methodology(client):
    claim = add_claim(ArticleFactory(), claim_type=Claim.ClaimType.DURABILITY)
    publish(claim, verdict="partly_supported", certainty="very_low")
    page = client.get(claim.get_absolute_url()).content.decode()
    for anchor in ("type-durability", "verdict-partly_supported", "certainty-very_low"):
        assert f'href="/methodology/#{anchor}"' in page, anchor


# --- The home page ----------------------------------------------------------------------------------------


def test_the_home_page_gives_each_articles_source_and_verdicts(client):
    article = ArticleFactory(author="Jane <Writer>", publisher="Health News", url="https://news.example/story")
    publish(add_claim(article), verdict="supported")
    publish(add_claim(article), verdict="supported")
    publish(add_claim(article), verdict="contradicted")
    add_claim(article)
    orphan = add_claim(article, "This sentence will be revised away.")
    publish(orphan, verdict="unsupported")
    article_revise(article=article, text=article.text.replace(orphan.quote, "Gone."), headings=[])

    page = client.get(reverse("evidence:home")).content.decode()

    assert "By Jane &lt;Writer&gt; · Health News" in page
    assert 'href="https://news.example/story" rel="noopener"' in page
    summary = page[page.index('class="verdict-summary"') :]
    summary = summary[: summary.index("</p>")]
    counts = [
        (item.split('"verdict-count">')[1].split("<")[0], item.split("status-badge status-")[1].split('"')[0])
        for item in summary.split('class="verdict-item">')[1:]
    ]
    # the orphan's verdict is not counted: the article no longer says its words
    assert counts == [("2", "supported"), ("1", "contradicted"), ("1", "unreviewed")]
    assert 'href="/methodology/"' in page


def test_the_home_page_stays_two_queries_with_verdict_counts(client, django_assert_num_queries):
    for _ in range(3):
        article = ArticleFactory()
        publish(add_claim(article))
    with django_assert_num_queries(3):  # the data version, the count, the page
        client.get(reverse("evidence:home"))


# --- Reader reports -------------------------------------------------------------------------------------------

REPORT = {"kind": "missing_study", "message": "The 2019 trial is missing <script>x</script>.", "reply_to": ""}


def _report(client, claim, **fields):
    return client.post(reverse("reviews:report", args=[claim.pk]), {**REPORT, **fields})


def test_a_reader_reports_a_problem_without_an_account_and_it_reaches_the_desk(client, make_user):
    claim = add_claim(ArticleFactory())
    claim_page = client.get(claim.get_absolute_url())
    assert f'href="/claims/{claim.pk}/report/"' in claim_page.content.decode()
    assert "csrftoken" not in claim_page.cookies  # the claim's page stays cacheable: the form is on its own page
    page = client.get(reverse("reviews:report", args=[claim.pk])).content.decode()
    assert f'action="/claims/{claim.pk}/report/"' in page and 'name="csrfmiddlewaretoken"' in page

    response = _report(client, claim, reply_to="reader@example.org")

    assert response.status_code == 302 and response["Location"] == f"/claims/{claim.pk}/report/sent/"
    assert "Thank you" in client.get(response["Location"]).content.decode()
    report = ReaderReport.objects.get()
    assert (report.claim, report.kind, report.reply_to, report.status) == (
        claim,
        "missing_study",
        "reader@example.org",
        "open",
    )
    client.force_login(make_user("Editors"))
    desk = client.get(reverse("reviews:desk")).content.decode()
    assert 'id="queue-reports"' in desk
    assert "The 2019 trial is missing &lt;script&gt;x&lt;/script&gt;." in desk
    assert 'href="mailto:reader@example.org"' in desk


def test_the_report_form_needs_its_csrf_token(make_user):
    from django.test import Client

    claim = add_claim(ArticleFactory())
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("reviews:report", args=[claim.pk]), REPORT).status_code == 403
    assert not ReaderReport.objects.exists()


def test_the_honeypot_drops_a_report_without_telling_the_robot(client):
    claim = add_claim(ArticleFactory())
    response = _report(client, claim, website="http://spam.example")
    assert response.status_code == 302  # thanked like anyone
    assert not ReaderReport.objects.exists()


def test_the_rate_limit_refuses_the_sixth_report_of_the_hour(client, settings):
    settings.READER_REPORTS_PER_HOUR = 5
    claim = add_claim(ArticleFactory())
    for _ in range(5):
        assert _report(client, claim).status_code == 302
    refused = _report(client, claim)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many reports" in refused.content.decode()
    assert ReaderReport.objects.count() == 5
    other = client.post(
        reverse("reviews:report", args=[claim.pk]), REPORT, REMOTE_ADDR="198.51.100.7"
    )  # another address has its own allowance
    assert other.status_code == 302


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "nonsense"},
        {"kind": ""},
        {"message": "   "},
        {"message": "x" * 2001},
        {"message": "a\x00b"},
        {"reply_to": "not an address"},
    ],
)
def test_bad_reports_are_refused_with_reasons_not_500(client, fields):
    claim = add_claim(ArticleFactory())
    response = _report(client, claim, **fields)
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert not ReaderReport.objects.exists()


def test_reports_on_unknown_claims_are_refused_and_other_methods_too(client):
    assert client.post(reverse("reviews:report", args=[999999]), REPORT).status_code == 404
    assert client.get(reverse("reviews:report", args=[999999])).status_code == 404
    claim = add_claim(ArticleFactory())
    assert client.get(reverse("reviews:report", args=[claim.pk])).status_code == 200  # the form's own page
    assert client.put(reverse("reviews:report", args=[claim.pk]), REPORT).status_code == 405


def test_an_editor_closes_a_report_and_others_cannot(client, make_user):
    claim = add_claim(ArticleFactory())
    report = reader_report_submit(claim=claim, kind="outdated", message="A 2025 meta-analysis changed this.")
    close = reverse("reviews:report-close", args=[report.pk])
    anonymous = client.post(close)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(make_user("Reviewers"))
    assert client.post(close).status_code == 403
    editor = make_user("Editors")
    client.force_login(editor)

    assert client.post(close).status_code == 302

    report.refresh_from_db()
    assert (report.status, report.closed_by) == ("closed", editor)
    assert "A 2025 meta-analysis" not in client.get(reverse("reviews:desk")).content.decode()
    again = client.post(close, follow=True)
    assert "closed already" in again.content.decode()


# --- The article's source ----------------------------------------------------------------------------------------


def test_the_article_header_names_its_source_and_links_the_revision(client):
    article = ArticleFactory(
        author="Jane <Writer>",
        publisher="Health News",
        url="https://news.example/story",
        published_on=timezone.localdate() - timedelta(days=30),
    )
    add_claim(article, "Ketamine lifts mood within hours.")
    header = client.get(article.get_absolute_url()).content.decode()
    header = header[header.index('<header class="page-header">') :]
    header = header[: header.index("</header>")]
    assert "By Jane &lt;Writer&gt; · Health News" in header
    assert 'href="https://news.example/story"' in header
    assert "Revised on" not in header

    article_revise(article=article, text=article.text + "A new paragraph.\n", headings=article.headings)
    cache.clear()  # the data version moves only when a transaction commits, which this test's never does

    page = client.get(article.get_absolute_url()).content.decode()
    assert f'href="/articles/{article.slug}/revisions/2/">Revised on' in page


# --- Reviewer profiles -------------------------------------------------------------------------------------------


def _reviewed_claim(*reviewers):
    claim = add_claim(ArticleFactory())
    for reviewer in reviewers:
        ReviewFactory(claim=claim, reviewer=reviewer)
    publish(claim)
    return claim


def test_reviewers_are_letters_until_they_opt_in(client, make_user):
    anna, ben = make_user("Reviewers", username="anna-login"), make_user("Reviewers", username="ben-login")
    claim = _reviewed_claim(anna, ben)
    reviewer_profile_update(
        user=ben,
        display_name="Dr Ben <Carter>",
        credentials="MD",
        field="Psychiatry",
        declared_interests="None.",
        public=True,
    )
    reviewer_profile_update(
        user=anna, display_name="Anna Private", credentials="", field="", declared_interests="", public=False
    )

    page = client.get(claim.get_absolute_url()).content.decode()

    assert "by Reviewer A," in page
    assert f'<a href="/reviewers/{ben.pk}/">Dr Ben &lt;Carter&gt;</a>, MD' in page
    assert "anna-login" not in page.split('id="reviews-heading"')[1].split("</section>")[0]
    assert "Anna Private" not in page
    profile = client.get(reverse("reviews:reviewer-profile", args=[ben.pk])).content.decode()
    assert "Dr Ben &lt;Carter&gt;" in profile and "Psychiatry" in profile and claim.quote in profile
    assert client.get(reverse("reviews:reviewer-profile", args=[anna.pk])).status_code == 404
    assert client.get(reverse("reviews:reviewer-profile", args=[999999])).status_code == 404


def test_a_reviewer_edits_their_own_profile_only(client, make_user):
    edit = reverse("reviews:reviewer-profile-edit")
    assert "/accounts/login/" in client.get(edit)["Location"]
    reader = make_user()
    client.force_login(reader)
    assert client.get(edit).status_code == 403
    reviewer = make_user("Reviewers")
    client.force_login(reviewer)
    fields = {"display_name": "Dr Ada", "credentials": "PhD", "field": "Pharmacology", "declared_interests": ""}

    refused = client.post(edit, {**fields, "display_name": "", "public": "on"})
    assert refused.status_code == 200 and "There is a problem" in refused.content.decode()
    assert client.post(edit, {**fields, "public": "on"}).status_code == 302

    profile = ReviewerProfile.objects.get(user=reviewer)
    assert (profile.display_name, profile.public) == ("Dr Ada", True)
    assert profile.history.first().history_user == reviewer


def test_the_claim_page_queries_do_not_grow_with_reviewer_profiles(client, make_user, django_assert_max_num_queries):
    reviewers = [make_user("Reviewers") for _ in range(3)]
    claim = _reviewed_claim(*reviewers)
    for reviewer in reviewers:
        reviewer_profile_update(
            user=reviewer, display_name="Dr X", credentials="", field="", declared_interests="", public=True
        )
    with django_assert_max_num_queries(9):
        client.get(claim.get_absolute_url())


# --- The overlay's data ---------------------------------------------------------------------------------------------


def test_annotations_by_the_publishers_address(client):
    article = ArticleFactory(url="https://news.example/story")
    add_claim(article, "Ketamine lifts mood within hours.")
    for url in ("https://news.example/story", "https://news.example/story/", "https://news.example/story#top"):
        response = client.get(reverse("evidence:annotations-for-url"), {"url": url})
        assert response.status_code == 200, url
        assert response["Access-Control-Allow-Origin"] == "*"
        assert response.json()["total"] == 1
    assert client.get(reverse("evidence:annotations-for-url"), {"url": "https://other.example/"}).status_code == 404
    assert client.get(reverse("evidence:annotations-for-url")).status_code == 400


def test_the_overlay_script_has_a_stable_address(client):
    response = client.get("/embed/overlay.js")
    assert response.status_code == 302 and response["Location"].endswith("/js/overlay.js")
