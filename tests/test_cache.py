"""The result cache: bounds, generations and threads (search/cache.py), then on a real engine."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
from conftest import ENGINE_ARTICLES, load_articles

from indexer import add_documents, build_index, delete_documents
from search import Article, ResultPage, SearchEngine, SearchError
from search.cache import ResultCache, approximate_size

# -- ResultCache alone ----------------------------------------------------------------------


def test_a_hit_returns_the_computed_value_without_computing_again() -> None:
    cache = ResultCache(max_entries=4)
    calls: list[int] = []
    first = cache.get_or_compute("g1", "k", lambda: calls.append(1) or ("v",))
    second = cache.get_or_compute("g1", "k", lambda: calls.append(1) or ("other",))
    assert first is second and calls == [1]
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries) == (1, 1, 1)
    assert stats.to_dict()["hit_rate"] == 0.5 and stats.to_dict()["enabled"]


def test_least_recently_used_entries_leave_first() -> None:
    cache = ResultCache(max_entries=2)
    for key in ("a", "b"):
        cache.get_or_compute("g", key, lambda key=key: key)
    cache.get_or_compute("g", "a", lambda: "again")  # a is now the most recent
    cache.get_or_compute("g", "c", lambda: "c")  # b leaves
    assert cache.get_or_compute("g", "a", lambda: "recomputed") == "a"
    assert cache.get_or_compute("g", "b", lambda: "recomputed") == "recomputed"
    assert cache.stats().entries == 2 and cache.stats().evictions == 2


def test_the_byte_bound_holds() -> None:
    value = "x" * 1000
    size = approximate_size(value)
    cache = ResultCache(max_entries=1000, max_bytes=size * 10)
    for number in range(50):
        cache.get_or_compute("g", number, lambda number=number: value + str(number))
    stats = cache.stats()
    assert stats.bytes <= stats.max_bytes and 5 <= stats.entries <= 10


def test_a_value_too_large_for_the_cache_is_returned_but_not_kept() -> None:
    cache = ResultCache(max_entries=10, max_bytes=4000)
    big = "y" * 2000  # over a quarter of max_bytes
    assert cache.get_or_compute("g", "big", lambda: big) is big
    assert cache.stats().entries == 0


def test_a_new_generation_empties_the_cache_and_old_ones_never_come_back() -> None:
    cache = ResultCache(max_entries=10)
    cache.get_or_compute("g1", "k", lambda: "old")
    assert cache.get_or_compute("g2", "k", lambda: "new") == "new"
    assert cache.stats().entries == 1 and cache.stats().invalidations == 1
    # a thread still holding a searcher of g1 gets a fresh answer, never kept
    assert cache.get_or_compute("g1", "k", lambda: "late") == "late"
    assert cache.get_or_compute("g1", "k", lambda: "later") == "later"
    assert cache.get_or_compute("g2", "k", lambda: "recomputed") == "new"


def test_size_zero_disables_it() -> None:
    cache = ResultCache(max_entries=0)
    values = [cache.get_or_compute("g", "k", lambda: object()) for _ in range(3)]
    assert len({id(v) for v in values}) == 3
    stats = cache.stats()
    assert stats.entries == stats.hits == stats.misses == 0 and not stats.to_dict()["enabled"]


def test_an_exception_propagates_and_nothing_is_kept() -> None:
    cache = ResultCache(max_entries=4)

    def fail() -> str:
        raise SearchError("bad")

    with pytest.raises(SearchError):
        cache.get_or_compute("g", "k", fail)
    assert cache.get_or_compute("g", "k", lambda: "ok") == "ok"


def test_concurrent_misses_of_one_key_compute_once() -> None:
    cache = ResultCache(max_entries=4)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> tuple[str]:
        calls.append(1)
        started.set()
        release.wait(10)
        return ("value",)

    results: list[object] = []
    leader = threading.Thread(target=lambda: results.append(cache.get_or_compute("g", "k", slow)))
    leader.start()
    started.wait(10)
    waiters = [threading.Thread(target=lambda: results.append(
        cache.get_or_compute("g", "k", slow))) for _ in range(3)]
    for thread in waiters:
        thread.start()
    while cache.stats().coalesced < 3:
        threading.Event().wait(0.01)
    release.set()
    for thread in [leader, *waiters]:
        thread.join()
    assert calls == [1] and len(results) == 4 and all(r is results[0] for r in results)
    stats = cache.stats()
    assert (stats.misses, stats.coalesced, stats.hits) == (1, 3, 0)


def test_waiters_compute_for_themselves_when_the_first_fails() -> None:
    cache = ResultCache(max_entries=4)
    started, release = threading.Event(), threading.Event()

    def failing() -> str:
        started.set()
        release.wait(10)
        raise RuntimeError("index gone")

    errors: list[BaseException] = []

    def first() -> None:
        try:
            cache.get_or_compute("g", "k", failing)
        except RuntimeError as error:
            errors.append(error)

    leader = threading.Thread(target=first)
    leader.start()
    started.wait(10)
    got: list[str] = []
    waiter = threading.Thread(
        target=lambda: got.append(cache.get_or_compute("g", "k", lambda: "ok")))
    waiter.start()
    while cache.stats().coalesced < 1:
        threading.Event().wait(0.01)
    release.set()
    leader.join()
    waiter.join()
    assert len(errors) == 1 and got == ["ok"]


def test_negative_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        ResultCache(max_entries=-1)


def test_threads_hammering_a_small_cache_keep_it_consistent() -> None:
    cache = ResultCache(max_entries=16, max_bytes=10**6)
    errors: list[str] = []

    def work(worker: int) -> None:
        for turn in range(2000):
            key = (worker * 7 + turn) % 40
            generation = "g2" if turn > 1500 else "g1"
            value = cache.get_or_compute(generation, key, lambda k=key, g=generation: (g, k))
            if value[1] != key or (generation == "g2" and value[0] != "g2"):
                errors.append(f"{generation} {key}: {value}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = cache.stats()
    assert not errors
    assert stats.entries <= 16 and stats.hits + stats.misses + stats.coalesced == 8 * 2000
    assert stats.bytes == sum(size for _, size in cache._entries.values())


# -- on a real engine ----------------------------------------------------------------------


REQUESTS = [
    {"query": "élection"},
    {"query": "élection", "page": 2, "per_page": 3},
    {"query": "election", "lang": "fr"},
    {"query": "election", "lang": ["FR", "en"], "sort": "newest"},
    {"query": "election", "date_from": "2016-01-01", "date_to": "2018-12-31"},
    {"query": "football", "recency": False, "expand_stories": True},
    {"query": ""},
    {"query": "", "lang": "en", "sort": "oldest"},
]


@pytest.fixture()
def private_engine(tmp_path: Path) -> SearchEngine:
    """An engine over its own index, which the test may change."""
    build_index([ENGINE_ARTICLES], tmp_path / "index", workers=1)
    return SearchEngine(tmp_path / "index")


@pytest.mark.parametrize("request_kwargs", REQUESTS, ids=lambda kw: json.dumps(kw))
def test_a_cached_page_equals_an_uncached_one(engine_index: Path, request_kwargs: dict) -> None:
    cached = SearchEngine(engine_index)
    uncached = SearchEngine(engine_index, cache_size=0)
    query = request_kwargs.pop("query")
    first = cached.search(query, **request_kwargs)
    hit = cached.search(query, **request_kwargs)
    fresh = uncached.search(query, **request_kwargs)
    assert hit is first and cached.cache_stats().hits == 1
    assert json.dumps(hit.to_dict()) == json.dumps(fresh.to_dict())
    assert hit == fresh


def test_requests_that_differ_are_not_confused(engine_index: Path) -> None:
    engine = SearchEngine(engine_index)
    pages = [engine.search(**{"query": "election", **kw}) for kw in (
        {}, {"page": 2}, {"per_page": 5}, {"lang": "fr"}, {"lang": "en"}, {"sort": "oldest"},
        {"recency": False}, {"expand_stories": True}, {"date_from": "2017-01-01"},
    )]
    pages.append(engine.search("elections"))
    pages.append(engine.search("election "))  # the query is echoed as given
    assert engine.cache_stats().misses == len(pages) and engine.cache_stats().hits == 0
    assert pages[-1].query == "election "


def test_spellings_of_one_request_share_an_entry(engine_index: Path) -> None:
    engine = SearchEngine(engine_index)
    first = engine.search("election", lang="fr,en", date_from="2017-01-01", per_page=500)
    same = engine.search("election", lang=["FR", "en"], date_from=first and "2017-01-01",
                         per_page=100)
    assert same is first


def test_invalid_parameters_still_raise(engine_index: Path) -> None:
    engine = SearchEngine(engine_index)
    for kwargs in ({"page": 0}, {"sort": "random"}, {"date_from": "2017-02-30"}):
        with pytest.raises(SearchError):
            engine.search("election", **kwargs)
        with pytest.raises(SearchError):
            engine.search("election", **kwargs)


def test_a_commit_is_never_answered_from_the_cache(private_engine: SearchEngine) -> None:
    engine = private_engine
    before = engine.search("zorglubissime")
    assert before.total == 0 and engine.search("zorglubissime") is before
    article = Article(id="new-1", title="Le zorglubissime arrive", body="Un zorglubissime "
                      "a été vu hier soir dans la ville, disent les témoins.", lang="fr")
    add_documents([article], engine.index_dir, workers=1)
    after = engine.search("zorglubissime")
    assert [hit.id for hit in after.hits] == ["new-1"]
    assert engine.suggest("zorglu") == ["zorglubissime"]
    delete_documents(["new-1"], engine.index_dir)
    assert engine.search("zorglubissime").total == 0
    assert engine.suggest("zorglu") == []
    assert engine.cache_stats().invalidations == 2


def test_a_rebuild_is_never_answered_from_the_cache(private_engine: SearchEngine,
                                                    tmp_path: Path) -> None:
    engine = private_engine
    total = engine.search("election").total
    assert total > 0
    few = load_articles()[:3]
    source = tmp_path / "few.jsonl"
    source.write_text("\n".join(json.dumps(a.to_dict()) for a in few), encoding="utf-8")
    build_index([source], engine.index_dir, workers=1)
    assert engine.search("election").total < total
    assert engine.cache_stats().invalidations == 1


def test_more_like_and_suggest_are_cached_as_fresh_lists(engine: SearchEngine) -> None:
    doc_id = engine.search("élection").hits[0].id
    first, second = engine.more_like(doc_id, 3), engine.more_like(doc_id, 3)
    assert first == second and first is not second  # callers may change their list
    first.clear()
    assert engine.more_like(doc_id, 3) == second
    words = engine.suggest("élec")
    words.append("junk")
    assert "junk" not in engine.suggest("élec")


def test_cached_pages_cannot_be_changed(engine: SearchEngine) -> None:
    page = engine.search("élection")
    with pytest.raises(TypeError):
        page.facets["lang"]["xx"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        page.facets.clear()
    with pytest.raises(AttributeError):
        page.total = 0  # type: ignore[misc]
    copied = page.to_dict()
    copied["facets"]["lang"]["xx"] = 1
    assert "xx" not in engine.search("élection").facets["lang"]


def test_a_cached_page_keeps_its_json_and_the_size_counts_it(engine_index: Path) -> None:
    engine = SearchEngine(engine_index)
    page = engine.search("élection", expand_stories=True)
    data = page.to_json()
    assert engine.search("élection", expand_stories=True).to_json() is data  # made once
    assert json.loads(data) == page.to_dict() and data.endswith(b"\n")
    assert "élection".encode() in data  # UTF-8, not \u escapes
    bare = json.dumps(page.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()
    assert approximate_size(page) >= len(bare) + approximate_size(ResultPage(
        page.query, page.total, page.page, page.per_page, page.hits, page.facets,
        page.suggestion))
    assert engine.cache_stats().bytes >= approximate_size(page)
    uncached = SearchEngine(engine_index, cache_size=0).search("élection", expand_stories=True)
    assert uncached == page and uncached.to_json() == data


def test_a_query_with_a_lone_surrogate_is_cached_and_its_json_is_escaped(
        engine_index: Path) -> None:
    page = SearchEngine(engine_index).search("\ud800 élection")
    assert json.loads(page.to_json()) == page.to_dict() and page.to_json().isascii()


def test_a_commit_gives_new_json(private_engine: SearchEngine) -> None:
    engine = private_engine
    before = engine.search("zorglubissime").to_json()
    assert engine.search("zorglubissime").to_json() is before
    add_documents([Article(id="new-2", title="Le zorglubissime revient", lang="fr",
                           body="Le zorglubissime est revenu ce matin.")],
                  engine.index_dir, workers=1)
    after = engine.search("zorglubissime").to_json()
    assert after != before and json.loads(after)["hits"][0]["id"] == "new-2"


def test_the_bounds_hold_on_real_pages(engine_index: Path) -> None:
    engine = SearchEngine(engine_index, cache_size=3)
    for word in ("élection", "football", "président", "pétrole", "Obama"):
        engine.search(word)
    stats = engine.cache_stats()
    assert stats.entries == 3 and stats.evictions == 2
    assert 0 < stats.bytes <= stats.max_bytes


def test_engines_search_concurrently_with_commits(private_engine: SearchEngine) -> None:
    """Threads search while articles are added: every answer is consistent with some
    committed state, and once the adds are done every thread sees all of them."""
    engine = private_engine
    errors: list[BaseException] = []
    stop = threading.Event()

    def search() -> None:
        try:
            while not stop.is_set():
                page = engine.search("quokkamarin", per_page=50, expand_stories=True)
                assert page.total == len(page.hits)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=search) for _ in range(4)]
    for thread in threads:
        thread.start()
    for number in range(3):
        body = ["Le quokkamarin nage dans la baie, racontent les pêcheurs du port.",
                "A quokkamarin was seen near the harbour by three divers on Sunday.",
                "El quokkamarin volvió a la playa de Tánger según los vecinos."][number]
        add_documents([Article(id=f"q{number}", title=f"Quokkamarin {number}", body=body)],
                      engine.index_dir, workers=1)
    stop.set()
    for thread in threads:
        thread.join()
    assert not errors
    assert engine.search("quokkamarin", per_page=50, expand_stories=True).total == 3


def test_columns_are_shared_by_the_threads_and_renewed_by_a_commit(
        private_engine: SearchEngine) -> None:
    from search.engine import column

    engine = private_engine
    found: list[object] = []
    thread = threading.Thread(target=lambda: found.append(column(engine.searcher(), "day")))
    thread.start()
    thread.join()
    mine = column(engine.searcher(), "day")
    assert found[0] is mine and engine.searcher() is not None
    add_documents([Article(id="late", title="Un article tardif", body="Publié bien plus tard "
                           "que les autres, cet article change les colonnes.", lang="fr",
                           date=dt.date(2030, 1, 2))],
                  engine.index_dir, workers=1)
    renewed = column(engine.searcher(), "day")
    assert renewed is not mine and 20300102 in renewed and 20300102 not in mine
