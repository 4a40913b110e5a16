"""Writing many rows at once with their history, each at the moment it happened: the one way the bulk and
restore services (evidence.services.bulk, evidence.services.restore, reviews.services) insert and update.

Rows go in with ``bulk_create`` and change with ``bulk_update``; simple_history's ``bulk_create_with_history``
and ``bulk_update_with_history`` write one history row each, with the moment, the user and the reason set
on each instance (``_history_date``, ``_history_user``, ``_change_reason``: simple_history's documented
per-instance hooks). Neither sends ``post_save``, so nothing moves the data version: every bulk service
calls ``evidence.caching.touch()`` itself.

Moments: an update sets ``updated_at`` to the moment it was given (``bulk_update`` takes the value as it
is). An insert cannot: Django overwrites ``auto_now``/``auto_now_add`` fields with the current time on
every insert and offers no way to pass another value. Until those fields become ``default=timezone.now``
(a model change: then this module's ``_moments_as_given`` goes), inserts switch the two flags off on the
model's fields for as long as the INSERT runs. That is process-wide, so these paths are for commands
(the open-data import, the benchmark's data set), not for a process serving requests in threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from evidence.services.common import error_messages

M = TypeVar("M", bound=models.Model)

# Rows per INSERT, and per UPDATE: bulk_update writes a CASE over the batch's keys for each field, which
# costs the server batch² comparisons, so its batches are smaller.
INSERT_BATCH = 1000
UPDATE_BATCH = 100

_switching = threading.Lock()


@contextmanager
def _moments_as_given(model: type[models.Model]) -> Iterator[None]:
    """Keep the created_at/updated_at the caller set while ``model``'s rows are inserted (see the module
    docstring for why this exists and when it can go)."""
    switched = [
        (f, f.auto_now, f.auto_now_add)
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateField) and (f.auto_now or f.auto_now_add)
    ]
    with _switching:
        for f, _, _ in switched:
            f.auto_now = f.auto_now_add = False
        try:
            yield
        finally:
            for f, auto_now, auto_now_add in switched:
                f.auto_now, f.auto_now_add = auto_now, auto_now_add


def stamp(obj: M, *, at: datetime, reason: str, user: AbstractBaseUser | None = None) -> M:
    """Tell simple_history when, why and by whom ``obj``'s next history row was written."""
    obj._history_date = at
    obj._change_reason = reason
    obj._history_user = user
    return obj


def refused(model: type[models.Model], exc: IntegrityError) -> ValidationError:
    """The database's refusal (a constraint) as a validation error naming the kind of record."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ValidationError(f"{model._meta.verbose_name_plural}: the database refused a record: {message}")


def insert(model: type[M], objs: Sequence[M]) -> list[M]:
    """Insert ``objs`` with a "+" history row each, keeping the timestamps set on them; ``stamp()`` each
    first. Sets their primary keys. A constraint the rows break raises ValidationError and writes nothing."""
    if not objs:
        return []
    missing = [obj for obj in objs if not hasattr(obj, "_history_date")]
    if missing:
        raise ValueError(f"{len(missing)} {model.__name__} rows were not stamped with their moment")
    try:
        with transaction.atomic(), _moments_as_given(model):
            return bulk_create_with_history(list(objs), model, batch_size=INSERT_BATCH)
    except IntegrityError as exc:
        raise refused(model, exc) from None


def update(model: type[M], objs: Sequence[M], fields: Sequence[str]) -> None:
    """Save ``fields`` of ``objs`` with a "~" history row each; ``stamp()`` each first and set its
    ``updated_at`` (when the model has one) to that moment."""
    if not objs:
        return
    names = list(dict.fromkeys(fields))
    if any(f.name == "updated_at" for f in model._meta.concrete_fields) and "updated_at" not in names:
        names.append("updated_at")
    try:
        with transaction.atomic():
            bulk_update_with_history(list(objs), model, names, batch_size=UPDATE_BATCH)
    except IntegrityError as exc:
        raise refused(model, exc) from None


def update_changed(model: type[M], changes: Sequence[tuple[M, Sequence[str]]]) -> None:
    """update() for rows that changed in different fields: (row, the fields it changed), saved in groups of
    rows that changed the same fields, since bulk_update's cost grows with the fields it sets for every row."""
    groups: dict[tuple[str, ...], list[M]] = {}
    for obj, fields in changes:
        groups.setdefault(tuple(sorted(fields)), []).append(obj)
    for fields, objs in groups.items():
        update(model, objs, fields)


def by_moment(moments: dict[Any, datetime]) -> dict[datetime, list[Any]]:
    """Keys grouped by their moment, earliest first: one query per moment where a write takes one moment."""
    grouped: dict[datetime, list[Any]] = {}
    for key, moment in moments.items():
        grouped.setdefault(moment, []).append(key)
    return dict(sorted(grouped.items()))


def clean(obj: models.Model, *, label: str, exclude: Sequence[str] = ()) -> None:
    """Validate ``obj``'s fields (a ValidationError names ``label``), without a query: relations, uniqueness
    and the tables' constraints are checked for the whole batch by the caller and by the database."""
    relations = [f.name for f in obj._meta.concrete_fields if f.is_relation]
    try:
        obj.full_clean(
            exclude=[*relations, *exclude, *obj.get_deferred_fields()],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        raise ValidationError(f"{label}: {error_messages(exc)}") from None
