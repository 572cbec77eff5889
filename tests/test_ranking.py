"""search/ranking.py: the weighting, and the two Whoosh matcher bugs it works around."""

from __future__ import annotations

import math

import pytest
from whoosh import fields
from whoosh import query as wq
from whoosh.filedb.filestore import RamStorage

from search import ranking


@pytest.fixture(scope="module")
def searcher():  # noqa: ANN201 - a Whoosh searcher
    schema = fields.Schema(id=fields.ID(stored=True), text=fields.TEXT)
    index = RamStorage().create_index(schema)
    writer = index.writer()
    writer.add_document(id="short", text="alpha")
    writer.add_document(id="beta", text="beta beta beta beta")
    writer.add_document(id="long", text="alpha gamma delta epsilon zeta eta theta")
    for number in range(6):  # both words, each document a little shorter (better) than the last
        padding = " ".join(f"pad{number}x{i}" for i in range(8 - number))
        writer.add_document(id=f"both{number}", text=f"omega common {padding}")
    for number in range(30):
        writer.add_document(id=f"filler{number}", text=f"common filler{number}")
    writer.add_document(id="late", text="omega omega omega")  # the best, and the last
    writer.commit()
    with index.searcher(weighting=ranking.weighting()) as searcher:
        yield searcher


def scores(searcher, query: wq.Query, limit: int | None = None) -> dict[str, float]:  # noqa: ANN001
    return {hit["id"]: hit.score for hit in searcher.search(query, limit=limit)}


def test_whoosh_disjunction_max_gives_a_document_another_documents_score(searcher) -> None:  # noqa: ANN001
    query = wq.DisjunctionMax([wq.Term("text", "alpha"), wq.Term("text", "beta")])
    broken = scores(searcher, query)
    assert broken["short"] == pytest.approx(broken["beta"])  # the bug being worked around
    fixed = scores(searcher, ranking.reliable(query))
    alone = scores(searcher, wq.Term("text", "alpha"))
    assert fixed["short"] == pytest.approx(alone["short"])
    assert fixed["long"] == pytest.approx(alone["long"])
    assert fixed["beta"] == pytest.approx(scores(searcher, wq.Term("text", "beta"))["beta"])


def test_best_of_scores_the_better_side_where_both_match(searcher) -> None:  # noqa: ANN001
    query = ranking.reliable(wq.DisjunctionMax([wq.Term("text", "alpha"),
                                                wq.Term("text", "alpha", boost=3.0)]))
    alone = scores(searcher, wq.Term("text", "alpha", boost=3.0))
    assert scores(searcher, query) == pytest.approx(alone)


def test_top_n_of_a_nested_or_is_the_head_of_the_full_ranking(searcher) -> None:  # noqa: ANN001
    def word(text: str) -> wq.Or:  # a word in several forms, as querybuild makes it
        return wq.Or([wq.Term("text", text)] * 4)

    query = wq.Or([word("omega"), word("common")])
    full = [doc for doc, _ in sorted(scores(searcher, query).items(), key=lambda i: -i[1])]
    assert full[:3] == ["late", "both5", "both4"]
    assert "late" not in scores(searcher, query, limit=3)  # the bug being worked around
    assert list(scores(searcher, ranking.reliable(query), limit=3)) == full[:3]


def test_reliable_keeps_boosts_scale_and_other_nodes() -> None:
    query = wq.AndNot(wq.Or([wq.Term("text", "a", boost=2.0), wq.Phrase("text", ["b", "c"])],
                            scale=0.5, boost=3.0), wq.Term("text", "d"))
    fixed = ranking.reliable(query)
    assert isinstance(fixed, wq.AndNot)
    assert isinstance(fixed.a, ranking.UnionOr)
    assert (fixed.a.boost, fixed.a.scale) == (3.0, 0.5)
    assert fixed.a.subqueries[0] == wq.Term("text", "a", boost=2.0)
    assert fixed.b == wq.Term("text", "d")


