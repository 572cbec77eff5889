"""The result cache seen from HTTP and the command line: same JSON, stats, invalidation, off."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import jsonify, request
from flask.testing import FlaskClient
from web_helpers import ADMIN_TOKEN, app_config, assert_matches_spec

from web import cli, create_app, state
from web.config import ConfigError, load
from web.params import parse_search

pytest_plugins = ("web_fixtures",)

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
URLS = [
    "/api/search?q=élection",
    "/api/search?q=election&lang=fr&per_page=3&page=2",
    "/api/search?q=election&sort=oldest&expand=1&recency=0",
    "/api/search?q=electoin",
    "/api/search?q=&lang=en",
    "/api/suggest?q=pr%C3%A9s&limit=3",
]


def client(index_dir: Path, **settings: Any) -> FlaskClient:
    return create_app(app_config(index_dir, **settings)).test_client()


def stats(web_client: FlaskClient) -> dict[str, Any]:
    response = web_client.get("/api/stats")
    assert response.status_code == 200
    body = response.get_json()
    assert_matches_spec("/api/stats", "get", 200, body)
    return body["cache"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("url", URLS)
def test_a_cache_hit_returns_the_same_bytes_as_no_cache(web_index: Path, url: str) -> None:
    cached, uncached = client(web_index), client(web_index, KIOSQUE_CACHE_SIZE=0)
    miss, hit, fresh = cached.get(url), cached.get(url), uncached.get(url)
    assert miss.status_code == hit.status_code == fresh.status_code == 200
    assert miss.data == hit.data == fresh.data
    assert stats(cached)["hits"] == 1 and stats(uncached)["hits"] == 0


@pytest.mark.parametrize("url", URLS[:5])
def test_search_sends_what_jsonify_would(web_index: Path, url: str) -> None:
    """The kept bytes of a page (ResultPage.to_json) are jsonify's, byte for byte."""
    app = create_app(app_config(web_index))
    web_client = app.test_client()
    sent = [web_client.get(url) for _ in range(2)]
    with app.test_request_context(url):
        params = parse_search(request.args)
        page = state.engine().search(params.q, **params.engine_kwargs())
        expected = jsonify(page.to_dict())
    for response in sent:
        assert response.status_code == 200 and response.data == expected.data
        assert response.headers["Content-Type"] == expected.headers["Content-Type"]


def test_debug_mode_still_indents_the_search_json(web_index: Path) -> None:
    app = create_app(app_config(web_index))
    app.debug = True
    response = app.test_client().get("/api/search?q=élection")
    assert response.status_code == 200 and b'\n  "query": "\xc3\xa9lection"' in response.data


def test_stats_show_the_cache_at_work(web_index: Path) -> None:
    web_client = client(web_index, KIOSQUE_CACHE_SIZE=2)
    for url in ("/api/search?q=a", "/api/search?q=b", "/api/search?q=a", "/api/search?q=c"):
        assert web_client.get(url).status_code == 200
    cache = stats(web_client)
    assert cache["enabled"] and cache["max_entries"] == 2 and cache["entries"] == 2
    assert (cache["hits"], cache["misses"], cache["evictions"]) == (1, 3, 1)
    assert cache["hit_rate"] == 0.25 and 0 < cache["bytes"] <= cache["max_bytes"]
    assert cache["max_bytes"] == 32 * 2**20


def test_cache_size_0_disables_it(web_index: Path) -> None:
    web_client = client(web_index, KIOSQUE_CACHE_SIZE=0)
    for _ in range(3):
        assert web_client.get("/api/search?q=élection").status_code == 200
    cache = stats(web_client)
    assert not cache["enabled"] and cache["entries"] == cache["hits"] == cache["misses"] == 0


def test_pages_and_articles_use_the_cache_with_the_same_html(web_index: Path) -> None:
    cached, uncached = client(web_index), client(web_index, KIOSQUE_CACHE_SIZE=0)
    for url in ("/?q=élection&lang=fr", "/articles/enwn-30814"):
        first, second, fresh = cached.get(url), cached.get(url), uncached.get(url)
        assert first.status_code == second.status_code == fresh.status_code == 200
        assert _without_timing(first.data) == _without_timing(second.data) == _without_timing(
            fresh.data)
    assert stats(cached)["hits"] >= 2


def _without_timing(html: bytes) -> bytes:
    """The page says how long the search took: the one part that may differ."""
    return re.sub(rb'<span class="took">.*?</span>', b"", html)


def test_a_write_through_the_api_is_visible_at_once(writable_app: Any) -> None:
    web_client = writable_app.test_client()
    url = "/api/search?q=ornithorynque"
    assert web_client.get(url).get_json()["total"] == 0
    assert web_client.get(url).get_json()["total"] == 0  # now cached
    record = {"id": "api-orni", "title": "Un ornithorynque au zoo", "lang": "fr",
              "body": "Un ornithorynque est arrivé au zoo de la ville cette semaine."}
    assert web_client.post("/api/articles", data=json.dumps(record), headers=AUTH,
                           content_type="application/json").status_code == 201
    assert [hit["id"] for hit in web_client.get(url).get_json()["hits"]] == ["api-orni"]
    assert web_client.delete("/api/articles/api-orni", headers=AUTH).status_code == 200
    assert web_client.get(url).get_json()["total"] == 0
    assert stats(web_client)["invalidations"] == 2


def test_the_settings_come_from_the_environment_too() -> None:
    settings = load(environ={"KIOSQUE_CACHE_SIZE": "0", "KIOSQUE_CACHE_MB": "8"})
    assert (settings["KIOSQUE_CACHE_SIZE"], settings["KIOSQUE_CACHE_MB"]) == (0, 8)
    with pytest.raises(ConfigError):
        load(environ={"KIOSQUE_CACHE_SIZE": "-1"})


@pytest.mark.parametrize("args, env, expected", [
    ([], {}, (1024, 32)),
    (["--cache-size", "0"], {}, (0, 32)),
    (["--cache-size", "10", "--cache-mb", "4"], {}, (10, 4)),
    ([], {"KIOSQUE_CACHE_SIZE": "0"}, (0, 32)),
])
def test_serve_takes_the_cache_bounds(web_index: Path, monkeypatch: pytest.MonkeyPatch,
                                      args: list[str], env: dict[str, str],
                                      expected: tuple[int, int]) -> None:
    seen: dict[str, Any] = {}

    def fake_serve(index_dir: Path, host: str, port: int, threads: int, workers: int | None,
                   engine: Any = None, cache: Any = None) -> None:
        seen.update(engine=engine, cache=cache)

    monkeypatch.setattr(cli, "serve", fake_serve)
    result = CliRunner().invoke(cli.main, ["serve", "--index-dir", str(web_index), *args],
                                env=env)
    assert result.exit_code == 0, result.output
    cache, engine = seen["cache"], seen["engine"]
    assert (cache.entries, cache.megabytes) == expected
    assert engine.cache.max_entries == expected[0]
    assert engine.cache.enabled == (expected[0] > 0)
    assert cache.settings(web_index)["CACHE_SIZE"] == expected[0]


def test_serve_refuses_a_negative_cache_size(web_index: Path) -> None:
    result = CliRunner().invoke(cli.main, ["serve", "--index-dir", str(web_index),
                                           "--cache-size", "-1"])
    assert result.exit_code == 2
