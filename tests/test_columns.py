"""Per-document columns (facets, dates, stories): kept by segment, put together by generation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from indexer import add_documents, build_index, delete_documents
from search import Article, SearchEngine, store
from search.cache import per_segment
from search.engine import coded_column, column, day_ordinals

NAMES = ("lang", "source", "year", "month", "story", "day")


def whole_index_codes(searcher, name: str) -> tuple[list[int], list]:  # noqa: ANN001
    """The column read through Whoosh's reader of the whole index, coded by first appearance."""
    index: dict = {}
    values = list(searcher.reader().column_reader(name))
    return [index.setdefault(value, len(index)) for value in values], list(index)


def assert_columns_match_the_index(engine: SearchEngine) -> None:
    searcher = engine.searcher()
    for name in NAMES:
        assert column(searcher, name) == list(searcher.reader().column_reader(name))
        codes, labels = coded_column(searcher, name)
        assert (codes.tolist(), labels) == whole_index_codes(searcher, name)
    expected = [dt.date(day // 10000, day // 100 % 100, day % 100).toordinal()
                if day is not None and 10000101 <= day <= 99991231 else 0
                for day in searcher.reader().column_reader("day")]
    assert day_ordinals(searcher).tolist() == expected


def kept_values(engine: SearchEngine) -> dict[str, list]:
    """Each segment's kept ``lang`` values, by segment id."""
    searcher = engine.searcher()
    return {leaf.segment().segment_id(): per_segment(searcher, leaf)[("values", "lang")]
            for leaf, _ in searcher.reader().leaf_readers()}


@pytest.fixture
def built(tmp_path: Path, engine_articles: list[Article]) -> Path:
    index_dir = tmp_path / "index"
    build_index(engine_articles[:20], index_dir, workers=1)
    return index_dir


def test_a_commit_reads_only_the_new_segment(built: Path, engine_articles: list[Article]):
    engine = SearchEngine(built, cache_size=0)
    assert engine.search("élection").total >= 0
    assert_columns_match_the_index(engine)
    before = kept_values(engine)
    undated = Article(id="new-1", title="Un article sans date", body="Texte nouveau.",
                      lang="fr", source="Ailleurs")
    add_documents([engine_articles[20], undated], built)
    assert_columns_match_the_index(engine)
    after = kept_values(engine)
    assert len(after) == len(before) + 1, "the addition did not make a segment of its own"
    for segment_id, values in before.items():
        assert after[segment_id] is values  # the same list: not read again
    page = engine.search("nouveau", source="Ailleurs")
    assert [hit.id for hit in page.hits] == ["new-1"]
    assert page.facets["source"]["Ailleurs"] == 1  # the other sources stay offered


def test_deletions_and_merges_keep_columns_right(built: Path, engine_articles: list[Article]):
    engine = SearchEngine(built, cache_size=0)
    assert_columns_match_the_index(engine)
    for article in engine_articles[20:26]:
        add_documents([article], built)
        assert_columns_match_the_index(engine)
    delete_documents([engine_articles[0].id, engine_articles[21].id], built)
    assert_columns_match_the_index(engine)
    store.open_index(built).optimize()
    assert_columns_match_the_index(engine)
    searcher = engine.searcher()
    leaves = [leaf for leaf, _ in searcher.reader().leaf_readers()]
    assert len(leaves) == 1
    kept = searcher._ix.__dict__["_kiosque_segments"]
    assert set(kept) == {(str(searcher._ix.storage.folder), leaves[0].segment().segment_id())}
