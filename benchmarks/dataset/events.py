"""The library's history as events, and the order in which the services can be given them in batches.

The generator draws what happened and when (an article published, a study added, a citation linked, a
retraction notice, a review, an adjudication, a publication, a flag raised or closed) as events, each
with its moment. Replayed one by one in time order through the one-at-a-time services, they would build
the library as the application would have; that is a few hundred thousand calls. The bulk services take
many events of one kind at once, so the events are handed over in batches, as large as the order allows:

Each event names what it touches: a claim, a study, one reviewer's review of a claim, a flag. Two events
that touch the same thing happen in time order, unless they are of the same kind and touch it in a way
that commutes (``shared``: the citations of one claim, the reviews of one claim by different reviewers,
the retraction notices reaching one claim): those may share a batch, whose service handles them together
at their own moments. A round runs, kind after kind in KINDS' order, every event whose predecessors on
everything it touches are done; rounds repeat until none is left. The globally earliest pending event is
always ready, so this ends, and each thing sees its events in the order a replay in time would give.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The kinds of event, in the order a round takes them (the order one claim's story usually unfolds in),
# with what the generator's report calls the writes of each.
KINDS = {
    "article": "articles and claims",
    "study": "studies",
    "citation": "citations",
    "retraction": "retraction notices",
    "review": "reviews",
    "adjudication": "adjudications",
    "publication": "publications",
    "flag": "flags raised",
    "flag_close": "flags closed",
}


@dataclass(eq=False)
class Event:
    kind: str
    at: datetime
    item: Any  # what the replay hands the kind's service, with claims and studies named by plan index
    # (thing, how): how is a kind-specific tag under which same-kind events commute, or None (exclusive)
    touches: list[tuple[Hashable, str | None]] = field(default_factory=list)
    seq: int = 0  # the order the generator drew it in, to break ties between equal moments


def shared(thing: Hashable, kind: str) -> tuple[Hashable, str]:
    return thing, kind


def exclusive(thing: Hashable) -> tuple[Hashable, None]:
    return thing, None


def batches(events: list[Event]) -> Iterator[tuple[str, list[Event]]]:
    """(kind, events) batches in an order the services can take them (see the module docstring);
    within a batch, events are in time order."""
    for number, event in enumerate(events):
        event.seq = number
    ordered = sorted(events, key=lambda event: (event.at, event.seq))
    # per thing: its events' segments (runs of consecutive events that commute), and the first open one
    segments: dict[Hashable, list[list[Event]]] = {}
    last_tag: dict[Hashable, str | None] = {}
    place: dict[int, list[tuple[Hashable, int]]] = {}  # event seq → (thing, its segment there)
    for event in ordered:
        where = place.setdefault(event.seq, [])
        for thing, tag in dict(event.touches).items():
            runs = segments.setdefault(thing, [])
            if not runs or tag is None or last_tag[thing] != tag:
                runs.append([])
            runs[-1].append(event)
            last_tag[thing] = tag
            where.append((thing, len(runs) - 1))
    head = dict.fromkeys(segments, 0)
    left = {thing: [len(run) for run in runs] for thing, runs in segments.items()}
    blocked = {seq: sum(segment != 0 for _, segment in where) for seq, where in place.items()}
    ready: dict[str, list[Event]] = {kind: [] for kind in KINDS}
    for event in ordered:
        if not blocked[event.seq]:
            ready[event.kind].append(event)

    def done(event: Event) -> None:
        for thing, segment in place[event.seq]:
            left[thing][segment] -= 1
            while head[thing] < len(left[thing]) and not left[thing][head[thing]]:
                head[thing] += 1
                if head[thing] < len(left[thing]):
                    for waiting in segments[thing][head[thing]]:
                        blocked[waiting.seq] -= 1
                        if not blocked[waiting.seq]:
                            ready[waiting.kind].append(waiting)

    remaining = len(ordered)
    while remaining:
        progressed = False
        for kind in KINDS:
            batch, ready[kind] = ready[kind], []
            if not batch:
                continue
            batch.sort(key=lambda event: (event.at, event.seq))
            yield kind, batch
            for event in batch:
                done(event)
            remaining -= len(batch)
            progressed = True
        if not progressed:
            raise RuntimeError(f"{remaining} events wait on each other")  # cannot happen: see the docstring
