"""The project's URLs. Public pages live in the ``evidence`` namespace (``evidence:home``)."""

from django.contrib import admin
from django.urls import include, path

from evidence import views

evidence_patterns = [
    path("", views.home, name="home"),
    path("articles/<slug:slug>/", views.article_detail, name="article-detail"),
    path("articles/<slug:slug>/map/", views.article_map, name="article-map"),
    path("map/", views.gap_map, name="gap-map"),
    path("claims/", views.claim_list, name="claim-list"),
    path("claims/<int:pk>/", views.claim_detail, name="claim-detail"),
    path("studies/", views.study_list, name="study-list"),
    path("studies/<int:pk>/", views.study_detail, name="study-detail"),
]

urlpatterns = [
    path("", include((evidence_patterns, "evidence"))),
    path("admin/", admin.site.urls),
]
