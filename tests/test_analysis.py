"""Unit tests of the analysis chain (search/analysis.py, search/variants.py).

The table in test_analysis_table.py checks what users see on a real index;
these tests pin the pieces: tokens and their offsets, folding, stop words,
stemming, variants, highlighting, and the order of folding and stemming.
"""

from __future__ import annotations

import html
import unicodedata
from pathlib import Path

import pytest
from test_analysis_table import CASES, TEXTS

import indexer
import search
from search import analysis
from search.analysis import (
    analyze,
    exact_form,
    fold,
    index_terms,
    is_query_stopword,
    is_stopword,
    keeps_accents,
    stem,
    stem_form,
    token_forms,
    tokenize,
)
from search.variants import VARIANTS_FILE, is_listed_name, name_variants, spelling


def words(text: str) -> list[str]:
    return [token.text for token in tokenize(text)]


def aliases(text: str) -> list[tuple[str, str, int]]:
    """(alias, the original text it spans, its position) for each alias of a text."""
    return [(t.text, text[t.start:t.end], t.pos) for t in analyze(text) if t.alias]


# -- tokens and offsets -----------------------------------------------------


@pytest.mark.parametrize("text", [
    "L'armée d’Algérie, aujourd'hui, à l'O.N.U. : 1 000 dirhams (3,5 %) à 12 h 30.",
    unicodedata.normalize("NFD", "L'élection à Tétouan, Fès et Laâyoune"),
    "La ﬁnance : 80 m² à Rabat-Salé-Kénitra, l´État, lʼarmée, l`huile",
    "Morocco's élections\u00a0: 10\u202f000 votes — المَغرِب ٢٠٢١ ⴰⵣⵓⵍ",
])
def test_offsets_index_the_original_string(text: str) -> None:
    for token in analyze(text):
        written = text[token.start:token.end]
        if token.alias or "." in written:
            assert fold(token.text) == fold(written.replace(".", "")) or token.alias
        else:
            assert written == token.text


def test_positions_are_consecutive_words() -> None:
    tokens = list(tokenize("Le porte-parole de l'ONU, aujourd'hui"))
    assert [t.pos for t in tokens] == list(range(len(tokens)))
    assert [t.text for t in tokens] == ["Le", "porte", "parole", "de", "ONU", "aujourd'hui"]


@pytest.mark.parametrize("elision", [
    "l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu",
    "presqu", "quelqu",
])
def test_every_elision_is_cut_off(elision: str) -> None:
    text = f"{elision}'Akhannouch et {elision.upper()}’ONU"
    tokens = list(tokenize(text))
    assert [t.text for t in tokens] == ["Akhannouch", "et", "ONU"]
    assert tokens[0].start == len(elision) + 1  # the highlight starts on the word


@pytest.mark.parametrize("word", ["aujourd'hui", "Aujourd’hui", "prud'hommes", "O'Brien"])
def test_words_with_an_inner_apostrophe_stay_whole(word: str) -> None:
    assert words(word) == [word]


@pytest.mark.parametrize("apostrophe", list(analysis.APOSTROPHES))
def test_every_apostrophe_is_one(apostrophe: str) -> None:
    assert words(f"l{apostrophe}armée") == ["armée"]
    assert fold(f"aujourd{apostrophe}hui") == "aujourd'hui"
    assert exact_form(f"aujourd{apostrophe}hui") is None


def test_english_possessive_is_cut_off() -> None:
    assert words("Morocco's king and Hamza’s goal") == ["Morocco", "king", "and", "Hamza", "goal"]


def test_hyphenated_words_are_parts_plus_the_joined_word_at_the_first_position() -> None:
    assert words("Le porte-parole") == ["Le", "porte", "parole"]
    assert aliases("Le porte-parole") == [("porteparole", "porte-parole", 1)]
    assert aliases("un e‑mail") == [("email", "e‑mail", 1)]  # non-breaking hyphen
    assert aliases("Rabat-Salé-Kénitra") == [("RabatSaléKénitra", "Rabat-Salé-Kénitra", 0)]
    assert aliases("d'Al-Hoceïma") == [("AlHoceïma", "Al-Hoceïma", 0)]
    assert aliases("COVID-19") == [("COVID19", "COVID-19", 0)]


def test_numbers_alone_are_not_joined_across_hyphens() -> None:
    assert aliases("saison 2022-2023, enfants de 3-5 ans") == []


