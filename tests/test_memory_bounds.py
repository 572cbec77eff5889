"""A long-running server keeps its caches bounded: each bound is exercised, so that a bound
removed (or an estimate of bytes gone wrong) fails here."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import pytest

from search import Article, SearchEngine, analysis, scoring, snippets
from search import engine as engine_module
from search.cache import BoundedDict, approximate_size
from search.querybuild import MatchPlan
from search.related import key_terms_query


def _fill(count: int) -> None:
    for number in range(count):
        analysis.token_forms(f"motinconnu{number}é", "fr")


def _sizes() -> list[int]:
    return [cached.cache_info().currsize for cached in analysis.WORD_CACHES]


def test_limited_word_caches_drop_their_oldest_words_not_all() -> None:
    """Past its bound a word cache drops its oldest words (an eighth of the bound at a
    time), keeping the newest: it stays near its bound instead of swinging to nothing."""
    bounds = [cached.cache_info().maxsize for cached in analysis.WORD_CACHES]
    try:
        analysis.limit_caches(80)
        _fill(200)
        sizes = _sizes()
        assert all(70 <= size <= 80 for size in sizes), sizes
        assert len(analysis._MATCH_PARTS) <= 80
        newest = analysis.token_forms.table
        assert ("motinconnu199é", "fr") in newest and ("motinconnu0é", "fr") not in newest
        misses = analysis.token_forms.cache_info().misses
        assert analysis.token_forms("motinconnu199é", "fr")[0] == "motinconnu199e"
        assert analysis.token_forms.cache_info().misses == misses  # kept: not computed again
        analysis.limit_caches(10)
        assert max(_sizes()) <= 10
    finally:
        for cached, bound in zip(analysis.WORD_CACHES, bounds, strict=True):
            cached.table.max_entries = bound
    assert analysis.token_forms("élections", "fr") == ("elections", "elections\x1félections",
                                                        "fr:elect")


def test_bounded_dict_drops_its_oldest_keys() -> None:
    table = BoundedDict(16)
    for number in range(40):
        table[number] = str(number)
        assert len(table) <= 16
    assert 14 <= len(table) <= 16 and 39 in table and 0 not in table
    assert min(table) > 40 - 16 - 3  # the oldest went first
    table[39] = "again"  # a key already there drops nothing
    assert len(table) == len(set(table)) and table[39] == "again"


def test_every_request_keeps_the_caches_bounded(
    engine: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "SERVING_CACHE_WORDS", 10)
    _fill(20)
    assert engine.suggest("mar") is not None
    assert max(_sizes()) <= 10
    page = engine.search("élections Maroc")
    assert page.hits and "<mark>" in page.hits[0].title_html + page.hits[0].snippet_html


def _measured(*parts: object) -> int:
    """What the objects hold, as search.cache.approximate_size counts it (numpy arrays:
    their data included)."""
    return approximate_size(parts) - approximate_size(tuple(None for _ in parts))


def test_chunk_indexes_stay_within_their_bytes(
    engine_articles: list[Article], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snippet chunk indexes of all languages together stay within CHUNK_INDEX_BYTES
    (give or take one text's chunks), and their estimate of their bytes is close to what
    they hold: a bound on a wrong estimate would bound nothing."""
    budget = 40_000
    monkeypatch.setattr(snippets, "CHUNK_INDEX_BYTES", budget)
    monkeypatch.setattr(snippets, "_chunk_indexes", {})
    plan = MatchPlan(forms={"gouvernement", "president"})
    most = 0
    for article in engine_articles:
        snippets.find_matches(article.body, article.lang, MatchPlan(forms=plan.forms))
        indexes = list(snippets._chunk_indexes.values())
        most = max(most, sum(index.bytes for index in indexes))
        for index in indexes:
            if len(index.known) > 50:
                assert 0.8 <= index.bytes / _measured(index.known, index.by_form) <= 1.6
    largest_text = max(len(article.body) for article in engine_articles)
    assert budget < most <= budget + 200 * largest_text  # reached, and held to it