def test_a_word_in_almost_every_document_weighs_almost_nothing(searcher) -> None:  # noqa: ANN001
    weighting = ranking.weighting()
    documents = searcher.doc_count_all()
    common = weighting.idf(searcher, "text", "common")
    rare = weighting.idf(searcher, "text", "alpha")
    lucene = math.log(1 + (documents - 2 + 0.5) / 2.5)
    assert rare == pytest.approx(lucene ** ranking.IDF_POWER)
    assert common < rare / 4


def test_idf_power_weighs_rare_words_more_than_common_ones() -> None:
    # Lucene's idf, raised to IDF_POWER > 1: the ratio of a rare word's weight to a common
    # one's grows (a name or a number counts more against the question's ordinary words).
    assert ranking.IDF_POWER > 1
    rare, common = ranking.lucene_idf(1000, 2), ranking.lucene_idf(1000, 100)
    plain = math.log(1 + 998.5 / 2.5) / math.log(1 + 900.5 / 100.5)
    assert rare / common == pytest.approx(plain ** ranking.IDF_POWER)
    assert rare / common > plain


@pytest.fixture(scope="module")
def two_fields():  # noqa: ANN201 - a Whoosh searcher over title and body
    schema = fields.Schema(id=fields.ID(stored=True), title=fields.TEXT, body=fields.TEXT)
    index = RamStorage().create_index(schema)
    writer = index.writer()
    padding = " ".join(f"pad{i}" for i in range(12))
    writer.add_document(id="title-and-body", title="alpha", body=f"alpha {padding}")
    writer.add_document(id="both-words", title="other", body=f"alpha beta {padding}")
    writer.add_document(id="title-only", title="beta report", body=padding)
    for number in range(20):
        writer.add_document(id=f"filler{number}", title=f"filler{number}", body=padding)
    writer.commit()
    with index.searcher(weighting=ranking.weighting()) as searcher:
        yield searcher


def words(*texts: str, title: float = 1.5) -> wq.Query:
    return ranking.reliable(wq.Or([ranking.AcrossFields(text, {"title": title, "body": 1.0})
                                   for text in texts]))


def test_a_title_match_adds_to_the_body_frequency_instead_of_a_second_score(two_fields) -> None:  # noqa: ANN001
    """Per-field BM25 sums (Whoosh's BM25F) let one word found in the title and the body beat
    a document with both words; BM25F proper saturates the word once."""
    per_field = ranking.reliable(wq.Or([wq.Term(f, t, boost=b) for t in ("alpha", "beta")
                                        for f, b in (("title", 1.5), ("body", 1.0))]))
    assert list(scores(two_fields, per_field))[0] == "title-and-body"
    assert list(scores(two_fields, words("alpha", "beta")))[0] == "both-words"


def test_a_term_across_fields_counts_each_document_once_for_its_idf(two_fields) -> None:  # noqa: ANN001
    """``alpha`` has three postings (a title and two bodies) in two documents: its idf is that
    of a word in two documents."""
    found = scores(two_fields, words("alpha"))
    assert set(found) == {"both-words", "title-and-body"}
    model = ranking.FieldsModel.of(two_fields, {"title": 1.5, "body": 1.0})
    docnum = two_fields.document_number(id="both-words")
    length = two_fields.doc_field_length(docnum, "body")
    expected = model.idf(2) * model.saturated(model.normalized("body", 1.0, length))
    assert found["both-words"] == pytest.approx(expected)


@pytest.mark.parametrize("title", [0.5, 1.5, 3.0])
def test_across_fields_scores_are_the_same_in_whoosh_and_numpy(two_fields, title: float) -> None:  # noqa: ANN001
    from search.scoring import score_all

    query = words("alpha", "beta", "report", title=title)
    expected = two_fields.search(query, limit=None).top_n
    found = score_all(two_fields, query)
    assert [docnum for _, docnum in found] == [docnum for _, docnum in expected]
    assert [score for score, _ in found] == pytest.approx([score for score, _ in expected])
