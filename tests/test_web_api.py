"""The JSON API through Flask's test client, against a real index of Wikinews articles."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_helpers import ADMIN_TOKEN, app_config, assert_error, assert_matches_spec

from web import create_app

pytest_plugins = ("web_fixtures",)

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def get_json(web_client: FlaskClient, url: str, status: int = 200, **kwargs: Any) -> Any:
    response = web_client.get(url, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def search(web_client: FlaskClient, **params: Any) -> dict[str, Any]:
    body = get_json(web_client, "/api/search", query_string=params)
    assert_matches_spec("/api/search", "get", 200, body)
    return body


# -- search --------------------------------------------------------------------------


def test_search_returns_highlighted_hits_and_facets(web_client: FlaskClient) -> None:
    body = search(web_client, q="election")
    assert body["query"] == "election" and body["page"] == 1 and body["per_page"] == 10
    assert body["total"] > 20 and len(body["hits"]) == 10
    assert all("<mark>" in hit["title_html"] + hit["snippet_html"] for hit in body["hits"])
    assert set(body["facets"]) == {"lang", "source", "year"}
    assert body["facets"]["lang"]["en"] > 0 and body["facets"]["lang"]["fr"] > 0


def test_accented_query_highlights_words_as_written(web_client: FlaskClient) -> None:
    hits = search(web_client, q="élection", lang="fr")["hits"]
    assert hits and all(hit["lang"] == "fr" for hit in hits)
    assert any("<mark>élection" in hit["snippet_html"] or "<mark>Élection" in hit["title_html"]
               for hit in hits)


def test_pages_do_not_overlap(web_client: FlaskClient) -> None:
    first = search(web_client, q="election", per_page=5, page=1)
    second = search(web_client, q="election", per_page=5, page=2)
    assert second["page"] == 2 and len(second["hits"]) == 5
    assert not {h["id"] for h in first["hits"]} & {h["id"] for h in second["hits"]}


def test_per_page_above_the_limit_is_clamped(web_client: FlaskClient) -> None:
    body = search(web_client, q="election", per_page=500)
    assert body["per_page"] == 100
    assert search(web_client, q="election", per_page=10**30)["per_page"] == 100
    response = web_client.get("/api/search", query_string={"q": "election", "per_page": 0})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "per_page: must be at least 1"


@pytest.mark.parametrize("lang", [["fr", "en"], "fr,en"])
def test_lang_is_repeatable_or_comma_separated(web_client: FlaskClient, lang: Any) -> None:
    everything = search(web_client, q="election")["total"]
    assert search(web_client, q="election", lang=lang)["total"] == everything


def test_source_and_date_filters(web_client: FlaskClient) -> None:
    body = search(web_client, q="Halonen", source="Wikinews (syndicated copy)")
    assert [hit["id"] for hit in body["hits"]] == ["enwn-30814-syndicated"]
    dated = search(web_client, q="election", **{"from": "2017-01-01", "to": "2017-12-31"})
    assert dated["hits"] and all(hit["date"].startswith("2017") for hit in dated["hits"])


@pytest.mark.parametrize("sort, reverse", [("newest", True), ("oldest", False)])
def test_sort_by_date(web_client: FlaskClient, sort: str, reverse: bool) -> None:
    dates = [hit["date"] for hit in search(web_client, q="election", sort=sort)["hits"]]
    assert dates == sorted(dates, reverse=reverse)


def test_recency_switch_is_accepted(web_client: FlaskClient) -> None:
    fresh = search(web_client, q="election")
    plain = search(web_client, q="election", recency="0")
    assert fresh["total"] == plain["total"]


def test_stories_list_other_sources_and_expand_lists_each(web_client: FlaskClient) -> None:
    body = search(web_client, q="Halonen wins")
    original = next(hit for hit in body["hits"] if hit["id"] == "enwn-30814")
    assert [member["id"] for member in original["story"]] == ["enwn-30814-syndicated"]
    expanded = search(web_client, q="Halonen wins", expand="1")
    ids = {hit["id"] for hit in expanded["hits"]}
    assert {"enwn-30814", "enwn-30814-syndicated"} <= ids
    assert all(hit["story"] == [] for hit in expanded["hits"])


def test_one_hit_per_story_unless_expanded(web_client: FlaskClient) -> None:
    body = search(web_client, q="Halonen wins", per_page=100)
    ids = [hit["id"] for hit in body["hits"]]
    assert len(ids) == body["total"] and "enwn-30814-syndicated" not in ids


def test_did_you_mean(web_client: FlaskClient) -> None:
    body = search(web_client, q="electoin")
    assert body["total"] == 0 and body["suggestion"] in {"élection", "election"}


def test_filters_alone_browse_the_index(web_client: FlaskClient) -> None:
    body = search(web_client, lang="fr", sort="newest")
    assert body["total"] > 10 and all(hit["lang"] == "fr" for hit in body["hits"])


@pytest.mark.parametrize("query", [
    "\x00\x01", '"', "«", "*", "~", "a~~~", "date:", "date:9999", "date:2022-13", "title:",
    "lang:", "-", "OR", "AND OR NOT", "((", "**", "a*", "x" * 1000, "é" * 500, "\u202e",
    'source:"', "date:2016..", "date:>", "<script>alert(1)</script>",
])
def test_strange_queries_never_fail(web_client: FlaskClient, query: str) -> None:
    search(web_client, q=query)


@pytest.mark.parametrize("params, code", [
    ({"page": "abc"}, "invalid_parameter"),
    ({"page": "0"}, "invalid_parameter"),
    ({"page": "-3"}, "invalid_parameter"),
    ({"page": "100000"}, "invalid_parameter"),
    ({"page": "1.5"}, "invalid_parameter"),
    ({"per_page": "0"}, "invalid_parameter"),
    ({"per_page": "ten"}, "invalid_parameter"),
    ({"sort": "foo"}, "invalid_parameter"),
    ({"from": "2022-13-45"}, "invalid_parameter"),
    ({"to": "yesterday"}, "invalid_parameter"),
    ({"from": "2022-1-5"}, "invalid_parameter"),
    ({"from": "2022-05-01", "to": "2022-04-01"}, "invalid_parameter"),
    ({"recency": "maybe"}, "invalid_parameter"),
    ({"expand": "2"}, "invalid_parameter"),
    ({"lang": "\x07"}, "invalid_parameter"),
    ({"source": ",".join(f"s{i}" for i in range(30))}, "invalid_parameter"),
    ({"q": "x" * 1001}, "query_too_long"),
])
def test_bad_search_parameters_are_400(web_client: FlaskClient, params: dict[str, str],
                                       code: str) -> None:
    body = get_json(web_client, "/api/search", 400, query_string={"q": "election", **params})
    assert_error(body, code)
    name = next(iter(params))
    assert body["error"]["message"].startswith(name if name != "to" else "to")
    assert_matches_spec("/api/search", "get", 400, body)


# -- suggest, health, articles ---------------------------------------------------------------


def test_suggest_completes_the_last_word(web_client: FlaskClient) -> None:
    body = get_json(web_client, "/api/suggest?q=%C3%A9lec")
    assert_matches_spec("/api/suggest", "get", 200, body)
    assert body["query"] == "élec" and "élection" in body["suggestions"]
    plain = get_json(web_client, "/api/suggest?q=elec")["suggestions"]
    assert "election" in plain or "élection" in plain
    two = get_json(web_client, "/api/suggest", query_string={"q": "Élection pré", "limit": 2})
    assert len(two["suggestions"]) == 2
    assert all(s.startswith("Élection pr") for s in two["suggestions"])


@pytest.mark.parametrize("query", ["", "   ", "e"])
def test_suggest_short_input_gives_nothing(web_client: FlaskClient, query: str) -> None:
    assert get_json(web_client, "/api/suggest", query_string={"q": query})["suggestions"] == []


@pytest.mark.parametrize("params", [{"limit": "x"}, {"limit": "0"}, {"limit": "51"},
                                    {"q": "a" * 1001}])
def test_suggest_bad_parameters(web_client: FlaskClient, params: dict[str, str]) -> None:
    body = get_json(web_client, "/api/suggest", 400, query_string={"q": "elec", **params})
    assert_error(body)


def test_health(web_client: FlaskClient) -> None:
    body = get_json(web_client, "/api/health")
    assert_matches_spec("/api/health", "get", 200, body)
    assert body == {"status": "ok", "documents": 41}


def test_article_record(web_client: FlaskClient) -> None:
    body = get_json(web_client, "/api/articles/enwn-30814")
    assert_matches_spec("/api/articles/{id}", "get", 200, body)
    assert body["title"] == "Tarja Halonen wins the 2006 presidential election in Finland"
    assert body["date"] == "2006-01-29" and body["lang"] == "en" and body["source"] == "Wikinews"


@pytest.mark.parametrize("path, status, code", [
    ("/api/articles/no-such-id", 404, "not_found"),
    ("/api/articles/..%2F..%2Fetc%2Fpasswd", 404, "not_found"),
    ("/api/articles/../../etc/passwd", 404, "not_found"),
    ("/api/articles/..", 404, "not_found"),
    ("/api/articles/a%00b", 400, "invalid_id"),
    ("/api/articles/a%0Ab", 404, "not_found"),  # the path converter stops at a newline
    ("/api/articles/" + "x" * 300, 400, "invalid_id"),
])
def test_unknown_or_malformed_ids(web_client: FlaskClient, path: str, status: int,
                                  code: str) -> None:
    assert_error(get_json(web_client, path, status), code)


def test_unknown_api_path_and_wrong_method(web_client: FlaskClient) -> None:
    assert_error(get_json(web_client, "/api/nothing-here", 404), "not_found")
    response = web_client.post("/api/search")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert_error(response.get_json(), "method_not_allowed")


def test_head_requests(web_client: FlaskClient) -> None:
    response = web_client.head("/api/health")
    assert response.status_code == 200 and response.data == b""


# -- writes ----------------------------------------------------------------------------


RECORD = {"id": "api-new-1", "title": "Élection municipale à Rabat",
          "body": "Les électeurs de Rabat ont voté dimanche pour renouveler le conseil "
                  "municipal. La participation a atteint quarante pour cent selon le "
                  "ministère de l'Intérieur, qui publiera les résultats définitifs lundi.",
          "date": "2022-04-20", "source": "Kiosque test", "lang": "fr"}


def post(web_client: FlaskClient, data: bytes | str, headers: dict[str, str] | None = None,
         content_type: str = "application/json") -> Any:
    return web_client.post("/api/articles", data=data, headers=AUTH if headers is None else headers,
                       content_type=content_type)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": ADMIN_TOKEN},
                                     {"Authorization": "Basic dXNlcjpwYXNz"},
                                     {"Authorization": "Bearer "}])
def test_writes_need_the_token(writable_app: Flask, headers: dict[str, str]) -> None:
    web_client = writable_app.test_client()
    response = post(web_client, json.dumps(RECORD), headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(response.get_json(), "unauthorized")
    response = web_client.delete("/api/articles/api-new-1", headers=headers)
    assert response.status_code == 401


def test_writes_are_forbidden_without_a_configured_token(web_index: Any) -> None:
    web_client = create_app(app_config(web_index, KIOSQUE_ADMIN_TOKEN=None)).test_client()
    response = post(web_client, json.dumps(RECORD))
    assert response.status_code == 403
    assert_error(response.get_json(), "forbidden")
    assert web_client.delete("/api/articles/enwn-30814", headers=AUTH).status_code == 403


def test_add_one_record_then_find_and_delete_it(writable_app: Flask) -> None:
    web_client = writable_app.test_client()
    response = post(web_client, json.dumps(RECORD))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert_matches_spec("/api/articles", "post", 201, body)
    assert body["indexed"] == 1 and body["ids"] == ["api-new-1"] and body["failures"] == []
    assert get_json(web_client, "/api/articles/api-new-1")["source"] == "Kiosque test"
    hits = get_json(web_client, "/api/search?q=Rabat")["hits"]
    assert [hit["id"] for hit in hits] == ["api-new-1"]
    deleted = web_client.delete("/api/articles/api-new-1", headers=AUTH)
    assert deleted.status_code == 200 and deleted.get_json() == {"id": "api-new-1",
                                                                 "deleted": True}
    assert_matches_spec("/api/articles/{id}", "delete", 200, deleted.get_json())
    assert_error(get_json(web_client, "/api/articles/api-new-1", 404), "not_found")
    assert get_json(web_client, "/api/search?q=Rabat")["total"] == 0


def test_add_an_array_and_jsonl_with_partial_failures(writable_app: Flask) -> None:
    web_client = writable_app.test_client()
    second = {**RECORD, "id": "api-new-2", "title": "Second scrutin à Fès",
              "body": RECORD["body"].replace("Rabat", "Fès") + " Un second tour aura lieu."}
    response = post(web_client, json.dumps([RECORD, second]))
    assert response.status_code == 201 and response.get_json()["indexed"] == 2
    third = {**second, "id": "api-new-3", "title": "Troisième scrutin à Tanger",
             "body": second["body"].replace("Fès", "Tanger") + " Les bureaux ferment à 19 h."}
    jsonl = "\n".join([json.dumps(third), '{"title": "no body"}', "not json"])
    response = post(web_client, jsonl, content_type="application/x-ndjson")
    body = response.get_json()
    assert response.status_code == 201 and body["indexed"] == 1 and body["ids"] == ["api-new-3"]
    assert [failure["line"] for failure in body["failures"]] == [2, 3]
    assert all(failure["reason"] for failure in body["failures"])
    assert_matches_spec("/api/articles", "post", 201, body)


def test_a_duplicate_under_another_id_indexes_nothing(writable_app: Flask) -> None:
    web_client = writable_app.test_client()
    assert post(web_client, json.dumps(RECORD)).status_code == 201
    response = post(web_client, json.dumps({**RECORD, "id": "api-copy"}))
    body = response.get_json()
    assert response.status_code == 200 and body["indexed"] == 0 and body["duplicates"] == 1
    assert_matches_spec("/api/articles", "post", 200, body)


@pytest.mark.parametrize("data, code", [
    (b"", "empty_body"),
    (b"   \n", "empty_body"),
    (b"{not json", "invalid_records"),
    (b'{"title": "only a title"}', "invalid_records"),
    (b'[{"title": "t"}, {"body": "b"}]', "invalid_records"),
    (b'"a string"', "invalid_records"),
    (b"\xff\xfe\x00garbage\x00", "invalid_records"),
])
def test_rejected_bodies_are_400_with_reasons(writable_app: Flask, data: bytes, code: str) -> None:
    response = post(writable_app.test_client(), data)
    assert response.status_code == 400
    body = response.get_json()
    assert_error(body, code)
    assert_matches_spec("/api/articles", "post", 400, body)
    if code == "invalid_records":
        assert body["error"]["details"] and all(d["reason"] for d in body["error"]["details"])


def test_body_too_large_is_413(web_index: Any) -> None:
    app = create_app(app_config(web_index, KIOSQUE_MAX_BODY_BYTES=100))
    response = post(app.test_client(), json.dumps(RECORD))
    assert response.status_code == 413
    assert_error(response.get_json(), "payload_too_large")


def test_delete_unknown_is_404(writable_app: Flask) -> None:
    response = writable_app.test_client().delete("/api/articles/nope", headers=AUTH)
    assert response.status_code == 404
    assert_error(response.get_json(), "not_found")


# -- CORS ------------------------------------------------------------------------------


def test_no_cors_by_default(web_client: FlaskClient) -> None:
    response = web_client.get("/api/health", headers={"Origin": "https://elsewhere.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_for_configured_origins(web_index: Any) -> None:
    app = create_app(app_config(web_index, KIOSQUE_CORS_ORIGINS="https://a.example, "
                                                                "https://b.example/"))
    web_client = app.test_client()
    allowed = web_client.get("/api/health", headers={"Origin": "https://b.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://b.example"
    assert "Origin" in allowed.headers["Vary"]
    other = web_client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = web_client.options("/api/articles", headers={
        "Origin": "https://a.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    page = web_client.get("/", headers={"Origin": "https://a.example"})
    assert "Access-Control-Allow-Origin" not in page.headers


def test_cors_wildcard(web_index: Any) -> None:
    web_client = create_app(app_config(web_index, KIOSQUE_CORS_ORIGINS="*")).test_client()
    response = web_client.get("/api/search?q=x", headers={"Origin": "https://any.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_ids_with_slashes_are_reachable(writable_app: Flask) -> None:
    web_client = writable_app.test_client()
    record = {**RECORD, "id": "maghress/2022/04/20-1"}
    assert post(web_client, json.dumps(record)).status_code == 201
    assert get_json(web_client, "/api/articles/maghress/2022/04/20-1")["id"] == record["id"]
    assert web_client.get("/articles/maghress/2022/04/20-1").status_code == 200
    assert_error(get_json(web_client, "/api/articles/maghress/2022/../2022/04/20-1", 404))
    assert web_client.delete("/api/articles/maghress/2022/04/20-1", headers=AUTH).status_code == 200
