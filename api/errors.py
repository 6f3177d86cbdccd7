"""One machine-readable error shape for every 4xx: {"code", "message", "errors"?}.

`code` is stable (clients branch on it), `message` is for humans (translated), `errors` lists
field problems for invalid input. Nothing the client sends should ever produce a 500."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

log = logging.getLogger(__name__)


class FieldError(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ErrorOut(Schema):
    code: str
    message: str
    errors: list[FieldError] | None = None


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors


def not_found(what: str = "") -> ApiError:
    return ApiError(404, "not_found", _("Not found.") if not what else _("%(what)s not found.") % {"what": what})


def error_response(api: NinjaAPI, request, status: int, code: str, message: str, errors=None):
    body: dict[str, Any] = {"code": code, "message": str(message)}
    if errors is not None:
        body["errors"] = errors
    return api.create_response(request, body, status=status)


def _clean_validation_errors(errors) -> list[dict]:
    """Pydantic's error list, reduced to what the schema promises (and JSON-safe: pydantic
    puts the offending input and exception objects in there)."""
    cleaned = []
    for error in errors:
        loc = [part if isinstance(part, int) else str(part) for part in error.get("loc", ())]
        cleaned.append({"loc": loc, "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))})
    return cleaned


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return error_response(api, request, exc.status, exc.code, exc.message, exc.errors)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        return error_response(api, request, 422, "invalid_request", _("The request is invalid."),
                              _clean_validation_errors(exc.errors))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        response = error_response(api, request, 401, "unauthenticated",
                                  _("A valid API token is required (Authorization: Bearer <token>)."))
        response["WWW-Authenticate"] = 'Bearer realm="helpdesk"'
        return response

    @api.exception_handler(Http404)
    def http404(request, exc):
        return error_response(api, request, 404, "not_found", _("Not found."))

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        # Ninja raises these itself, e.g. for a body that is not JSON at all.
        code = {400: "bad_request", 405: "method_not_allowed", 413: "too_large"}.get(exc.status_code, "error")
        return error_response(api, request, exc.status_code, code, str(exc.message))
