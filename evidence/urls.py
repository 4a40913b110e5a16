"""The project's URLs. Public pages live in the ``evidence`` namespace (``evidence:home``)."""

from django.contrib import admin
from django.urls import include, path

from evidence import views

evidence_patterns = [
    path("", views.home, name="home"),
]

urlpatterns = [
    path("", include((evidence_patterns, "evidence"))),
    path("admin/", admin.site.urls),
]
