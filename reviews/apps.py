from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Reviews"

    def ready(self) -> None:
        # reviews builds on evidence: evidence says what changed (evidence.signals) and never imports us
        from evidence import signals
        from reviews import invalidation, receivers

        signals.studies_retracted.connect(receivers.flag_claims_citing_retracted, dispatch_uid="reviews-retracted")
        signals.studies_concerned.connect(receivers.flag_claims_citing_concerned, dispatch_uid="reviews-concerned")
        signals.citations_changed.connect(
            receivers.flag_claims_now_relying_on_retracted, dispatch_uid="reviews-citations-changed"
        )
        signals.anchors_lost.connect(receivers.send_back_orphans, dispatch_uid="reviews-anchors-lost")
        # which public pages each save or delete retires, by the workflow's own rules (evidence.caching)
        invalidation.connect()
