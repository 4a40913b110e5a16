"""The OpenAPI schema's error answers, added to every operation by what can go wrong with it.

drf-spectacular documents each view's success answer from its serializers; this adds the errors,
each with the body evidence.api.errors produces:

- 400 for a write (refused values) and for a list (a filter value it does not accept);
- 401 everywhere: a wrong or expired token is refused even on a public read; on a write, no credentials;
- 403 for a write: signed in without the permission it needs, or a session request without CSRF token;
- 404 for an operation on one record (none with that id, or not one you may read) and for a list (a page
  past the last);
- 429 everywhere: the anonymous and per-user rates (evidence.api.throttling).
"""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse

from evidence.api.errors import ErrorSerializer, ValidationErrorSerializer
from evidence.api.permissions import required_for

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(openapi.AutoSchema):
    def _error_responses(self) -> dict[str, OpenApiResponse]:
        is_list = self._is_list_view()
        is_write = self.method in WRITE_METHODS
        action = getattr(self.view, "action", None) or ""
        errors: dict[str, OpenApiResponse] = {}
        if is_write or is_list or self.method in ("PUT", "PATCH", "POST"):
            errors["400"] = OpenApiResponse(
                ValidationErrorSerializer,
                description="Refused values: a field's errors are under errors.<field>."
                if is_write
                else "A filter value the list does not accept: see errors.<parameter>.",
            )
        errors["401"] = OpenApiResponse(
            ErrorSerializer, description="No credentials (for a write), or a wrong token (for any request)."
        )
        if is_write or required_for(self.view, action):
            errors["403"] = OpenApiResponse(
                ErrorSerializer,
                description="Signed in without the permission this needs, or a session request without its CSRF token.",
            )
        if "{" in self.path or is_list:
            errors["404"] = OpenApiResponse(
                ErrorSerializer,
                description="No such page of the list." if is_list else "No such record, or not one you may read.",
            )
        errors["429"] = OpenApiResponse(
            ErrorSerializer, description="Too many requests: wait the seconds in the Retry-After header."
        )
        return errors

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, response in self._error_responses().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses

    def _get_parameters(self) -> list[dict]:
        """Every optional query parameter, including those an @extend_schema declares over a filter's own
        (the study list's year bounds), given empty counts as not given."""
        pagination = {parameter["name"] for parameter in self._get_pagination_parameters()}
        parameters = super()._get_parameters()
        for parameter in parameters:
            _empty_allowed(parameter, "the default" if parameter["name"] in pagination else "no filter")
        return parameters

    def get_auth(self) -> list[dict]:
        """A public read may be made with no credentials at all: say so with the empty requirement."""
        auths = super().get_auth()
        action = getattr(self.view, "action", None) or ""
        if self.method not in WRITE_METHODS and required_for(self.view, action) is None and {} not in auths:
            auths.append({})
        return auths

    def _get_response_headers_for_code(self, status_code, direction="response") -> dict:
        headers = super()._get_response_headers_for_code(status_code, direction)
        if str(status_code) == "429":
            headers["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "Seconds to wait before the next request.",
            }
        return headers


def _empty_allowed(parameter: dict, meaning: str) -> None:
    """A list's query parameter given empty (?verdict=, ?page=, ?year_max=) counts as not given, as an
    empty select or box on the pages does: OpenAPI's allowEmptyValue says so."""
    if parameter.get("in") == "query" and not parameter.get("required"):
        parameter["allowEmptyValue"] = True
        parameter["description"] = f"{parameter.get('description', '')}\n\nEmpty: {meaning}.".strip()
