"""The API's URLs, in the ``api`` namespace (``api:claim-list``, ``api:claim-detail``, ``api:schema``…)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from evidence.api import views
from evidence.api.docs import SwaggerView

app_name = "api"

router = DefaultRouter()
router.register("articles", views.ArticleViewSet, basename="article")
router.register("claims", views.ClaimViewSet, basename="claim")
router.register("studies", views.StudyViewSet, basename="study")
router.register("citations", views.CitationViewSet, basename="citation")
router.register("flags", views.FlagViewSet, basename="flag")
router.register("reviews", views.ReviewViewSet, basename="review")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("auth/token/", views.ObtainTokenView.as_view(), name="token"),
    path("", include(router.urls)),
]
