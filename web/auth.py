"""Bearer-token protection of the write endpoints."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, request

from .errors import ApiError

View = TypeVar("View", bound=Callable[..., Any])
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="kiosque"'}


def check_token(header: str | None, expected: str | None) -> None:
    """Raise ApiError: 403 when no token is configured, 401 when ``header`` does not carry it."""
    if not expected:
        raise ApiError(403, "forbidden",
                       "writing is disabled: set KIOSQUE_ADMIN_TOKEN on the server to enable it")
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "send 'Authorization: Bearer <token>'",
                       headers=CHALLENGE)
    if not hmac.compare_digest(token.strip().encode("utf-8"), expected.encode("utf-8")):
        raise ApiError(401, "unauthorized", "the bearer token is wrong", headers=CHALLENGE)


def admin_required(view: View) -> View:
    """Let the request through only with ``Authorization: Bearer $KIOSQUE_ADMIN_TOKEN``."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        check_token(request.headers.get("Authorization"),
                    current_app.config.get("KIOSQUE_ADMIN_TOKEN"))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
