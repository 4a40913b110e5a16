from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence"

    def ready(self) -> None:
        from evidence import caching, checks  # noqa: F401 - checks registers the deployment checks
        from evidence.models import Article, ArticleRevision, Citation, Claim, SitePage, Study

        caching.connect_signals(Article, ArticleRevision, Claim, SitePage, Study, Citation)
