from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence"

    def ready(self) -> None:
        from evidence import checks, invalidation  # noqa: F401 - checks registers the deployment checks

        # which public pages each save or delete retires (evidence.caching)
        invalidation.connect()
