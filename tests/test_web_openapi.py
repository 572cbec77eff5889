"""/openapi.json: a valid OpenAPI 3.1 document that covers every route and matches real answers."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from web_helpers import assert_matches_spec

from web.openapi import spec

pytest_plugins = ("web_fixtures",)

SAMPLE_REQUESTS = [
    ("/api/search", "/api/search?q=élection&lang=fr&per_page=3"),
    ("/api/search", "/api/search?q=election&sort=oldest&expand=1&recency=0"),
    ("/api/search", "/api/search?q=electoin"),
    ("/api/search", "/api/search?q=election&page=0"),
    ("/api/search", "/api/search?q=election&from=2022-02-30"),
    ("/api/suggest", "/api/suggest?q=pr%C3%A9sid&limit=3"),
    ("/api/suggest", "/api/suggest?limit=0"),
    ("/api/health", "/api/health"),
    ("/api/articles/{id}", "/api/articles/2017_05_07-003"),
    ("/api/articles/{id}", "/api/articles/missing"),
    ("/api/articles/{id}", "/api/articles/bad%1Fid"),
]


def test_the_document_is_valid_openapi_3_1(web_client: FlaskClient) -> None:
    served = web_client.get("/openapi.json").get_json()
    assert served == spec() and served["openapi"].startswith("3.1")
    validate(served)


def test_every_route_is_described(web_app: Flask) -> None:
    described = spec()["paths"]
    for rule in web_app.url_map.iter_rules():
        if rule.endpoint in ("static", "pages.favicon"):
            continue
        path = re.sub(r"<(?:\w+:)?\w+>", "{id}", rule.rule)
        assert path in described, path
        methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        assert {m.lower() for m in methods} <= set(described[path]), (path, methods)


def test_every_api_operation_documents_its_errors() -> None:
    for path, item in spec()["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            if method == "parameters":
                continue
            default = operation["responses"]["default"]
            assert default["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"}, (path, method)


@pytest.mark.parametrize("template, url", SAMPLE_REQUESTS)
def test_real_responses_match_the_description(web_client: FlaskClient, template: str,
                                              url: str) -> None:
    response = web_client.get(url)
    assert response.mimetype == "application/json"
    assert_matches_spec(template, "get", response.status_code, response.get_json())


def test_the_description_rejects_a_wrong_shape() -> None:
    with pytest.raises(Exception, match="required"):
        assert_matches_spec("/api/search", "get", 200, {"query": "x"})
    with pytest.raises(Exception, match="required"):
        assert_matches_spec("/api/search", "get", 400, {"error": {"message": "no code"}})
