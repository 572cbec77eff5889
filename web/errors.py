"""One error shape for the whole API: ``{"error": {"code": "...", "message": "..."}}``.

Errors under ``/api/`` and ``/openapi.json`` are always JSON; elsewhere a
browser (which prefers HTML) gets an HTML page and any other client JSON.
A 500 never shows a traceback: it is logged, and the client gets a short message.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from indexer import IndexBusy
from search import IndexNotFound, SearchError

JSON_PREFIXES = ("/api/", "/openapi.json")
BUSY_RETRY_SECONDS = 5

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    429: "too_many_requests",
    431: "headers_too_large",
    500: "internal_error",
    501: "not_implemented",
    503: "unavailable",
}


class ApiError(Exception):
    """An error for the client: an HTTP status, a stable code and a message for people."""

    def __init__(self, status: int, code: str, message: str,
                 details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}

    def payload(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def wants_json() -> bool:
    """True for API paths, and for clients that do not prefer HTML."""
    if request.path.startswith(JSON_PREFIXES):
        return True
    accept = request.accept_mimetypes
    return accept.quality("text/html") <= accept.quality("application/json") or not accept.provided


def respond(error: ApiError) -> Response:
    """The error as JSON or as an HTML page, with its status and headers."""
    if wants_json():
        response = jsonify(error.payload())
    else:
        response = _html(error)
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def _html(error: ApiError) -> Response:
    try:
        body = render_template("error.html", error=error)
    except Exception:  # never let a broken template hide the original error
        current_app.logger.exception("cannot render the error page")
        return Response(f"{error.status} {error.message}\n", mimetype="text/plain")
    return Response(body, mimetype="text/html")


def from_http(exception: HTTPException) -> ApiError:
    """An ApiError for a werkzeug HTTP exception (404, 405, 413...)."""
    status = exception.code or 500
    code = _CODES.get(status, (exception.name or "error").lower().replace(" ", "_"))
    message = exception.description or exception.name or "error"
    if status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        message = f"the request body is larger than the limit of {limit} bytes"
    headers = {}
    valid = getattr(exception, "valid_methods", None)
    if valid:
        headers["Allow"] = ", ".join(valid)
    return ApiError(status, code, message, headers=headers)


def _on_api_error(error: ApiError) -> Response:
    return respond(error)


def _on_http(exception: HTTPException) -> Response:
    return respond(from_http(exception))


def _on_index_missing(error: IndexNotFound) -> Response:
    return respond(ApiError(503, "index_missing", str(error)))


def _on_index_busy(error: IndexBusy) -> Response:
    headers = {"Retry-After": str(BUSY_RETRY_SECONDS)}
    return respond(ApiError(503, "index_busy", f"the index is busy: {error}", headers=headers))


def _on_search_error(error: SearchError) -> Response:
    return respond(ApiError(400, "invalid_parameter", str(error)))


def _on_unexpected(error: Exception) -> Response:
    current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
    return respond(ApiError(500, "internal_error", "the server met an unexpected error"))


def init_app(app: Flask) -> None:
    """Register the handlers that turn every error into the one shape."""
    app.register_error_handler(ApiError, _on_api_error)
    app.register_error_handler(HTTPException, _on_http)
    app.register_error_handler(IndexNotFound, _on_index_missing)
    app.register_error_handler(IndexBusy, _on_index_busy)
    app.register_error_handler(SearchError, _on_search_error)
    app.register_error_handler(Exception, _on_unexpected)
