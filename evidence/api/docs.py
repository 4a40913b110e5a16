"""Interactive API docs (Swagger UI) under the site's Content-Security-Policy.

Swagger UI's files come from the drf-spectacular-sidecar package, served as our own static files (no
CDN). drf-spectacular's split view serves the page and its start-up script separately, so the page has no
inline script; our template (templates/api/swagger_ui.html) also drops the inline <style> of the
packaged one, which the policy's style-src 'self' would block, for static/css/api-docs.css.
"""

from __future__ import annotations

from drf_spectacular.views import SpectacularSwaggerSplitView


class SwaggerView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"
    throttle_classes: list = []  # a page and its script; the schema it loads is throttled like any read
