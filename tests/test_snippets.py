"""search/snippets.py: finding matches near candidate words only agrees with analyzing it all."""

from __future__ import annotations

import pytest

from search import SearchEngine
from search.querybuild import build_query
from search.querylang import parse_query
from search.snippets import find_matches, matches_in

QUERIES = [
    "élections", "election", "président", '"premier ministre"', "« conseil d'état »",
    "1 000", "12 h 30", "porte-parole", "e-mail", "O.N.U.", "aujourd'hui", "l'université",
    "universite", "gouvern*", "Obama", "the president", "2016", "france -paris",
]


@pytest.mark.parametrize("text", QUERIES)
def test_matches_near_candidates_are_all_matches(engine: SearchEngine, text: str) -> None:
    searcher = engine.searcher()
    plan = build_query(parse_query(text), searcher.reader()).plan
    for docnum in range(searcher.doc_count_all()):
        fields = searcher.stored_fields(docnum)
        for field in ("title", "body"):
            stored = fields.get(field, "")
            assert find_matches(stored, fields["lang"], plan) == matches_in(
                stored, fields["lang"], plan), (text, fields["id"], field)


def test_the_comparison_sees_matches(engine: SearchEngine) -> None:
    searcher = engine.searcher()
    plan = build_query(parse_query('"premier ministre" élections'), searcher.reader()).plan
    found = [find_matches(searcher.stored_fields(d).get("body", ""), "fr", plan)
             for d in range(searcher.doc_count_all())]
    assert sum(1 for spans in found if spans) >= 3


def test_a_match_past_the_context_of_another_is_found() -> None:
    from search.analysis import token_forms
    from search.querybuild import MatchPlan

    text = "élection " + "mot " * 400 + "élections et encore"
    plan = MatchPlan(forms=set(token_forms("élections", "fr")))
    spans = find_matches(text, "fr", plan)
    assert [text[start:end] for start, end, _ in spans] == ["élection", "élections"]


CHUNK_TEXTS = [
    "(l'armée, « L’Élysée » ; O.N.U. et ..O.N.U.) porte-parole\u00a0du gouvernement\tà Paris.",
    "l'\narmée qu' il jusqu'à l'O.N.U.: aujourd'hui—demain e-mail,e-mail;l'armée",
    "Morocco's élections\u202fprésidentielles – l’élection, d'«élection» (élections).",
    "x-l'armée armée-l' .l'armée l'armée. L'ARMÉE 'armée' ’armée’",
]


@pytest.mark.parametrize("text", CHUNK_TEXTS)
def test_chunks_give_the_matches_of_the_whole_text(text: str) -> None:
    """The fast path reads a text a whitespace-separated chunk at a time; a chunk must give
    the tokens it gives in context, whatever its punctuation, elisions or whitespace."""
    from search.analysis import analyze, token_forms
    from search.querybuild import MatchPlan

    for word in {token.text for token in analyze(text)}:
        for lang in ("fr", "en"):
            plan = MatchPlan(forms=set(token_forms(word, lang)))
            assert find_matches(text, lang, plan) == matches_in(text, lang, plan), (word, lang)
            repeated = f"{text} {text}\n{text}"  # a page's hits share one plan: memo reused
            assert find_matches(repeated, lang, plan) == matches_in(repeated, lang, plan)


def test_chunks_another_query_indexed_meanwhile_are_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """A query's candidates come from the shared chunk index: chunks that another query
    (another thread) added after this one last looked must still be found, also when
    the index was full (frozen) in between."""
    from search import snippets
    from search.analysis import token_forms
    from search.querybuild import MatchPlan

    monkeypatch.setattr(snippets, "CHUNK_INDEX_BYTES", 1_000)  # a few chunks, then full
    monkeypatch.setattr(snippets, "_chunk_indexes", {})
    first = MatchPlan(forms=set(token_forms("gouvernement", "fr")))
    other = MatchPlan(forms=set(token_forms("paris", "fr")))
    assert find_matches("rien à voir ici", "fr", first) == []
    for text in ("Paris (gouvernements) zxq", "le gouvernement, à Paris.", "« Gouvernement »"):
        assert find_matches(text, "fr", other) == matches_in(text, "fr", other)
        assert find_matches(text, "fr", first) == matches_in(text, "fr", first) != []