def test_a_full_chunk_index_stops_growing_and_still_finds_every_match(
    engine_articles: list[Article], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the chunk indexes hold CHUNK_INDEX_BYTES they are frozen: not replaced, not
    grown (their memory is level), and the chunks they leave out are still matched: every
    text's matches stay those of a full analysis, for words met only after the bound."""
    monkeypatch.setattr(snippets, "CHUNK_INDEX_BYTES", 20_000)
    monkeypatch.setattr(snippets, "_chunk_indexes", {})
    frozen: dict[str, tuple[snippets._ChunkIndex, int, int]] = {}
    checked = 0
    for article in engine_articles:
        # the article's last word: after the bound, mostly a chunk the indexes never listed
        last = [t for t in analysis.analyze(article.body) if t.text.isalpha()][-1]
        forms = {"gouvernement", "president", *analysis.token_forms(last.text, article.lang)}
        plan = MatchPlan(forms=forms)
        spans = snippets.find_matches(article.body, article.lang, plan)
        assert spans == snippets.matches_in(article.body, article.lang, plan)
        if frozen:
            checked += (last.start, last.end) in {(s, e) for s, e, _ in spans}
            for lang, (index, known, size) in frozen.items():
                assert snippets._chunk_indexes[lang] is index  # not replaced
                assert (len(index.known), index.bytes) == (known, size)  # not grown
        elif not snippets._chunk_room():
            frozen = {lang: (index, len(index.known), index.bytes)
                      for lang, index in snippets._chunk_indexes.items()}
    assert frozen and checked > 5  # the bound was reached early, then words found past it


def test_postings_cache_stays_within_its_bytes(
    engine: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The postings cache is bounded by bytes (arrays and each entry's own cost), and its
    count of them is close to what it holds."""
    queries = ("élections Maroc", "gouvernement", "football match", "président", "pluie")

    def run(bound: int) -> int:
        monkeypatch.setattr(scoring, "_postings_cache", OrderedDict())
        monkeypatch.setattr(scoring, "_cached_bytes", 0)
        monkeypatch.setattr(scoring, "POSTINGS_CACHE_BYTES", bound)
        most = 0
        for query in queries:
            engine._search(query, 1, 10, None, None, None, None, "relevance", recency=True,
                           expand_stories=False)
            most = max(most, scoring._cached_bytes)
            assert 0.8 <= scoring._cached_bytes / _measured(scoring._postings_cache) <= 1.6
        return most

    everything = run(2**40)
    assert everything // 4 < run(everything // 3) <= everything // 3


def test_searchers_of_every_thread_share_bounded_caches(
    engine_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The idf cache, the day numbers and the group sizes are one per index generation,
    not one per thread's searcher, and the idf cache is bounded."""
    monkeypatch.setattr(engine_module, "IDF_CACHE_ENTRIES", 5)
    shared = SearchEngine(engine_index, cache_size=0)
    found: list[tuple[object, ...]] = []

    def work() -> None:
        shared.search("élections Maroc gouvernement président")
        searcher = shared.searcher()
        for word in ("maroc", "gouvernement", "president", "elections", "football", "paris"):
            searcher.idf("body", word)  # what Whoosh's scorers and more_like's terms ask
        found.append((searcher, searcher._idf_cache, engine_module.day_ordinals(searcher),
                      engine_module.story_sizes(searcher)))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (first, *caches), (second, *others) = found
    assert first is not second  # one searcher a thread...
    assert all(mine is theirs for mine, theirs in zip(caches, others, strict=True))  # ...
    assert all(leaf._idf_cache is caches[0] for leaf, _ in first.subsearchers or ())
    assert 0 < len(caches[0]) <= 5
    shared.close()


def test_piece_cache_is_bounded() -> None:
    """The snippet piece cache is an LRU of PIECE_CACHE_SIZE (entries of about one size)."""
    assert snippets._analyzed_piece.cache_info().maxsize == snippets.PIECE_CACHE_SIZE


def test_more_like_this_reads_the_terms_the_searches_do_not_hold_and_keeps_none(
    engine: SearchEngine, engine_articles: list[Article], monkeypatch: pytest.MonkeyPatch
) -> None:
    """"More like this" uses the postings the searches keep and keeps none of the terms
    they do not hold (an article's rarest: new at nearly every article), so that the
    searches' cache does not grow with them; its results are those of the same query
    kept with the searches' terms."""
    monkeypatch.setattr(scoring, "_postings_cache", OrderedDict())
    monkeypatch.setattr(scoring, "_cached_bytes", 0)
    engine._search("gouvernement", 1, 10, None, None, None, None, "relevance", recency=True,
                   expand_stories=False)
    held = dict(scoring._postings_cache)
    searcher = engine.searcher()
    related = [key_terms_query(searcher, searcher.stored_fields(number))
               for number in range(min(5, searcher.doc_count_all()))]
    query = next(found[0] for found in related if found is not None)
    apart = scoring.score_all(searcher, query, keep_postings=False)
    assert dict(scoring._postings_cache) == held
    assert scoring.score_all(searcher, query, keep_postings=False) == apart
    assert scoring.score_all(searcher, query) == apart  # the same, kept with the searches'
    assert len(scoring._postings_cache) > len(held)
    searched = dict(scoring._postings_cache)
    for article in engine_articles[:20]:
        engine._more_like(article.id, 5)
    assert dict(scoring._postings_cache) == searched  # more_like added nothing there


def test_threads_that_compute_a_shared_column_at_once_get_one_object(
    engine_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two threads that both find a generation's day numbers missing both compute them;
    each must get the one array stored, not its own (search.cache.once)."""
    shared = SearchEngine(engine_index, cache_size=0)
    both_inside = threading.Barrier(2, timeout=10)
    join = engine_module._joined

    def joined_together(arrays):  # noqa: ANN001, ANN202
        both_inside.wait()  # the race made certain: both threads are computing
        return join(arrays)

    monkeypatch.setattr(engine_module, "_joined", joined_together)
    found: list[object] = []
    threads = [threading.Thread(target=lambda: found.append(
        engine_module.day_ordinals(shared.searcher()))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 2 and found[0] is found[1]
    shared.close()