def test_words_with_a_stop_word_part_are_not_joined() -> None:
    assert aliases("Peut-on ? A-t-il signé le cessez-le-feu ?") == []


def test_dotted_acronyms_are_one_word() -> None:
    tokens = list(tokenize("L'O.N.U. et les U.S.A et M. Dupont"))
    assert [t.text for t in tokens] == ["ONU", "et", "les", "USA", "et", "M", "Dupont"]
    assert tokens[0].start == 2


@pytest.mark.parametrize(("text", "alias"), [
    ("1 000 migrants", "1000"),
    ("1\u00a0000 dirhams", "1000"),
    ("10\u202f000 spectateurs", "10000"),
    ("1.000.000 de dirhams", "1000000"),
    ("1,000 products", "1000"),
    ("1 200 000 dirhams", "1200000"),
    ("3,5 %", "3.5"),
    ("3.5%", "3.5"),
    ("1.000,50 DH", "1000.50"),
    ("à 12 h 30", "12h30"),
    ("at 12:30", "12h30"),
])
def test_numbers_as_people_write_them(text: str, alias: str) -> None:
    assert [a[0] for a in aliases(text)] == [alias]
    assert alias in index_terms(text, "fr")


@pytest.mark.parametrize("text", ["en 2022", "à 12h30", "la 5G", "le G7", "3 à 5"])
def test_single_numbers_need_no_alias(text: str) -> None:
    assert aliases(text) == []
    assert fold(words(text)[-1]) in index_terms(text, "fr")


def test_arabic_indic_digits_are_digits() -> None:
    assert fold("٢٠٢١") == "2021"
    assert "2021" in index_terms("لعام ٢٠٢١", "ar")


def test_single_letters_are_indexed() -> None:
    terms = index_terms("La vitamine C et le plan B, la lettre a", "fr")
    assert {"c", "b", "a"} <= set(terms)


# -- folding ------------------------------------------------------------------


@pytest.mark.parametrize(("word", "folded"), [
    ("élection", "election"), ("cœur", "coeur"), ("État", "etat"), ("Fès", "fes"),
    ("ŒUVRE", "oeuvre"), ("Straße", "strasse"), ("Zürich", "zurich"), ("ﬁnance", "finance"),
    ("m²", "m2"), ("Laâyoune", "laayoune"), ("Chaïbia", "chaibia"),
    (unicodedata.normalize("NFD", "Tétouan"), "tetouan"),
    ("المَغرِب", "المغرب"), ("أحمد", "احمد"), ("مدرسة", "مدرسه"), ("ⴰⵣⵓⵍ", "ⴰⵣⵓⵍ"),
    ("Москва", "москва"),
])
def test_fold_strips_latin_accents_only(word: str, folded: str) -> None:
    assert fold(word) == folded


def test_fold_is_the_same_for_nfc_and_nfd() -> None:
    for word in ["élection", "Laâyoune", "Kénitra", "cœur", "Tánger"]:
        assert fold(unicodedata.normalize("NFD", word)) == fold(word)
        assert exact_form(unicodedata.normalize("NFD", word)) == exact_form(word)


def test_exact_form_keeps_what_was_written() -> None:
    assert exact_form("Élection") == "election\x1félection"
    assert exact_form("Election") is None
    assert token_forms("Salé", "fr") == ("sale", "sale\x1fsalé", "fr:sal")


def test_keeps_accents_prefers_words_with_the_typed_accents() -> None:
    assert keeps_accents("côte", "côté")
    assert not keeps_accents("côte", "coté")
    assert not keeps_accents("côte", "cote")
    assert keeps_accents("cœur", "cœurs") and not keeps_accents("cœur", "coeurs")


# -- stop words -------------------------------------------------------------------


def test_stop_lists_name_their_source() -> None:
    for lang in ("fr", "en"):
        header = (analysis.DATA_DIR / f"stopwords-{lang}.txt").read_text(encoding="utf-8")
        assert "Source: the Snowball" in header.splitlines()[1]


@pytest.mark.parametrize(("word", "stop"), [
    ("les", True), ("à", True), ("etait", True), ("était", True), ("où", True), ("the", True),
    ("mais", True), ("maïs", False), ("été", False), ("état", False), ("personne", False),
    ("deux", False), ("selon", False), ("us", False), ("who", False), ("will", False),
    ("l", False), ("c", False), ("not", False),
])
def test_reviewed_stop_words(word: str, stop: bool) -> None:
    assert is_stopword(word, ("fr", "en")) is stop


