"""Drawing from the vocabulary: one seeded random generator, and the helpers every part of the generator
uses with it (a weighted pick, a moment before REFERENCE_TIME, a person's name, a template's words).
Everything the library holds comes from it, so one seed always gives the same library.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from benchmarks.dataset.vocabulary import (
    ADVERSE,
    AGENCIES,
    ANIMALS,
    CITIES,
    COMPARATORS,
    CONDITIONS,
    COUNTRIES,
    FAMILY_NAMES,
    GIVEN_NAMES,
    INSTITUTIONS,
    MECHANISM_OF,
    MECHANISMS,
    OUTCOMES,
    PERSON_ROLES,
    RISKS,
    SUBSTANCES,
)

# Every date is counted back from here, not from now, so a seed always gives the same rows.
REFERENCE_TIME = datetime(2026, 11, 1, tzinfo=UTC)

T = TypeVar("T")


class Dice:
    """The seeded random generator and the ways the generator draws with it."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def pick(self, weights: dict[T, float]) -> T:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def days_ago(self, low: float, high: float) -> datetime:
        return REFERENCE_TIME - timedelta(seconds=int(self.rng.uniform(low, high) * 86400))

    def later(self, when: datetime, share: float = 0.3) -> datetime:
        """A moment after ``when`` and before REFERENCE_TIME: up to ``share`` of the time left."""
        left = (REFERENCE_TIME - when).total_seconds()
        return when + timedelta(seconds=max(60, int(left * self.rng.uniform(0.01, share))))

    def person(self) -> str:
        return f"{self.rng.choice(GIVEN_NAMES)} {self.rng.choice(FAMILY_NAMES)}"

    def words(self, substance: str) -> Words:
        """Values for the templates' placeholders, each drawn when a template first asks for it."""
        return Words(self.rng, substance, self.person)


def _number(r: random.Random) -> int:
    # participants, trials, patients: tens, hundreds or thousands
    return r.choice([r.randint(12, 99), r.randint(100, 999), r.randint(1000, 9000)])


# How each placeholder is drawn: (random generator, the words drawn so far) → value.
DRAWS: dict[str, Callable[[random.Random, Words], Any]] = {
    "sub": lambda r, w: SUBSTANCES[w.substance][0],
    "Sub": lambda r, w: w["sub"][0].upper() + w["sub"][1:],
    "cond": lambda r, w: r.choice(CONDITIONS),
    "Cond": lambda r, w: w["cond"][0].upper() + w["cond"][1:],
    "cond2": lambda r, w: r.choice(CONDITIONS),
    "comp": lambda r, w: r.choice(COMPARATORS),
    "mechanism": lambda r, w: r.choice(MECHANISMS[MECHANISM_OF.get(w.substance, "other")]),
    "mechanism_k": lambda r, w: r.choice(MECHANISMS["glutamate"]),
    "n": lambda r, w: _number(r),
    "pct": lambda r, w: r.randint(12, 84),
    "pct2": lambda r, w: r.randint(5, 40),
    "k": lambda r, w: r.randint(2, 12),
    "h": lambda r, w: r.randint(2, 8),
    "h2": lambda r, w: r.randint(9, 14),
    "m": lambda r, w: r.choice([3, 6, 9, 12, 18, 24, 36]),
    "w": lambda r, w: r.choice([1, 2, 4, 6, 8, 12, 26]),
    "x": lambda r, w: r.choice(["two", "three", "four", "2.5", "1.8"]),
    "dose": lambda r, w: r.choice([50, 75, 100, 125, 150, 200]),
    "year": lambda r, w: r.randint(1995, 2025),
    "decade": lambda r, w: r.choice([1960, 1970, 1980]),
    "price": lambda r, w: r.choice([400, 600, 750, 900, 1200]),
    "price2": lambda r, w: r.choice([1500, 2000, 2500, 3000]),
    "ae1": lambda r, w: r.choice(ADVERSE),
    "ae2": lambda r, w: r.choice(ADVERSE),
    "risk": lambda r, w: r.choice(RISKS),
    "inst": lambda r, w: r.choice(INSTITUTIONS),
    "country": lambda r, w: r.choice(COUNTRIES),
    "city": lambda r, w: r.choice(CITIES),
    "person": lambda r, w: w.person(),
    "role": lambda r, w: r.choice(PERSON_ROLES),
    "animals": lambda r, w: r.choice(ANIMALS),
    "agency": lambda r, w: r.choice(AGENCIES),
    "outcome": lambda r, w: r.choice(OUTCOMES),
    "phase": lambda r, w: r.choice(["2", "2b", "3"]),
    "es": lambda r, w: round(r.uniform(0.1, 1.2), 2),
    "es_low": lambda r, w: round(w["es"] - r.uniform(0.05, 0.4), 2),
    "es_high": lambda r, w: round(w["es"] + r.uniform(0.05, 0.4), 2),
}


class Words(dict):
    """A template's placeholder values, drawn on first use and then fixed, so that a sentence (or a whole
    abstract) that names a number twice names the same one; drawing only what a template uses keeps the
    generator fast."""

    def __init__(self, rng: random.Random, substance: str, person: Callable[[], str]) -> None:
        super().__init__()
        self.rng = rng
        self.substance = substance
        self.person = person

    def __missing__(self, key: str) -> Any:
        value = DRAWS[key](self.rng, self)
        self[key] = value
        return value
