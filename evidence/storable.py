"""What PostgreSQL can store: the one check every way in (forms, API, importers) shares.

PostgreSQL stores no NUL character, in text or in jsonb; writing one is a DataError (a 500 on a page).
Each way in refuses such a value with its own message, never truncating it.
"""

from __future__ import annotations

from typing import Any


def holds_nul(value: Any) -> bool:
    """A NUL character anywhere in a string, or in the keys or values of nested lists and dicts."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(holds_nul(item) for item in value)
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    return False
