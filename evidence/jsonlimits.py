"""How deeply nested JSON from outside may be: the one limit the API, the forms and the importers share.

Python's json module recurses once per level of nesting, so a body of 100,000 opening brackets raises
RecursionError, which nothing expects (a 500, or a traceback from a command). A value that parses can
still be deeper than the code walking it afterwards (holds_nul, serializers, json.dumps) can follow. No
format of ours nests deeper than five levels (CSL-JSON's "issued": {"date-parts": [[2020, 1, 1]]} inside
an item inside a list), so anything past MAX_DEPTH is refused as malformed, with a message saying so.
"""

from __future__ import annotations

import json
from typing import Any

# Levels of lists and objects; a bare value is level 0, [] is 1, [[]] is 2.
MAX_DEPTH = 64


class TooDeep(ValueError):
    """The JSON is nested more than MAX_DEPTH levels deep."""

    def __init__(self) -> None:
        super().__init__(f"nested more than {MAX_DEPTH} levels deep")


def check_depth(value: Any) -> None:
    """Raise TooDeep when lists and objects in ``value`` nest more than MAX_DEPTH levels. Iterative, so
    it never recurses itself, and it stops at the first container past the limit."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if level > MAX_DEPTH:
            raise TooDeep
        pending.extend((child, level + 1) for child in children)


def loads(text: str | bytes, **kwargs: Any) -> Any:
    """json.loads, raising TooDeep (a ValueError) rather than RecursionError or a value past the limit;
    json.JSONDecodeError as usual for text that is not JSON."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise TooDeep from None
    check_depth(value)
    return value
