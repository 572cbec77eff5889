"""The fast paths of the tokenizer give what the plain definitions give.

``_TOKEN_RE`` tries a plain word (Latin letters and digits that nothing can
extend) before the full pattern, and the number and time patterns read their
first digit before checking what comes before it. Each is compared here with
the pattern as first written, on texts that put a hyphen, digit, apostrophe,
dot, mark or time right at the edge of a plain word; a fast path that took a
word the full pattern would cut otherwise fails these tests.
"""

from __future__ import annotations

import re
import unicodedata

import pytest

from search import analysis
from search.analysis import analyze, grouped_numbers, index_terms, indexed_text, tokenize

# The patterns as they were before the fast paths (the reference).
_FULL_TOKEN_RE = re.compile(analysis._TOKEN_RE.pattern.removeprefix(analysis._PLAIN + "|"))
_SPACES = analysis._SPACES
_FIRST_NUMBER_RE = re.compile(
    rf"(?<![\w.,])(?P<int>\d{{1,3}}(?:[{_SPACES}]\d{{3}})+|\d{{1,3}}(?:\.\d{{3}})+"
    rf"|\d{{1,3}}(?:,\d{{3}})+|\d+)(?:[.,](?P<dec>\d+))?(?!\w)"
)
_FIRST_TIME_RE = re.compile(r"(?<![\w.,:])(?P<h>\d{1,2}) ?[hH:] ?(?P<m>\d{2})(?![\w:])")

EDGES = [
    "l'armée", "L’armée", "lʼarmée", "jusqu'au-delà", "aujourd'hui", "Morocco's", "Morocco's-based",
    "e-mail", "porte-parole", "-parole", "porte-", "a--b", "2022-2023", "x‐y", "x‑y",
    "O.N.U.", "l'O.N.U.", "A.", "A.B", "A.B.Cd", "a. b", "3.5", "U.S.-based", "1.A",
    "café", "cafe\u0301", "e\u0301t\u00e9", "soft\u00adhyphen", "zero\u200dwidth", "abc²", "½",
    "foo_bar", "_foo", "x_", "ـ", "\ufe71", "αβγ", "Ωmega", "mañana", "ŒUVRE", "ǅemal",
    "µg", "ª", "×2", "2×3", "12h30", "12 h 30", "12:30", "1:12:30", "20h 15", "h30",
    "1 000", "1\u00a0000 000", "2,5", "x,3,5", ".5", "1.000.000,25", "10,000.5", "a1 000",
    "qu'il", "Qu’elle", "presqu'île", "d'Alembert", "c'est-à-dire", "'tis", "rock'n'roll",
    "`quoted`", "don´t", "الكتاب", "كتـــاب", "ⴰⵎⴰⵣⵉⵖ", "Ελλάδα", "東京", "١٢٣",
]
SENTENCES = [
    " ".join(EDGES),
    "".join(EDGES),
    "-".join(EDGES),
    ".".join(EDGES),
    "'".join(EDGES),
    "L'armée a tiré 1 000 obus à 12 h 30, d'après l'O.N.U. et le porte-parole (e-mail).",
]


def _full_tokens(text: str) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
    return [(match.span(), match.groups()) for match in _FULL_TOKEN_RE.finditer(text)]


def _fast_tokens(text: str) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
    return [
        (match.span(), (None, None, match["plain"]) if match["plain"] else match.groups()[1:])
        for match in analysis._TOKEN_RE.finditer(text)
    ]


@pytest.mark.parametrize("text", EDGES + SENTENCES)
def test_plain_words_are_what_the_full_pattern_matches(text: str) -> None:
    assert _fast_tokens(text) == _full_tokens(text)


@pytest.mark.parametrize("separator", [" ", "", "-", ".", "'", "́", "_"])
def test_plain_words_beside_every_edge(separator: str) -> None:
    for left in EDGES:
        texts = [left + separator + right for right in EDGES]
        assert [_fast_tokens(text) for text in texts] == [_full_tokens(text) for text in texts]


@pytest.mark.parametrize("text", EDGES + SENTENCES)
def test_number_and_time_patterns_match_as_first_written(text: str) -> None:
    for fast, first in ((analysis._NUMBER_RE, _FIRST_NUMBER_RE),
                        (analysis._TIME_RE, _FIRST_TIME_RE)):
        assert [(m.span(), m.groups()) for m in fast.finditer(text)] == [
            (m.span(), m.groups()) for m in first.finditer(text)
        ]


def test_plain_characters_are_letters_or_digits_that_fold_to_something() -> None:
    """A plain word skips the check that drops words folding to nothing (a lone tatweel)."""
    plain = re.compile(f"[{analysis._PLAIN_CHARS}]")
    chars = [chr(code) for code in range(0x250) if plain.match(chr(code))]
    assert len(chars) > 400
    for char in chars:
        assert re.match(r"[^\W_]", char) and char not in analysis.APOSTROPHES, char
        assert analysis.fold(char), (char, unicodedata.name(char))


def test_edges_of_plain_words() -> None:
    assert [(t.text, t.start, t.end) for t in tokenize("lʼarmée café\u0301 A.B x")] == [
        ("armée", 2, 7), ("café\u0301", 8, 13), ("AB", 14, 17), ("x", 18, 19),
    ]
    assert [token.text for token in tokenize("A. B.C. Morocco's x\u00adz _k")] == [
        "A", "BC", "Morocco", "x\u00adz", "k",
    ]
    assert [token.text for token in tokenize("ـ \ufe71 ok")] == ["ok"]  # fold to nothing
    assert [(t.text, t.pos, t.alias) for t in analyze("anti-drogue 2,5 h 12 h 30")] == [
        ("anti", 0, False), ("antidrogue", 0, True), ("drogue", 1, False),
        ("2", 2, False), ("2.5", 2, True), ("5", 3, False), ("h", 4, False),
        ("12", 5, False), ("12h30", 5, True), ("h", 6, False), ("30", 7, False),
    ]


def test_hyphen_aliases_need_a_word_on_each_side_of_the_hyphen() -> None:
    text = "-porte parole- U.S.-based Morocco's-based a--b kz-w-"
    joined = [token.text for token in analyze(text) if token.alias]
    assert joined == ["USbased", "kzw"]


def test_aliases_sit_after_the_words_first_met_at_or_before_them() -> None:
    """Form order of the postings: an alias's forms come after the words first met at or
    before its position, before the next new word (the story hash reads that order)."""
    postings = index_terms("vente 1 000 1000 e-mail vente email", "fr")
    forms = [form for form in postings if analysis.is_latin(form) and ":" not in form]
    assert forms == ["vente", "1", "1000", "000", "e", "email", "mail"]
    assert postings["1000"] == [1, 3] and postings["email"] == [4, 7]
    indexed = indexed_text("Le porte-parole, 12 h 30.", "fr")
    assert indexed.words == ["Le", "porte", "parole", "12", "h", "30"]
    assert [(a.text, a.pos) for a in indexed.aliases] == [("porteparole", 1), ("12h30", 3)]


def test_grouped_numbers_read_their_first_digit_at_the_start_of_the_text() -> None:
    assert list(grouped_numbers("1 000 a,2,5 3,5")) == [("1000", 0, 5), ("3.5", 12, 15)]
