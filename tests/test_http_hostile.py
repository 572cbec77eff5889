"""Hostile HTTP: every bad request gets the right 4xx in the one JSON error shape, and writes
need the token, compared in constant time.

What tests/test_web_errors.py and test_web_api.py already cover is not repeated:
here are every route with every wrong method, every kind of bad token on
both write endpoints (and nothing written), ids with ``../`` and control
characters on every route that takes one, bodies too large, chunked or
nested too deep, and the same over a real waitress server.
"""

from __future__ import annotations

import hmac
import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_helpers import ADMIN_TOKEN, app_config, assert_error

import web.auth
from web import create_app

pytest_plugins = ("web_fixtures",)

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
RECORD = {
    "id": "http-hostile-1",
    "title": "Réunion du conseil municipal de Tanger",
    "body": "Le conseil municipal de Tanger s'est réuni lundi pour voter le budget de la ville. "
    "Les élus ont adopté un plan de rénovation des écoles et des marchés couverts.",
    "lang": "fr",
}

ROUTES: dict[str, set[str]] = {
    "/api/search": {"GET", "HEAD", "OPTIONS"},
    "/api/suggest": {"GET", "HEAD", "OPTIONS"},
    "/api/health": {"GET", "HEAD", "OPTIONS"},
    "/api/articles": {"POST", "OPTIONS"},
    "/api/articles/enwn-30814": {"GET", "HEAD", "DELETE", "OPTIONS"},
    "/openapi.json": {"GET", "HEAD", "OPTIONS"},
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "TRACE")


def assert_json_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (status, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert_error(body, code)
    return body


@pytest.mark.parametrize("path", list(ROUTES))
@pytest.mark.parametrize("method", METHODS)
def test_every_wrong_method_is_405_with_allow(
    web_client: FlaskClient, path: str, method: str
) -> None:
    if method in ROUTES[path]:
        return
    response = web_client.open(path, method=method, headers=AUTH, data="{}")
    assert_json_error(response, 405, "method_not_allowed")
    allowed = {name.strip() for name in response.headers["Allow"].split(",")}
    assert ROUTES[path] - {"OPTIONS", "HEAD"} <= allowed


# -- tokens ------------------------------------------------------------------------------

BAD_AUTHORIZATIONS = [
    None,
    "",
    "Bearer",
    "Bearer ",
    "Bearer    ",
    f"Bearer {ADMIN_TOKEN}x",
    f"Bearer {ADMIN_TOKEN[:-1]}",
    f"Bearer x{ADMIN_TOKEN}",
    f"Bearer {ADMIN_TOKEN.upper()}",
    f"Token {ADMIN_TOKEN}",
    f"Basic {ADMIN_TOKEN}",
    ADMIN_TOKEN,
    f"Bearer{ADMIN_TOKEN}",
    f"Bearer {ADMIN_TOKEN} {ADMIN_TOKEN}",
    "Bearer é€🔑",
    "Bearer " + "a" * 100_000,
    f"Bearer {ADMIN_TOKEN}\t",
]


@pytest.mark.parametrize("authorization", BAD_AUTHORIZATIONS, ids=range(len(BAD_AUTHORIZATIONS)))
def test_writes_refuse_every_wrong_token_and_write_nothing(
    writable_app: Flask, authorization: str | None
) -> None:
    client = writable_app.test_client()
    headers = {} if authorization is None else {"Authorization": authorization}
    count = client.get("/api/health").get_json()["documents"]
    if authorization == f"Bearer {ADMIN_TOKEN}\t":  # surrounding space is not part of a token
        assert client.post("/api/articles", json=RECORD, headers=headers).status_code == 201
        return
    response = client.post("/api/articles", json=RECORD, headers=headers)
    assert_json_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response = client.delete("/api/articles/enwn-30814", headers=headers)
    assert_json_error(response, 401, "unauthorized")
    assert client.get("/api/health").get_json()["documents"] == count


def test_writes_check_the_token_before_reading_the_body(writable_app: Flask) -> None:
    client = writable_app.test_client()
    too_big = b"x" * (2 * 1024 * 1024)
    assert_json_error(client.post("/api/articles", data=too_big), 401, "unauthorized")
    assert_json_error(client.delete("/api/articles/a%00b"), 401, "unauthorized")
    assert_json_error(client.post("/api/articles", data=too_big, headers=AUTH), 413)


def test_without_a_configured_token_writes_are_403_even_with_a_token(web_index: Path) -> None:
    for token in (None, ""):
        client = create_app(app_config(web_index, KIOSQUE_ADMIN_TOKEN=token)).test_client()
        for headers in ({}, AUTH, {"Authorization": "Bearer "}):
            assert_json_error(client.post("/api/articles", json=RECORD, headers=headers), 403)
            assert_json_error(client.delete("/api/articles/enwn-30814", headers=headers), 403)


REAL_COMPARE_DIGEST = hmac.compare_digest


class Spy:
    """Records the calls to hmac.compare_digest, and may force its answer."""

    def __init__(self, answer: bool | None = None) -> None:
        self.calls: list[tuple[bytes, bytes]] = []
        self.answer = answer

    def __call__(self, given: bytes, expected: bytes) -> bool:
        self.calls.append((given, expected))
        real = REAL_COMPARE_DIGEST(given, expected)
        return real if self.answer is None else self.answer


@pytest.fixture()
def spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Spy]:
    watcher = Spy()
    monkeypatch.setattr(web.auth.hmac, "compare_digest", watcher)
    yield watcher


