"""Small steps every service takes: set what changed, save only that, say what went wrong."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models


def apply_values(obj: Any, values: dict[str, Any]) -> list[str]:
    """Set the values that differ; return the names of the fields changed."""
    changed = []
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def save_edits(obj: models.Model, values: dict[str, Any], user: AbstractBaseUser | None) -> list[str]:
    """Set the values that differ, validate, and save only those fields, with who and what in the history.
    Returns the names of the fields changed (none: nothing is written)."""
    changed = apply_values(obj, values)
    if changed:
        obj.full_clean(exclude=obj.get_deferred_fields())  # what the query deferred (search_vector) is not ours
        obj._change_reason = f"edited: {', '.join(changed)}"
        if user is not None:
            obj._history_user = user
        obj.save(update_fields=[*changed, "updated_at"])
    return changed


def error_messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in exc.message_dict.items())
    return " ".join(exc.messages)
