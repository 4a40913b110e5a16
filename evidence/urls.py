"""The project's URLs. Public pages live in the ``evidence`` namespace (``evidence:home``)."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from evidence import article_editor, embeds, export_views, feeds, reader_pages, views

evidence_patterns = [
    path("", views.home, name="home"),
    # the articles are listed on the home page; a reader who trims an article's address lands there
    path("articles/", RedirectView.as_view(pattern_name="evidence:home", permanent=True), name="article-list"),
    path("articles/<slug:slug>/", views.article_detail, name="article-detail"),
    path("articles/<slug:slug>/map/", views.article_map, name="article-map"),
    # what revision n of the article's text changed (2 and up; 1 is the text as first published)
    path("articles/<slug:slug>/revisions/<int:number>/", views.article_revision, name="article-revision"),
    # an editor adds an article, marks its claims by selecting passages, revises its text (evidence/article_editor.py)
    path("editor/articles/new/", article_editor.article_new, name="article-new"),
    path("editor/articles/<slug:slug>/", article_editor.article_marking, name="article-marking"),
    path("editor/articles/<slug:slug>/claims/", article_editor.claim_mark_view, name="article-mark-claim"),
    path("editor/articles/<slug:slug>/text/", article_editor.article_text_edit, name="article-text-edit"),
    path("map/", views.gap_map, name="gap-map"),
    # how we judge, who we are, the corrections policy (evidence/reader_pages.py)
    path("methodology/", reader_pages.methodology, name="methodology"),
    path("about/", reader_pages.about, name="about"),
    path("about/<slug:slug>/edit/", reader_pages.site_page_edit, name="site-page-edit"),
    path("claims/", views.claim_list, name="claim-list"),
    path("claims/<int:pk>/", views.claim_detail, name="claim-detail"),
    path("claims/<int:pk>/verdicts/<int:number>/", views.claim_verdict, name="claim-verdict"),
    # the claim card other sites frame, and the oEmbed answer that hands out its snippet (evidence/embeds.py)
    path("claims/<int:pk>/embed/", embeds.claim_embed, name="claim-embed"),
    path("oembed/", embeds.oembed, name="oembed"),
    path("studies/", views.study_list, name="study-list"),
    path("studies/<int:pk>/", views.study_detail, name="study-detail"),
    # downloads: studies/export.bib|.ris|.json, articles/<slug>/studies.bib|…, claims/export.csv
    path("studies/export.<str:fmt>", export_views.study_export, name="study-export"),
    path("articles/<slug:slug>/studies.<str:fmt>", export_views.article_studies_export, name="article-studies-export"),
    path("claims/export.csv", export_views.claim_export, name="claim-export"),
    # open data: the article's ClaimReviews and its claims as W3C Web Annotations (evidence/feeds.py)
    path("articles/<slug:slug>/claimreview.jsonld", feeds.article_claimreview, name="article-claimreview"),
    path("articles/<slug:slug>/annotations.jsonld", feeds.article_annotations, name="article-annotations"),
    # the article published at ?url= as Web Annotations, and the script that shows them on that page
    path("annotations.jsonld", feeds.annotations_for_url, name="annotations-for-url"),
    path("embed/overlay.js", feeds.overlay_script, name="overlay-script"),
    # Atom feeds of published verdicts, site-wide and per article (evidence/feeds.py)
    path("feeds/verdicts.atom", feeds.verdict_feed, name="verdict-feed"),
    path("articles/<slug:slug>/verdicts.atom", feeds.article_verdict_feed, name="article-verdict-feed"),
]

urlpatterns = [
    path("", include((evidence_patterns, "evidence"))),
    path("admin/", admin.site.urls),
    # the REST API, its OpenAPI schema and docs (namespace ``api``; docs/api.md)
    path("api/", include("evidence.api.urls")),
    # sign in, sign out (POST), password change and reset: Django's views, our templates/registration/
    path("accounts/", include("django.contrib.auth.urls")),
    # the curator's workspace: imports, the library's to-do lists, linking studies to claims
    path("curate/", include("evidence.curate.urls")),
    # the review workflow: /review/ for reviewers, /editor/ for editors
    path("", include("reviews.urls")),
]
