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


@pytest.fixture()
def history(tmp_path):  # noqa: ANN001, ANN201 - a SearchEngine
    add_documents([
        Article(id="pays", title="Histoire", body="Le pays, un pays en guerre depuis longtemps.",
                lang="fr"),
        Article(id="france", title="Histoire",
                body="La France a gagné la guerre en 1918 après quatre années de combats.",
                lang="fr"),
        Article(id="autre", title="Économie", body="Les marchés ont ouvert en hausse ce matin.",
                lang="fr"),
    ], tmp_path)
    return SearchEngine(tmp_path, cache_size=0)


def test_the_word_after_an_interrogative_determiner_weighs_less(history, monkeypatch) -> None:  # noqa: ANN001
    """« Quel pays a gagné la guerre ? » is answered by « La France a gagné la guerre »,
    not by the paragraph that says « pays » twice."""
    question = "Quel pays a gagné la guerre ?"
    assert [hit.id for hit in history.search(question, recency=False).hits] == ["france", "pays"]
    monkeypatch.setattr("search.querybuild.ANSWER_TYPE_WEIGHT", 1.0)
    assert [hit.id for hit in history.search(question, recency=False).hits] == ["pays", "france"]


def _boosts(query: str, word: str, reader) -> list[float]:  # noqa: ANN001
    built = build_query(parse_query(query), reader, ("fr", "en"))
    return sorted(leaf.boost for leaf in built.query.leaves() if leaf.text == word)


@pytest.mark.parametrize(("query", "halved"), [
    ("Quel pays a gagné ?", True), ("Which country won?", True),
    ("Quel est le pays de Napoléon ?", False),  # after a copula: measured, SQuAD lost
    ("pays gagné", False), ("QUEL pays gagné", False),  # QUEL in capitals: a name, not a question
    ("Le pays quel gagné", False),
])
def test_only_the_word_after_the_determiner_is_weighed_down(history, query, halved) -> None:  # noqa: ANN001
    reader = history.searcher().reader()
    word = "country" if "country" in query else "pays"
    alone = _boosts(word, word, reader)
    expected = [boost * 0.5 for boost in alone] if halved else alone
    assert _boosts(query, word, reader) == pytest.approx(expected)


@pytest.fixture()
def births(tmp_path):  # noqa: ANN001, ANN201 - a SearchEngine
    add_documents([
        Article(id="naquit", title="Victor Hugo",
                body="Victor Hugo naquit à Besançon en 1802, fils d'un officier.", lang="fr"),
        Article(id="oeuvre", title="Victor Hugo",
                body="Victor Hugo publie Les Misérables à Bruxelles.", lang="fr"),
    ], tmp_path)
    return SearchEngine(tmp_path, cache_size=0)


@pytest.mark.parametrize("question", ["Où est né Victor Hugo ?", "Où naît Victor Hugo ?"])
def test_a_french_verb_finds_its_other_forms(births, question) -> None:  # noqa: ANN001
    """« né » and « naquit » share the stem of their lemma « naître » (search/analysis.py,
    lemma); Snowball alone leaves them apart."""
    assert [hit.id for hit in births.search(question, recency=False).hits][0] == "naquit"


def test_quoi_is_a_question_word(engine) -> None:  # noqa: ANN001
    searcher = engine.searcher()
    built = build_query(parse_query("Sur quoi compte la ville ?"), searcher.reader(),
                        STEMMED_LANGUAGES)
    assert built.words == ["compte", "ville"]
