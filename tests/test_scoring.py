"""search/scoring.py scores every match as Whoosh's own matchers do, on a real index.

The index has several segments and deleted documents, like one that
``kiosque index add`` and ``delete`` have worked on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer import add_documents, build_index, delete_documents
from search import SearchEngine, scoring
from search.querybuild import build_query
from search.querylang import parse_query
from search.scoring import score_all
from tests.conftest import load_articles

QUERIES = [
    "élections", "elections présidentielles", "the president said", "Obama",
    '"premier ministre"', "« Barack Obama »", "paris OR londres", "paris OU londres",
    "football -coupe", "+france +gouvernement", "france AND gouvernement", "NOT guerre",
    "title:paris", "titre:élection", "gouvern*", "électon~", "porte-parole", "1 000",
    "e-mail", "Qu'a dit le président de la République sur l'économie ?", "a", "zzzzzz",
]


@pytest.fixture(scope="module")
def worked_on_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    articles = load_articles()
    index_dir = tmp_path_factory.mktemp("scoring-index")
    build_index(articles[: len(articles) // 2], index_dir, workers=1)
    add_documents(articles[len(articles) // 2 :], index_dir)
    delete_documents([article.id for article in articles[::7]], index_dir)
    return index_dir


def test_the_index_has_segments_and_deletions(worked_on_index: Path) -> None:
    searcher = SearchEngine(worked_on_index).searcher()
    assert len(searcher.leaf_searchers()) > 1
    assert searcher.doc_count() < searcher.doc_count_all()


@pytest.mark.parametrize("text", QUERIES)
def test_scores_and_order_are_whooshs(worked_on_index: Path, text: str) -> None:
    searcher = SearchEngine(worked_on_index).searcher()
    built = build_query(parse_query(text), searcher.reader())
    if built.query is None:
        pytest.skip("nothing searchable")
    expected = searcher.search(built.query, limit=None).top_n
    found = score_all(searcher, built.query)
    assert [docnum for _, docnum in found] == [docnum for _, docnum in expected]
    assert [score for score, _ in found] == pytest.approx([score for score, _ in expected])
    assert not any(searcher.reader().is_deleted(docnum) for _, docnum in found)


def test_most_queries_match_something(worked_on_index: Path) -> None:
    """The comparison above means something only if the queries find documents."""
    searcher = SearchEngine(worked_on_index).searcher()
    matched = [text for text in QUERIES
               if (built := build_query(parse_query(text), searcher.reader())).query is not None
               and score_all(searcher, built.query)]
    assert len(matched) >= len(QUERIES) * 2 // 3


def test_more_like_ranks_like_an_exhaustive_search(worked_on_index: Path) -> None:
    """Whoosh's top-N search can prune true top documents (search/ranking.py); more_like
    must give the first documents of the full ranking."""
    from whoosh import query as wq

    from search.related import key_terms_query

    engine = SearchEngine(worked_on_index)
    searcher = engine.searcher()
    checked = 0
    for docnum in list(searcher.reader().all_doc_ids())[:8]:
        fields = searcher.stored_fields(docnum)
        related = key_terms_query(searcher, fields)
        if related is None:
            continue
        story = fields.get("story") or fields["id"]
        excluded = set(searcher.docs_for_query(
            wq.Or([wq.Term("id", fields["id"]), wq.Term("story", story)])))
        everything = searcher.search(related[0], limit=None).top_n
        expected = [searcher.stored_fields(d)["id"] for _, d in everything if d not in excluded]
        assert [hit.id for hit in engine.more_like(fields["id"], limit=5)] == expected[:5]
        checked += 1
    assert checked >= 5


def test_a_deletion_after_postings_were_cached_is_seen(tmp_path: Path) -> None:
    """Postings are cached by segment, deletions are not: a deleted article disappears."""
    build_index(load_articles(), tmp_path, workers=1)
    engine = SearchEngine(tmp_path)
    before = engine.search("france", per_page=100, expand_stories=True)
    assert before.total >= 2
    gone = before.hits[0].id
    delete_documents([gone], tmp_path)
    after = engine.search("france", per_page=100, expand_stories=True)
    assert after.total == before.total - 1
    assert gone not in {hit.id for hit in after.hits}


def test_a_new_segment_is_the_only_one_read_again(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A term's postings are kept one entry a term for all segments; when the index gains
    a segment, the entry keeps what it read of the others and reads only the new one, and
    the scores stay Whoosh's."""
    articles = load_articles()
    build_index(articles[: len(articles) // 2], tmp_path, workers=1)
    engine = SearchEngine(tmp_path, cache_size=0)
    read: list[str] = []
    reader_of = scoring._read_postings

    def counted(reader, fieldname, text):  # type: ignore[no-untyped-def]
        read.append(reader.segment().segment_id())
        return reader_of(reader, fieldname, text)

    monkeypatch.setattr(scoring, "_read_postings", counted)
    added = max(articles[len(articles) // 2 :][-1].title.split(), key=len)  # in the new segment
    query = f"france {added}"
    engine.search(query)
    before = {leaf.reader().segment().segment_id()
              for leaf, _ in engine.searcher().leaf_searchers()}
    assert read and set(read) <= before
    add_documents(articles[len(articles) // 2 :], tmp_path)
    read.clear()
    assert engine.search(query).hits
    assert read and not set(read) & before
    searcher = engine.searcher()
    built = build_query(parse_query(query), searcher.reader())
    expected = searcher.search(built.query, limit=None).top_n
    found = score_all(searcher, built.query)
    assert [docnum for _, docnum in found] == [docnum for _, docnum in expected]
    assert [score for score, _ in found] == pytest.approx([score for score, _ in expected])
