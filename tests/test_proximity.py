"""search/proximity.py: the best documents reordered by how close the query's words are."""

from __future__ import annotations

import pytest

from indexer import add_documents
from search import Article, SearchEngine
from search.proximity import together, word_terms

FILLER = "Le conseil a siégé toute la journée sans rien décider de nouveau. " * 6
OTHER = "Les touristes visitent les musées, les places et les marchés du centre. " * 6


def test_words_in_one_stretch_add_the_idf_of_all_but_the_rarest() -> None:
    idfs = [3.0, 1.0, 2.0]
    assert together([(0, 0), (2, 1), (4, 2)], idfs, window=8) == pytest.approx(3.0)
    assert together([(0, 0), (2, 1), (40, 2)], idfs, window=8) == pytest.approx(1.0)
    assert together([(0, 0), (40, 1), (80, 2)], idfs, window=8) == 0.0
    assert together([(0, 0), (3, 0), (5, 0)], idfs, window=8) == 0.0  # one word, repeated


def test_the_stretch_is_window_positions_long() -> None:
    idfs = [1.0, 1.0]
    assert together([(0, 0), (7, 1)], idfs, window=8) == pytest.approx(1.0)
    assert together([(0, 0), (8, 1)], idfs, window=8) == 0.0


def test_word_terms_are_the_stems_or_the_folded_form() -> None:
    assert word_terms(["Élections"], ("fr",)) == [("fr:elect",)]
    assert word_terms(["gold-trimmed"], ("en",)) == [("en:gold",), ("en:trim",)]
    assert word_terms(["2015", "Élections"], ("fr", "en")) == [("2015",), ("fr:elect", "en:elect")]


@pytest.fixture()
def engine(tmp_path):  # noqa: ANN001, ANN201 - a SearchEngine
    near = f"{FILLER} Le sillon d'enceinte entoure la ville. {FILLER}"
    apart = f"Le sillon est creusé. {OTHER} {OTHER} Une enceinte protège la ville."
    add_documents([
        Article(id="apart", title="Rome", body=apart, lang="fr"),
        Article(id="near", title="Rome", body=near, lang="fr"),
    ], tmp_path)
    return SearchEngine(tmp_path, cache_size=0)


def test_a_document_with_the_words_together_ranks_first(engine) -> None:  # noqa: ANN001
    page = engine.search("sillon enceinte", recency=False)
    assert [hit.id for hit in page.hits] == ["near", "apart"]
    assert page.total == 2
    assert page.hits[0].score > page.hits[1].score


def test_a_single_word_query_keeps_the_bm25f_order(engine) -> None:  # noqa: ANN001
    page = engine.search("sillon", recency=False)
    assert sorted(hit.id for hit in page.hits) == ["apart", "near"]
    assert [hit.id for hit in page.hits] == [hit.id for hit in engine.search("sillon").hits]