def test_tokens_are_compared_in_constant_time(writable_app: Flask, spy: Spy) -> None:
    client = writable_app.test_client()
    assert client.post("/api/articles", json=RECORD, headers=AUTH).status_code == 201
    assert spy.calls == [(ADMIN_TOKEN.encode(), ADMIN_TOKEN.encode())]
    spy.calls.clear()
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.delete("/api/articles/http-hostile-1", headers=wrong).status_code == 401
    assert spy.calls == [(b"not-the-token", ADMIN_TOKEN.encode())]


def test_only_compare_digest_decides(writable_app: Flask, spy: Spy) -> None:
    """No other comparison of the token: forcing compare_digest's answer forces the outcome."""
    client = writable_app.test_client()
    spy.answer = False
    assert client.post("/api/articles", json=RECORD, headers=AUTH).status_code == 401
    spy.answer = True
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.post("/api/articles", json=RECORD, headers=wrong).status_code == 201
    assert len(spy.calls) == 2


# -- ids -----------------------------------------------------------------------------------

BAD_IDS = [
    ("..%2F..%2Fetc%2Fpasswd", 404),
    ("%2e%2e/%2e%2e/etc/passwd", 404),
    ("..", 404),
    (".", 404),
    ("..%5C..%5Cwindows", 404),
    ("%2Fetc%2Fpasswd", 404),  # werkzeug merges the slashes: a 308, then a 404
    ("a%00b", 400),
    ("a%01b", 400),
    ("a%09b", 400),
    ("a%0Db", 400),
    ("a%1Bb", 400),
    ("a%7Fb", 400),
    ("a%C2%85b", 400),  # NEL, a C1 control
    ("a%E2%80%AEb", 400),  # right-to-left override
    ("%FF%FE", 404),  # not UTF-8: read as U+FFFD
    ("x" * 257, 400),
    ("%00" * 300, 400),
]


@pytest.mark.parametrize(("doc_id", "status"), BAD_IDS, ids=[i[:20] for i, _ in BAD_IDS])
def test_hostile_ids_get_a_json_4xx_on_every_route(
    writable_app: Flask, doc_id: str, status: int
) -> None:
    client = writable_app.test_client()
    count = client.get("/api/health").get_json()["documents"]
    code = "invalid_id" if status == 400 else "not_found"
    api = f"/api/articles/{doc_id}"
    assert_json_error(client.get(api, follow_redirects=True), status, code)
    deleted = client.delete(api, headers=AUTH, follow_redirects=True)
    assert_json_error(deleted, status, code)
    page = client.get(
        f"/articles/{doc_id}", headers={"Accept": "application/json"}, follow_redirects=True
    )
    assert_json_error(page, status)
    html = client.get(f"/articles/{doc_id}", headers={"Accept": "text/html"}, follow_redirects=True)
    assert html.status_code == status and html.mimetype == "text/html"
    assert client.get("/api/health").get_json()["documents"] == count


