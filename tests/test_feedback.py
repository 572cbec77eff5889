"""search/querybuild.py's pseudo-relevance feedback, on a real index of the Wikinews sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from whoosh import query as wq

from search import SearchEngine
from search.analysis import STEM_SEPARATOR, STEMMED_LANGUAGES, index_terms
from search.querybuild import (
    FEEDBACK_DOCUMENTS,
    FEEDBACK_MIN_WORDS,
    FEEDBACK_TERMS,
    FEEDBACK_WEIGHT,
    BuiltQuery,
    build_query,
    with_feedback,
)
from search.querylang import parse_query
from search.ranking import AcrossFields
from search.scoring import ranked_arrays

LONG = ("Why did angry protesters in Kyrgyzstan storm government buildings after the "
        "parliamentary vote, which observers said was rigged, and what did President Akayev "
        "order about the disputed results")


@pytest.fixture(scope="module")
def searcher(engine_index: Path):  # noqa: ANN201 - a Whoosh searcher
    engine = SearchEngine(engine_index, cache_size=0)
    yield engine.searcher()
    engine.close()


def built(searcher, text: str) -> BuiltQuery:  # noqa: ANN001
    return build_query(parse_query(text), searcher.reader(), STEMMED_LANGUAGES)


def terms(query: wq.Query) -> set[str]:
    """The texts of every AcrossFields term of a query tree."""
    if isinstance(query, AcrossFields):
        return {query.text}
    return {text for sub in query.children() for text in terms(sub)}


def test_a_short_query_is_left_as_it_is(searcher) -> None:  # noqa: ANN001
    short = built(searcher, "élection présidentielle américaine")
    assert len(short.words) < FEEDBACK_MIN_WORDS
    assert with_feedback(short, searcher) is short


def test_a_long_query_gets_stems_of_its_best_documents(searcher) -> None:  # noqa: ANN001
    original = built(searcher, LONG)
    assert len(original.words) >= FEEDBACK_MIN_WORDS
    expanded = with_feedback(original, searcher)
    assert isinstance(expanded.query, wq.AndMaybe) and expanded.query.a == original.query
    added = [sub for sub in expanded.query.b.children() if isinstance(sub, AcrossFields)]
    assert 0 < len(added) <= FEEDBACK_TERMS
    assert max(sub.boost for sub in added) == pytest.approx(FEEDBACK_WEIGHT)
    assert all(STEM_SEPARATOR in sub.text for sub in added)
    new = {sub.text for sub in added} - terms(original.query)
    assert new, "feedback added no stem the query did not have"
    top = ranked_arrays(searcher, original.query)[0][:FEEDBACK_DOCUMENTS]
    found: set[str] = set()
    for docnum in top:
        fields = searcher.stored_fields(int(docnum))
        found |= set(index_terms(f"{fields['title']}\n{fields['body']}", fields["lang"]))
    assert {sub.text for sub in added} <= found
    assert expanded.plan == original.plan and expanded.words == original.words


def test_feedback_reorders_what_the_query_matches_and_nothing_else(searcher) -> None:  # noqa: ANN001
    original = built(searcher, LONG)
    before = ranked_arrays(searcher, original.query)[0]
    after = ranked_arrays(searcher, with_feedback(original, searcher).query)[0]
    assert sorted(before.tolist()) == sorted(after.tolist())
    ids = [searcher.stored_fields(int(docnum))["id"] for docnum in after[:4]]
    assert set(ids) <= {"enwn-6028", "enwn-6071", "enwn-6155", "enwn-6530"}


def test_the_engine_searches_the_expanded_query(engine_index: Path, searcher) -> None:  # noqa: ANN001
    engine = SearchEngine(engine_index, cache_size=0)
    try:
        page = engine.search(LONG, per_page=25, recency=False, expand_stories=True)
    finally:
        engine.close()
    expanded = with_feedback(built(searcher, LONG), searcher)
    docnums, _ = ranked_arrays(searcher, expanded.query)
    assert [hit.id for hit in page.hits] == [
        searcher.stored_fields(int(docnum))["id"] for docnum in docnums[:25]]


def ids_from(searcher, docnums, since: str) -> list[str]:  # noqa: ANN001
    """The ids of ranked documents dated ``since`` or later, in their order."""
    fields = [searcher.stored_fields(int(docnum)) for docnum in docnums]
    return [f["id"] for f in fields if str(f["date"]) >= since]


def test_the_best_documents_are_those_the_filters_allow(engine_index: Path, searcher) -> None:  # noqa: ANN001
    since = "2005-03-27"  # hides the two best documents of the whole index, and others
    original = built(searcher, LONG)
    docnums, scores = ranked_arrays(searcher, original.query)
    assert ids_from(searcher, docnums[:2], since) == []
    visible = np.isin(docnums, [d for d in docnums if ids_from(searcher, [d], since)])
    from_visible = with_feedback(original, searcher, (docnums[visible], scores[visible]))
    from_all = with_feedback(original, searcher)
    expected = ids_from(searcher, ranked_arrays(searcher, from_visible.query)[0], since)
    unfiltered = ids_from(searcher, ranked_arrays(searcher, from_all.query)[0], since)
    assert expected != unfiltered, "the fixture no longer tells the two expansions apart"
    engine = SearchEngine(engine_index, cache_size=0)
    try:
        page = engine.search(LONG, date_from=since, per_page=25, recency=False,
                             expand_stories=True)
    finally:
        engine.close()
    assert [hit.id for hit in page.hits] == expected[:25]
