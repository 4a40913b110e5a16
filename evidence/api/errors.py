"""Every error from an /api/ URL is JSON with the same shape, never an HTML page or a stack trace.

Two places make sure of it:

- ``exception_handler`` (REST_FRAMEWORK["EXCEPTION_HANDLER"]) shapes what DRF views raise: DRF's own
  exceptions, Django's Http404 and PermissionDenied, and the ValidationError our services raise (a
  service's field errors become a 400 with those fields). Anything else is a bug: it is left to Django,
  which logs it and answers 500.
- ``ApiJsonErrorsMiddleware`` turns every error answer under /api/ that is not JSON yet into the same
  body: Django's 404 for an unknown /api/ path, the 500 page of a bug, and the 400, 413 and 503 pages
  of evidence.middleware. It keeps the status and the headers that matter (Retry-After, Allow).

The body: ``{"status": 404, "code": "not_found", "detail": "Not found."}``; a 400 adds
``"errors": {"field": ["message", ...], "non_field_errors": [...]}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, serializers
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

API_PREFIX = "/api/"

# Words for the statuses an error page may come with, when nothing more specific is known.
STATUS_TEXT: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Bad request."),
    401: ("not_authenticated", "Authentication credentials were not provided."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("request_too_large", "The request body is too large."),
    429: ("throttled", "Too many requests; try again later."),
    500: ("server_error", "Server error. It has been logged; please try again later."),
    503: ("service_unavailable", "The service is briefly unavailable; retry after the Retry-After seconds."),
}
# Headers of the original answer that still apply to the JSON one.
KEPT_HEADERS = ("Retry-After", "Allow", "WWW-Authenticate", "Vary")


def error_body(status: int, detail: str, code: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "code": code, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    return body


def _field_errors(detail: Any) -> dict[str, list[str]]:
    """DRF's nested error detail as {field: [messages]}; nested fields are named a.b, list items a.0."""
    flat: dict[str, list[str]] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            if all(not isinstance(item, dict | list) for item in value):
                flat.setdefault(path or api_settings.NON_FIELD_ERRORS_KEY, []).extend(str(item) for item in value)
            else:
                for index, item in enumerate(value):
                    if item:
                        walk(item, f"{path}.{index}" if path else str(index))
        else:
            flat.setdefault(path or api_settings.NON_FIELD_ERRORS_KEY, []).append(str(value))

    walk(detail, "")
    return flat


def _from_django(exc: DjangoValidationError) -> exceptions.ValidationError:
    """A service's ValidationError as DRF's: its field errors stay on their fields."""
    detail = serializers.as_serializer_error(exc)
    if NON_FIELD_ERRORS in detail:
        detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
    return exceptions.ValidationError(detail)


def exception_handler(exc: Exception, context: dict[str, Any]):
    if isinstance(exc, DjangoValidationError):
        exc = _from_django(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django logs it and answers 500, which the middleware makes JSON
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(
            response.status_code, "Invalid input: see errors.", "invalid", _field_errors(response.data)
        )
    else:
        detail = getattr(exc, "detail", None)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        fallback_code, fallback_detail = STATUS_TEXT.get(response.status_code, ("error", "Error."))
        response.data = error_body(
            response.status_code,
            str(detail) if detail is not None else fallback_detail,
            code if isinstance(code, str) else fallback_code,
        )
    return response


def is_api_path(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


class ApiJsonErrorsMiddleware:
    """An error answer under /api/ that is not JSON yet is replaced by the API's JSON error body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or not is_api_path(request):
            return response
        content_type = response.get("Content-Type", "")
        if content_type.startswith("application/json") or getattr(response, "streaming", False):
            return response
        code, detail = STATUS_TEXT.get(response.status_code, ("error", "Error."))
        replacement = JsonResponse(error_body(response.status_code, detail, code), status=response.status_code)
        for header in KEPT_HEADERS:
            if header in response:
                replacement[header] = response[header]
        # Django logged the original (a 500 with its traceback); the replacement needs no second entry
        replacement._has_been_logged = getattr(response, "_has_been_logged", False)
        return replacement


# --- The error bodies, as the OpenAPI schema describes them ------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer."""

    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    code = serializers.CharField(
        help_text="A stable machine-readable code: invalid, not_authenticated, authentication_failed, "
        "permission_denied, not_found, method_not_allowed, throttled, parse_error, unsupported_media_type, "
        "server_error…"
    )
    detail = serializers.CharField(help_text="What went wrong, in words.")


class ValidationErrorSerializer(ErrorSerializer):
    """A 400: the request's values were refused. ``errors`` names each refused field."""

    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages per field; non_field_errors for the request as a whole. Absent when the request "
        "could not be read at all (malformed JSON, a NUL character in the address).",
    )