# -- bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"[" * 100_000 + b"]" * 100_000, 400, "invalid_records"),
        (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, 400, "invalid_records"),
        (b"\x00" * 100, 400, "invalid_records"),
        (b"\xff" * 100, 400, "invalid_records"),
        (json.dumps({**RECORD, "id": "bad\u0000id"}).encode(), 400, "invalid_records"),
        (json.dumps({**RECORD, "body": "x" * 1_000_001}).encode(), 400, "invalid_records"),
        (json.dumps([RECORD] * 0).encode(), 400, "invalid_records"),
        (b"null", 400, "invalid_records"),
        (b"1e999999", 400, "invalid_records"),
    ],
    ids=["deep-array", "deep-object", "nul", "not-utf8", "control-id", "too-long", "empty-array",
         "null", "huge-number"],
)  # fmt: skip
def test_hostile_bodies_are_400_with_reasons(
    writable_app: Flask, body: bytes, status: int, code: str
) -> None:
    app = writable_app
    app.config["MAX_CONTENT_LENGTH"] = 4 * 1024 * 1024
    client = app.test_client()
    response = client.post(
        "/api/articles", data=body, headers=AUTH, content_type="application/json"
    )
    assert_json_error(response, status, code)


def test_control_characters_and_lone_surrogates_are_cleaned_not_fatal(writable_app: Flask) -> None:
    client = writable_app.test_client()
    body = (HOSTILE / "control-escapes.jsonl").read_bytes()
    response = client.post(
        "/api/articles", data=body, headers=AUTH, content_type="application/x-ndjson"
    )
    assert response.status_code == 201, response.get_json()
    result = response.get_json()
    assert result["indexed"] == 2
    assert [(f["line"], "control characters" in f["reason"]) for f in result["failures"]] == [
        (2, True)
    ]
    article = client.get("/api/articles/ctl-3").get_json()
    assert article["title"].endswith("\ufffd") and "\x00" not in article["body"]


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "text/plain",
        "application/octet-stream",
        None,
    ],
)
def test_any_content_type_gets_a_json_answer(writable_app: Flask, content_type: str | None) -> None:
    client = writable_app.test_client()
    headers = dict(AUTH)
    if content_type:
        headers["Content-Type"] = content_type
    response = client.post("/api/articles", data=json.dumps(RECORD), headers=headers)
    assert response.status_code in (201, 400, 415) and response.mimetype == "application/json"
    if response.status_code != 201:
        assert_error(response.get_json())


# -- over a real waitress server ----------------------------------------------------------------


def raw_request(
    base: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, str, bytes]:
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        chunked = body is not None and not isinstance(body, bytes)
        connection.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def test_oversized_bodies_over_waitress(live_server: str) -> None:
    big = b"x" * (2 * 1024 * 1024)  # the live server's app takes at most 1 MB
    headers = {**AUTH, "Content-Type": "application/json"}
    status, kind, data = raw_request(live_server, "POST", "/api/articles", big, headers)
    assert status == 413 and kind == "application/json"
    assert_error(json.loads(data), "payload_too_large")
    chunks = iter([b"x" * 65536] * 32)  # chunked: no Content-Length to refuse it by
    status, kind, data = raw_request(
        live_server, "POST", "/api/articles", chunks, {**headers, "Transfer-Encoding": "chunked"}
    )
    assert status == 413 and kind == "application/json"
    status, kind, data = raw_request(
        live_server, "POST", "/api/articles", big, {"Content-Type": "application/json"}
    )
    assert status == 401 and kind == "application/json"


def test_malformed_requests_over_waitress_are_4xx(live_server: str) -> None:
    """Requests waitress refuses itself (before the app) get a 4xx in the one error shape."""
    cases = [
        ("POST", "/api/articles", b"{}", {**AUTH, "Content-Length": "abc"}, "bad_request"),
        ("GET", "/api/health", None, {"X-Padding": "a" * 300_000}, "headers_too_large"),
        ("GET", "/api/search?q=" + "a" * 300_000, None, {}, "headers_too_large"),
    ]
    for method, path, body, headers, code in cases:
        status, kind, data = raw_request(live_server, method, path, body, headers)
        assert 400 <= status < 500, (method, path[:40], status)
        assert kind == "application/json", (method, path[:40], kind)
        assert_error(json.loads(data), code)
    status, kind, data = raw_request(live_server, "GET", "/api/articles/../../etc/passwd")
    assert status == 404 and kind == "application/json"
    status, kind, data = raw_request(live_server, "GET", "/api/search?q=" + "a" * 5000)
    assert status == 400 and kind == "application/json"
    assert_error(json.loads(data), "query_too_long")
