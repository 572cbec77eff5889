"""Security headers on every response, and CORS for the API when origins are configured."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

CORS_PREFIXES = ("/api/", "/openapi.json")
CORS_METHODS = "GET, POST, DELETE, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type"
CORS_MAX_AGE = "600"


def allowed_origin(origin: str | None, allowed: tuple[str, ...]) -> str | None:
    """The value of Access-Control-Allow-Origin for ``origin``, or None (not allowed)."""
    if not origin or not allowed:
        return None
    if "*" in allowed:
        return "*"
    return origin if origin.rstrip("/") in allowed else None


def add_cors(response: Response) -> None:
    """Allow the configured origins to read API responses (and pass preflights)."""
    if not request.path.startswith(CORS_PREFIXES):
        return
    allowed = current_app.config["KIOSQUE_CORS_ORIGINS"]
    if not allowed:
        return
    response.vary.add("Origin")
    origin = allowed_origin(request.headers.get("Origin"), allowed)
    if origin is None:
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE


def add_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    add_cors(response)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
