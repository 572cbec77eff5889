"""search/querybuild.py: what a typed word becomes (pieces of text, French inversions)."""

from __future__ import annotations

import pytest

from indexer import add_documents
from search import Article, SearchEngine
from search.analysis import STEMMED_LANGUAGES
from search.querybuild import build_query
from search.querylang import parse_query


@pytest.fixture()
def engine(tmp_path):  # noqa: ANN001, ANN201 - a SearchEngine
    add_documents([
        Article(id="miami", title="Super Bowl", body="Miami, Florida, hosted the game again.",
                lang="en"),
        Article(id="compte", title="Essaouira", body="La ville compte 80 000 habitants.",
                lang="fr"),
        Article(id="habitants", title="Agadir", body="Habitants, habitants, habitants.",
                lang="fr"),
    ], tmp_path)
    return SearchEngine(tmp_path, cache_size=0)


@pytest.mark.parametrize(("query", "words"), [
    ("Florida/Miami", ["Florida", "Miami"]),
    ("époux(se)", ["époux"]),  # « se » is a stop word
    ("combien d'habitants compte-t-elle ?", ["d'habitants", "compte"]),
    ("Quand fut-il élu", ["fut", "élu"]),
    ("Aix-en-Provence", ["Aix-en-Provence"]),  # a hyphenated name stays one phrase
    ("12/05/2020", ["12/05/2020"]),  # a date stays whole
    ("3,5 %", ["3,5"]),
])
def test_typed_words_are_searched_as_the_words_of_an_article(engine, query, words) -> None:  # noqa: ANN001
    searcher = engine.searcher()
    assert build_query(parse_query(query), searcher.reader(), STEMMED_LANGUAGES).words == words


def test_words_joined_by_a_slash_are_found_apart(engine) -> None:  # noqa: ANN001
    assert [hit.id for hit in engine.search("Florida/Miami").hits] == ["miami"]


def test_an_inverted_verb_is_searched(engine) -> None:  # noqa: ANN001
    hits = engine.search("Combien d'habitants compte-t-elle ?", recency=False).hits
    assert [hit.id for hit in hits] == ["compte", "habitants"]
