"""The API's request parser: DRF's JSON parser with the nesting limit every way in shares."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from evidence import jsonlimits


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser (strict: no NaN or Infinity), refusing JSON nested deeper than
    jsonlimits.MAX_DEPTH with a 400 like any other malformed body, where DRF's would let Python's
    RecursionError through (a 500) or hand a value too deep to walk to the serializers."""

    def parse(self, stream, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
            jsonlimits.check_depth(data)
        except RecursionError:
            raise ParseError(f"JSON parse error - {jsonlimits.TooDeep()}") from None
        except jsonlimits.TooDeep as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        return data