def test_a_capital_letter_after_a_word_is_the_letter() -> None:
    assert not is_query_stopword("A", ("fr",), previous="vitamine")
    assert is_query_stopword("a", ("fr",), previous="vitamine")
    assert is_query_stopword("A", ("fr",), previous=None)  # "A quelle date..."


def test_ete_is_a_stop_word_only_after_avoir() -> None:
    assert is_query_stopword("été", ("fr", "en"), previous="a")
    assert is_query_stopword("ete", ("fr", "en"), previous="ont")
    assert not is_query_stopword("été", ("fr", "en"), previous="festival")
    assert not is_query_stopword("été", ("fr", "en"), previous=None)


@pytest.mark.parametrize(("word", "langs"), [
    ("quand", ("fr",)), ("Quelle", ("fr", "en")), ("combien", ("fr",)), ("Comment", ("fr",)),
    ("who", ("en",)), ("Whose", ("fr", "en")),
])
def test_question_words_leave_a_query_but_stay_in_the_index(
    word: str, langs: tuple[str, ...]
) -> None:
    assert is_query_stopword(word, langs)
    assert not is_stopword(word, langs)
    assert fold(word) in index_terms(f"On se demande {word} et pourquoi", langs[0])


@pytest.mark.parametrize(("word", "langs"), [
    ("WHO", ("en",)),  # the World Health Organization
    ("who", ("fr",)), ("quand", ("en",)),  # a question word of another language
    ("quantité", ("fr",)), ("whom", ("en",)),
])
def test_other_words_are_not_question_words(word: str, langs: tuple[str, ...]) -> None:
    expected = word == "whom"  # already an English stop word
    assert is_query_stopword(word, langs) is expected


def test_comment_is_a_question_word_only_where_a_question_starts() -> None:
    """French « Comment … ? » asks a question; English "public comment" means a comment."""
    assert is_query_stopword("Comment", ("fr", "en"), previous=None)
    assert not is_query_stopword("comment", ("fr", "en"), previous="public")
    assert not is_query_stopword("comment", ("en",), previous=None)


def test_stop_words_keep_their_position_but_get_no_stem() -> None:
    terms = index_terms("Selon Les Échos", "fr")
    assert terms["les"] == [1] and terms["echos"] == [2]
    assert "fr:le" not in terms and "fr:echo" in terms  # « Échos », stemmed from « écho »


# -- stemming -----------------------------------------------------------------------


def test_stemming_follows_the_article_language_and_the_word_script() -> None:
    assert stem_form("fr", "élections") == "fr:elect"
    assert stem_form("en", "running") == "en:run"
    assert stem_form("es", "elecciones") == "es:eleccion"
    assert stem_form("fr", "الانتخابات") == "ar:نخب"  # Arabic words: ISRI in any article
    assert stem_form("ar", "Rabat") is None
    assert stem_form("fr", "ⴰⵣⵓⵍ") is None
    assert stem_form("fr", "2022") is None
    assert stem_form("", "élections") is None


def test_stems_are_cached() -> None:
    stem.cache_clear()
    for _ in range(3):
        stem("fr", "gouvernements")
    info = stem.cache_info()
    assert info.misses == 1 and info.currsize == 1


# -- fold, then stem: the order the table needs ---------------------------------------

ORDER_CASES = [case for case in CASES if case.point == "order"]


def _stem_first(word: str, lang: str) -> str:
    """The stemmed form the other order would give: stem the lowercased word, then fold."""
    return f"{lang}:{fold(analysis._stemmer(lang).stem(word.lower()))}"


def _same_stem_word(case_query: str, text: str, lang: str) -> str:
    target = analysis.stem(lang, fold(case_query))
    return next(t.text for t in tokenize(text) if analysis.stem(lang, fold(t.text)) == target)


@pytest.mark.parametrize("case", ORDER_CASES, ids=str)
def test_fold_before_stem_joins_accented_and_plain_inflections(case) -> None:  # noqa: ANN001
    text = TEXTS[case.text]
    assert fold(case.query) not in index_terms(text.text, text.lang)  # only stems can join them
    assert stem_form(text.lang, case.query) in index_terms(text.text, text.lang)


