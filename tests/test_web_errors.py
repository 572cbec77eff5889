"""One error shape for every API error; 503 before the index exists; a 500 that says nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_helpers import ADMIN_TOKEN, app_config, assert_error, load_sample_records

from indexer import add_documents
from search import SearchEngine
from web import create_app

pytest_plugins = ("web_fixtures",)

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ERROR_REQUESTS: list[tuple[str, str, dict[str, Any], int]] = [
    ("GET", "/api/nothing", {}, 404),
    ("GET", "/nothing.json", {}, 404),
    ("GET", "/api/articles/unknown", {}, 404),
    ("GET", "/api/articles/a%01b", {}, 400),
    ("POST", "/api/search", {}, 405),
    ("PUT", "/api/articles/enwn-30814", {}, 405),
    ("DELETE", "/openapi.json", {}, 405),
    ("GET", "/api/search?page=abc", {}, 400),
    ("GET", "/api/search?sort=foo", {}, 400),
    ("GET", "/api/search?from=2022-13-45", {}, 400),
    ("GET", "/api/search?per_page=-1", {}, 400),
    ("GET", "/api/search?q=" + "x" * 1001, {}, 400),
    ("GET", "/api/suggest?limit=many", {}, 400),
    ("POST", "/api/articles", {"data": "{}"}, 401),
    ("POST", "/api/articles", {"data": "{}", "headers": {"Authorization": "Bearer no"}}, 401),
    ("DELETE", "/api/articles/x", {}, 401),
    ("POST", "/api/articles", {"data": "", "headers": AUTH}, 400),
    ("POST", "/api/articles", {"data": "[1, 2]", "headers": AUTH}, 400),
    ("POST", "/api/articles", {"data": "x" * 2_000_000, "headers": AUTH}, 413),
    ("DELETE", "/api/articles/not-there", {"headers": AUTH}, 404),
    ("GET", "/articles/not-there", {}, 404),
]


def test_every_error_has_the_one_shape(writable_app: Flask) -> None:
    """The datasette rule: every error response, whatever raised it, is the same JSON shape."""
    web_client = writable_app.test_client()
    for method, url, kwargs, status in ERROR_REQUESTS:
        response = web_client.open(url, method=method, **kwargs)
        assert response.status_code == status, (method, url, response.get_data(as_text=True))
        assert response.mimetype == "application/json", (method, url)
        assert_error(response.get_json())


def test_forbidden_and_missing_index_have_the_shape_too(tmp_path: Path) -> None:
    web_client = create_app(app_config(tmp_path / "none", KIOSQUE_ADMIN_TOKEN=None)).test_client()
    for url, status in [("/api/health", 503), ("/api/search?q=x", 503),
                        ("/api/suggest?q=ab", 503), ("/api/articles/x", 503)]:
        response = web_client.get(url)
        assert response.status_code == status
        assert_error(response.get_json(), "index_missing")
    response = web_client.post("/api/articles", data="{}")
    assert response.status_code == 403
    assert_error(response.get_json(), "forbidden")


def test_server_starts_before_the_index_and_finds_it_later(tmp_path: Path) -> None:
    index_dir = tmp_path / "later"
    web_client = create_app(app_config(index_dir)).test_client()
    missing = web_client.get("/api/health")
    assert missing.status_code == 503
    message = missing.get_json()["error"]["message"]
    assert "kiosque index build" in message and str(index_dir) in message
    page = web_client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "kiosque index build" in page.get_data(as_text=True)
    add_documents(load_sample_records()[:3], index_dir, workers=1)
    assert web_client.get("/api/health").get_json() == {"status": "ok", "documents": 3}


def test_posting_creates_the_missing_index(tmp_path: Path) -> None:
    web_client = create_app(app_config(tmp_path / "fresh")).test_client()
    record = load_sample_records()[0].to_dict()
    response = web_client.post("/api/articles", data=json.dumps(record), headers=AUTH)
    assert response.status_code == 201
    assert web_client.get("/api/health").get_json()["documents"] == 1


@pytest.fixture()
def broken_search(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals /etc/kiosque")

    monkeypatch.setattr(SearchEngine, "search", explode)


@pytest.mark.usefixtures("broken_search")
def test_an_unexpected_error_is_a_500_without_details(web_client: FlaskClient,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    response = web_client.get("/api/search?q=election")
    assert response.status_code == 500
    body = response.get_json()
    assert_error(body, "internal_error")
    assert "secret" not in response.get_data(as_text=True)
    assert "RuntimeError" in caplog.text
    page = web_client.get("/?q=election", headers={"Accept": "text/html"})
    assert page.status_code == 500 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "secret" not in text and "Traceback" not in text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_index_busy_is_503_with_retry_after(writable_app: Flask,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import indexer

    def busy(*args: Any, **kwargs: Any) -> Any:
        raise indexer.IndexBusy("another process is writing")

    monkeypatch.setattr(indexer, "add_documents", busy)
    response = writable_app.test_client().post(
        "/api/articles", data=json.dumps(load_sample_records()[0].to_dict()), headers=AUTH)
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert_error(response.get_json(), "index_busy")
