"""Page-number pagination for every list (its own module: DRF reads it while its views import)."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """?page=2&page_size=50: 25 rows a page by default, at most 100 (a larger page_size gives 100). A page
    past the last is a 404; an empty page_size is the default; a page_size that is not a positive whole
    number in ASCII digits is a 400, where DRF would silently use the default."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if not raw:  # not given, or given empty as an empty form box sends it
            return self.page_size
        # ASCII digits only: str.isdigit() also accepts "²", which int() refuses, and int() reads Arabic-Indic
        # and full-width digits, which no client means as a page size
        digits = raw.lstrip("0")
        if not (raw.isascii() and raw.isdigit()) or not digits:
            raise ValidationError({self.page_size_query_param: ["A whole number from 1 (at most 100 are given)."]})
        # compared by length first: int() refuses more than 4300 digits
        if len(digits) > len(str(self.max_page_size)):
            return self.max_page_size
        return min(int(digits), self.max_page_size)

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Rows per page: {self.page_size} unless given, at most {self.max_page_size}."
                )
        return parameters