@pytest.mark.parametrize("case", ORDER_CASES, ids=str)
def test_stem_before_fold_would_miss_them(case) -> None:  # noqa: ANN001
    text = TEXTS[case.text]
    written = _same_stem_word(case.query, text.text, text.lang)
    assert _stem_first(case.query, text.lang) != _stem_first(written, text.lang)


def test_order_cases_cover_both_directions() -> None:
    plain_queries = [case for case in ORDER_CASES if case.query.isascii()]
    accented_queries = [case for case in ORDER_CASES if not case.query.isascii()]
    assert len(plain_queries) >= 5 and len(accented_queries) >= 2


# -- name variants --------------------------------------------------------------------


def test_variants_expand_every_spelling_of_a_name() -> None:
    assert ("fez",) in name_variants(("fes",))
    assert ("el", "aaiun") in name_variants(("laayoune",))
    assert ("tanger",) in name_variants(spelling("Tánger")) or spelling("Tánger") == ("tanger",)
    assert ("mohamed",) in name_variants(("muhammad",))
    assert name_variants(("mohammedia",)) == ()
    assert not is_listed_name(("sale",))


def test_variant_list_holds_no_common_word() -> None:
    lines = [line for line in VARIANTS_FILE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert len(lines) >= 10
    for line in lines:
        for written in line.split("|"):
            words_of = spelling(written)
            assert words_of, written
            assert not is_stopword(words_of[-1], ("fr", "en", "es")), written


# -- highlighting on a real index ---------------------------------------------------------

HIGHLIGHT_TEXTS = {
    "h-armee": ("fr", "L'armée marocaine et l’ONU"),
    "h-nfd": ("fr", unicodedata.normalize("NFD", "Élection à Tétouan")),
    "h-email": ("fr", "Répondre par e-mail avant lundi"),
    "h-number": ("fr", "Une prime de 1 000 dirhams"),
    "h-acronym": ("fr", "L'O.N.U. appelle au calme"),
    "h-variant": ("en", "Marrakesh hosts the summit"),
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> search.SearchEngine:
    index_dir: Path = tmp_path_factory.mktemp("analysis-highlight")
    articles = [search.Article(id=key, title=text, body=text, lang=lang)
                for key, (lang, text) in HIGHLIGHT_TEXTS.items()]
    indexer.add_documents(articles, index_dir)
    return search.SearchEngine(index_dir)


@pytest.mark.parametrize(("query", "doc", "marked"), [
    ("armee", "h-armee", "L'<mark>armée</mark> marocaine"),
    ("onu", "h-armee", "l’<mark>ONU</mark>"),
    ("election", "h-nfd", "<mark>" + unicodedata.normalize("NFD", "Élection") + "</mark>"),
    ("email", "h-email", "par <mark>e-mail</mark> avant"),
    ("1000", "h-number", "de <mark>1 000</mark> dirhams"),
    ("ONU", "h-acronym", "L'<mark>O.N.U.</mark> appelle"),
    ("Marrakech", "h-variant", "<mark>Marrakesh</mark> hosts"),
])
def test_highlights_fall_on_the_words(engine: search.SearchEngine, query: str, doc: str,
                                      marked: str) -> None:
    hits = {hit.id: hit for hit in engine.search(query, recency=False).hits}
    assert doc in hits
    assert marked in html.unescape(hits[doc].title_html)


@pytest.mark.parametrize(("same", "other"), [
    (("naquit", "né", "naître", "ne\u0301"), "nez"),
    (("meurt", "mourir", "mourut"), "mort"),
    (("première", "premières", "premieres", "premier"), "prime"),
    (("créées", "creees", "créer"), "crème"),
])
def test_french_stems_come_from_the_lemma(same, other) -> None:  # noqa: ANN001
    stems = {analysis.stem_form("fr", word) for word in same}
    assert len(stems) == 1 and analysis.stem_form("fr", other) not in stems


@pytest.mark.parametrize(("word", "not_with"), [
    ("été", "être"),  # the summer is not the auxiliary
    ("Paris", "pari"),  # a name the lexicon knows
    ("Marie", "marier"),
])
def test_lemmas_leave_auxiliaries_and_names_alone(word, not_with) -> None:  # noqa: ANN001
    assert analysis.stem_form("fr", word) != analysis.stem_form("fr", not_with)
