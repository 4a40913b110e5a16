"""The project's URLs plus the two reference views under /bench/reference/."""

from django.urls import path

from benchmarks import views
from evidence import urls as project_urls

urlpatterns = [
    path("bench/reference/list/", views.reference_list, name="bench-reference-list"),
    path("bench/reference/<int:pk>/", views.reference_detail, name="bench-reference-detail"),
    *project_urls.urlpatterns,
]

# the project's error pages, if it defines its own
for _name in ("handler400", "handler403", "handler404", "handler500"):
    if hasattr(project_urls, _name):
        globals()[_name] = getattr(project_urls, _name)
