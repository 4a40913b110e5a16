"""Which public pages each kind of write retires (evidence/invalidation.py, reviews/invalidation.py).

Every write goes through the services, as the pages, the admin and the API make it, and its transaction's
after-commit callbacks run (django_capture_on_commit_callbacks), as they would after a real commit. A page
"changed" when its ETag did; its whole-page cache key holds the same versions (test_cached_page_keys_follow).

The scene: an article with claims T1 (the claim written to), T2 (another claim of the same article, citing
another study) and T3, a study cited by T1 only, and an editor, two reviewers and a third.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import reverse

from evidence import caching
from evidence.models import Article, Citation, Claim, Study
from evidence.services import article_revise, citation_update, study_update
from reviews.services import claim_adjudicate, flag_raise, verdict_publish
from tests.builders import article_with_claims, cite, rate, trial

PAGES = ("claim", "other claim", "study", "article", "claim list", "feed")


@dataclass
class Scene:
    article: Article
    claim: Claim
    other: Claim
    study: Study
    citation: Citation
    editor: object
    reviewers: list

    def urls(self) -> dict[str, str]:
        return {
            "claim": self.claim.get_absolute_url(),
            "other claim": self.other.get_absolute_url(),
            "study": self.study.get_absolute_url(),
            "article": self.article.get_absolute_url(),
            "claim list": reverse("evidence:claim-list"),
            "feed": reverse("evidence:verdict-feed"),
        }


@pytest.fixture
def scene(db, make_user, django_capture_on_commit_callbacks) -> Scene:
    # the setting's own writes are paid for here, so that only the write under test moves a version
    with django_capture_on_commit_callbacks(execute=True):
        article = article_with_claims(3)
        claim, other = article.claims.get(key="T1"), article.claims.get(key="T2")
        study = trial()
        citation = cite(claim, study)
        cite(other, trial())
        reviewers = [make_user("Reviewers") for _ in range(3)]
    return Scene(article, claim, other, study, citation, make_user("Editors"), reviewers)


def etags(client, scene: Scene) -> dict[str, str]:
    answers = {name: client.get(url) for name, url in scene.urls().items()}
    assert all(answer.status_code == 200 for answer in answers.values())
    return {name: answer.headers["ETag"] for name, answer in answers.items()}


def reviewed(scene: Scene) -> None:
    """T1 rated by two reviewers, in review, unpublished."""
    rate(scene.claim, scene.reviewers[0])
    rate(scene.claim, scene.reviewers[1])


def published(scene: Scene) -> None:
    reviewed(scene)
    verdict_publish(claim=scene.claim, published_by=scene.editor, rationale="The trial supports it.")


def nothing(scene: Scene) -> None:
    pass


# (kind of write, the scene before it, the write, the pages it changes): the rest must not change
CASES: list[tuple[str, Callable[[Scene], None], Callable[[Scene], None], set[str]]] = [
    (
        "review submitted blind (the claim already in review)",
        reviewed,
        lambda s: rate(s.claim, s.reviewers[2], certainty="low"),
        set(),
    ),
    (
        # readers filter the claim list by review status, which the first review moves to "in review"
        "first review of a claim (blind, its status moves)",
        nothing,
        lambda s: rate(s.claim, s.reviewers[0]),
        {"claim", "claim list"},
    ),
    (
        "review revised in a published round (public)",
        published,
        lambda s: rate(s.claim, s.reviewers[0], certainty="low", rationale="On reflection, imprecise."),
        {"claim"},
    ),
    (
        "consensus changed, unpublished (an adjudication)",
        reviewed,
        lambda s: claim_adjudicate(
            claim=s.claim, certainty="low", verdict="supported", rationale="Settled.", adjudicated_by=s.editor
        ),
        set(),
    ),
    (
        "verdict published",
        reviewed,
        lambda s: verdict_publish(claim=s.claim, published_by=s.editor, rationale="The trial supports it."),
        {"claim", "article", "claim list", "feed"},
    ),
    (
        "flag raised",
        nothing,
        lambda s: flag_raise(claim=s.claim, reason="overstated", raised_by=s.editor),
        {"claim", "article", "claim list"},
    ),
    (
        # the API's claim list nests each citation with its note
        "citation note edited",
        nothing,
        lambda s: citation_update(citation=s.citation, values={"note": "Shows it in adults only."}),
        {"claim", "study", "claim list"},
    ),
    (
        "study metadata corrected",
        nothing,
        lambda s: study_update(study=s.study, values={"title": "A randomised trial, title corrected"}),
        {"claim", "study", "article", "claim list"},
    ),
    (
        "study internal note edited",
        nothing,
        lambda s: study_update(study=s.study, values={"internal_note": "Checked against PubMed."}),
        set(),
    ),
    (
        # the claim relying on it is flagged (and would be sent back, were it published)
        "study retracted",
        nothing,
        lambda s: study_update(study=s.study, values={"retraction_status": Study.RetractionStatus.RETRACTED}),
        {"claim", "study", "article", "claim list"},
    ),
    (
        # every quote is kept: the article's pages and its claims' (the words around each quote) change
        "article revised",
        nothing,
        lambda s: article_revise(article=s.article, text=s.article.text + "A new closing line.\n", headings=[]),
        {"claim", "other claim", "article"},
    ),
]


@pytest.mark.parametrize(("kind", "before", "write", "changes"), CASES, ids=[case[0] for case in CASES])
def test_each_write_retires_exactly_the_pages_that_show_it(
    client, scene, django_capture_on_commit_callbacks, kind, before, write, changes
):
    with django_capture_on_commit_callbacks(execute=True):
        before(scene)
    first, data_version = etags(client, scene), caching.current()[0]
    with django_capture_on_commit_callbacks(execute=True):
        write(scene)
    after = etags(client, scene)
    assert {page for page in PAGES if after[page] != first[page]} == changes, kind
    # the work pages (the reviewer's queue) still see every write, seen by readers or not
    assert caching.current()[0] > data_version


def test_cached_page_keys_follow_the_same_versions(
    client, scene, settings, django_capture_on_commit_callbacks, django_assert_num_queries
):
    settings.PAGE_CACHE = True
    urls = scene.urls()
    for url in urls.values():
        client.get(url)
    with django_assert_num_queries(1):  # the versions; the page from the cache
        client.get(urls["other claim"])
    with django_capture_on_commit_callbacks(execute=True):
        flag_raise(claim=scene.claim, reason="overstated", raised_by=scene.editor)
    with django_assert_num_queries(1):  # another claim's page is still the one kept
        client.get(urls["other claim"])
    fresh = client.get(urls["claim"])
    assert b"Overstated" in fresh.content  # this claim's was rebuilt


def test_a_rolled_back_write_retires_nothing_until_a_commit_pays(transactional_db):
    """A transaction that rolls back drops its callbacks; the next committed write pays what it recorded
    (an extra bump, never a missing one)."""
    article = article_with_claims(2)
    claim = article.claims.get(key="T1")
    scope = caching.claim_scope(claim.pk)
    start, _ = caching.page_version([scope])
    with pytest.raises(RuntimeError), caching.transaction.atomic():
        claim.section = "Rolled back"
        claim.save()
        raise RuntimeError
    assert caching.page_version([scope])[0] == start
    caching.retire(scopes=[caching.LISTS])  # a later write, committed
    assert caching.page_version([scope])[0] != start
