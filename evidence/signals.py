"""What evidence tells the apps built on it, without importing them: dependencies run one way.

``reviews`` builds on ``evidence``; evidence's models, services and importers never import it. When a
write here has consequences there (a retracted study flags the claims relying on it; a changed citation
may make a claim rely on a retracted study), the service sends one of these signals and ``reviews``
connects its receivers in ``ReviewsConfig.ready()`` (paperless-ngx's document_consumption_finished).

Each signal is sent inside the transaction of the write that caused it, so what a receiver writes
commits or rolls back with that write. A receiver returns the report lines of what it did
(:class:`evidence.services.reports.ReportLine`, e.g. the flags it raised), or nothing; the services
gather them with :func:`consequences` for their import reports.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

# Studies became retracted: studies=list[Study] (each now retracted), user=the user or None; from a bulk
# service, also at=Mapping[study id, datetime]: when each was retracted (else it happened now).
studies_retracted = Signal()

# Studies are under an expression of concern: studies=list[Study], user=; from a bulk service, also
# at=Mapping[study id, datetime]. The review workflow flags the claims relying on each, with its own reason.
studies_concerned = Signal()

# What these claims cite changed (a citation added, edited or removed): claims=QuerySet[Claim], user=; from
# a bulk service, also at=Mapping[(claim id, study id), datetime]: when each citation changed.
citations_changed = Signal()


# A revision of an article's text lost these claims' quotes: claims=list[Claim], each an orphan now
# (Claim.anchor_state), user=the user or None. The review workflow sends them back for re-review.
anchors_lost = Signal()


def consequences(signal: Signal, sender: Any, **kwargs: Any) -> list[Any]:
    """Send ``signal`` and return every receiver's report lines, in the order the receivers ran."""
    return [line for _, lines in signal.send(sender=sender, **kwargs) for line in (lines or ())]
