"""From a parsed query to a Whoosh query, through the same analysis as the index.

Each word becomes its exact, folded and stemmed forms in the title and the
body, so that what the user typed ranks above folded matches, and folded
above stemmed ones. Prefixes and fuzzy words are expanded here against the
index vocabulary, with a cap, so no query can enumerate the whole index.
A long query (a described need, a pasted paragraph) also gets the stems its
best matches use most (:func:`with_feedback`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from .analysis import (
    EXACT_SEPARATOR,
    STEM_SEPARATOR,
    STEMMED_LANGUAGES,
    Token,
    analyze,
    exact_form,
    fold,
    index_terms,
    is_query_stopword,
    keeps_accents,
    lower_form,
    piece_matches,
    query_languages,
    stem_form,
    tokenize,
)
from .querylang import Clause, Occur, ParsedQuery
from .ranking import AcrossFields, reliable
from .scoring import Array, ranked_arrays
from .variants import name_variants

TEXT_FIELDS = ("title", "body")
# Tuned on the dev collections (bench/RESULTS.md, ## Relevance). Each form of a word is one
# BM25F term over the title and the body (search/ranking.py, AcrossFields): a title occurrence
# counts as 2.5 body occurrences before the saturation (at first 0.5 / 1.0 / 1.5 / 2.0 gave PIAF MRR
# 0.772 / 0.775 / 0.778 / 0.778, CISI nDCG 0.389 / 0.392 / 0.390 / 0.389). Scores of a word's
# forms add up, so exact (1.6) > folded (1.5) > stemmed (1.0) still holds (max-of-forms lost
# 0.008 PIAF, 0.009 CISI). COORDINATION is Whoosh's Or(scale=...): 0 turns it off (measured,
# its bonus reorders close documents for the worse: service-public MRR 0.838 -> 0.821).
# With French stems taken from lemmas (search/analysis.py, lemma), a title weight of 2.5 and
# exact forms at 0.1: PIAF MRR 0.7972 -> 0.7988 (2.0: 0.7981, 3.0: 0.7989), SQuAD +0.0005,
# CISI nDCG 0.4076 -> 0.4053, service-public 0.9228 -> 0.9307 (bench/RESULTS.md).
FIELD_BOOSTS = {"title": 2.5, "body": 1.0}
# A phrase is scored by Whoosh one field at a time (a saturated score per field, summed), where
# the title's weight multiplies a whole score: it keeps the per-field weights tuned for that.
PHRASE_FIELD_BOOSTS = {"title": 0.5, "body": 1.0}
FORM_BOOSTS = {"exact": 0.1, "accents": 0.1, "fold": 0.5, "variant": 0.8, "stem": 1.0}
COORDINATION = 0.0
MAX_EXPANSIONS = 48
MAX_SCANNED_TERMS = 20_000
MAX_RESPELLED = 16
MAX_SEARCHED_CLAUSES = 64  # after stop words: a pasted paragraph keeps its first 64 words
# Pseudo-relevance feedback (RM3-like), for queries of FEEDBACK_MIN_WORDS searched words or more
# only: news queries (2-7 words) and questions keep their ranking and their speed. Measured on
# the dev collections (bench/RESULTS.md, ## Relevance): CISI nDCG@10 0.391 -> 0.403; applied
# to every query it lost service-public 0.009.
FEEDBACK_MIN_WORDS = 12
FEEDBACK_DOCUMENTS = 5
FEEDBACK_TERMS = 10
FEEDBACK_WEIGHT = 0.5  # the best feedback stem's boost; a query word's stemmed form has 1.0
FEEDBACK_TEXT_CHARS = 20_000  # of a document's title and body, to bound the cost
# What follows a French verb inverted with its subject (« compte-t-il », « fut-elle »,
# « est-ce »): the verb is the word searched, since articles write « il compte », not the
# inversion.
INVERTED_SUBJECTS = frozenset("t il elle ils elles on ce je tu nous vous".split())
# A question's interrogative determiner names the kind of answer wanted in the word after it
# (« quelle année », « quel pays », "which country"): the answer's paragraph says « en 1850 »
# or « la France », rarely « année » or « pays », so that word weighs ANSWER_TYPE_WEIGHT of
# a word. Measured on the dev collections (bench/RESULTS.md, ## Relevance).
ANSWER_TYPE_DETERMINERS = frozenset("quel quelle quels quelles what which".split())
ANSWER_TYPE_WEIGHT = 0.5
_DIGIT_GROUP = re.compile(r"\d{3}")
_LEADING_DIGITS = re.compile(r"\d{1,3}(?: \d{3})*")


@dataclass
class MatchPlan:
    """What a highlighter must mark: forms of single words, and phrases of folded words."""

    forms: set[str] = field(default_factory=set)
    phrases: list[tuple[str, ...]] = field(default_factory=list)
    # what the highlighter found in each piece of text, reused across the hits of a page
    seen: dict[tuple[str, str], tuple] = field(default_factory=dict, compare=False, repr=False)

    def is_empty(self) -> bool:
        return not self.forms and not self.phrases


@dataclass
class BuiltQuery:
    """A Whoosh query (None when nothing is searchable) and how to highlight it."""

    query: wq.Query | None
    plan: MatchPlan
    words: list[str]


def build_query(parsed: ParsedQuery, reader: IndexReader,
                langs: tuple[str, ...] = STEMMED_LANGUAGES) -> BuiltQuery:
    """Turn parsed clauses into one Whoosh query; stop words are dropped when other words remain."""
    plan = MatchPlan()
    split = _split_words(_join_digit_groups(parsed.clauses))
    answer_types = _answer_types(split)
    clauses = _without_stopwords(split, langs)[:MAX_SEARCHED_CLAUSES]
    groups: dict[Occur, list[wq.Query]] = {occur: [] for occur in Occur}
    words: list[str] = []
    for clause in clauses:
        collect = plan if clause.occur is not Occur.MUST_NOT else MatchPlan()
        built = _clause_query(clause, reader, langs, collect)
        if built is not None:
            if clause in answer_types:
                _scale_boosts(built, ANSWER_TYPE_WEIGHT)
            groups[clause.occur].append(built)
        if clause.kind == "word" and clause.occur is not Occur.MUST_NOT:
            words.append(clause.text)
    return BuiltQuery(_combine(groups), plan, words)


def wants_feedback(built: BuiltQuery) -> bool:
    """Whether :func:`with_feedback` would expand this query (it has enough searched words)."""
    return built.query is not None and len(built.words) >= FEEDBACK_MIN_WORDS


def with_feedback(built: BuiltQuery, searcher: Searcher,
                  ranked: tuple[Array, Array] | None = None) -> BuiltQuery:
    """A long query with the stems its best documents use most added to it (RM3-like).

    The query's FEEDBACK_DOCUMENTS best documents each give their stems'
    frequencies (over the document's stems), weighted by the document's share
    of their scores; the FEEDBACK_TERMS heaviest stems that at least two
    documents of the index have are added as optional terms, with boosts up
    to FEEDBACK_WEIGHT. They only reorder what the query matches
    (``AndMaybe``), and are not highlighted. Shorter queries come back unchanged.

    ``ranked`` is the query's ranking (document numbers best first, their
    scores) when the caller has it already, restricted to the documents its
    filters allow, so that the best documents are those the user can see;
    without it the query is ranked over the whole index.
    """
    if not wants_feedback(built):
        return built
    docnums, scores = ranked if ranked is not None else ranked_arrays(searcher, built.query)
    weights = _feedback_weights(searcher, docnums[:FEEDBACK_DOCUMENTS].tolist(),
                                scores[:FEEDBACK_DOCUMENTS].tolist())
    if not weights:
        return built
    best = max(weights.values())
    expansion = wq.Or([across_fields(stem, TEXT_FIELDS, FEEDBACK_WEIGHT * weight / best)
                       for stem, weight in weights.items()])
    return BuiltQuery(reliable(wq.AndMaybe(built.query, expansion)), built.plan, built.words)


def _feedback_weights(searcher: Searcher, docnums: list[int],
                      scores: list[float]) -> dict[str, float]:
    """The heaviest stems of the top documents: sum of (score share x frequency in the doc)."""
    total = sum(scores)
    if total <= 0:
        return {}
    weights: Counter[str] = Counter()
    for docnum, score in zip(docnums, scores, strict=True):
        stems = _document_stems(searcher, docnum)
        length = sum(stems.values())
        for stem, count in stems.items():
            weights[stem] += score / total * count / length
    reader = searcher.reader()
    kept: dict[str, float] = {}
    for stem, weight in sorted(weights.items(), key=lambda item: (-item[1], item[0])):
        if max(reader.doc_frequency(f, stem) for f in TEXT_FIELDS) >= 2:  # relates documents
            kept[stem] = weight
            if len(kept) == FEEDBACK_TERMS:
                break
    return kept


def _document_stems(searcher: Searcher, docnum: int) -> Counter[str]:
    """How often each stemmed form occurs in a document's title and body (numbers left out)."""
    fields = searcher.stored_fields(docnum)
    text = f"{fields.get('title', '')}\n{fields.get('body', '')}"[:FEEDBACK_TEXT_CHARS]
    return Counter({
        term: len(positions)
        for term, positions in index_terms(text, fields.get("lang", "")).items()
        if STEM_SEPARATOR in term and not term.partition(STEM_SEPARATOR)[2].isdigit()
    })


def _join_digit_groups(clauses: Iterable[Clause]) -> list[Clause]:
    """``1 000`` typed without quotes arrives as two words: make it one number again."""
    joined: list[Clause] = []
    for clause in clauses:
        previous = joined[-1] if joined else None
        if (previous is not None and previous.kind == clause.kind == "word"
                and previous.occur is clause.occur and previous.field == clause.field
                and _DIGIT_GROUP.fullmatch(clause.text)
                and _LEADING_DIGITS.fullmatch(previous.text)):
            joined[-1] = Clause("word", f"{previous.text} {clause.text}", previous.occur,
                                previous.field)
        else:
            joined.append(clause)
    return joined


def _split_words(clauses: Iterable[Clause]) -> list[Clause]:
    """Typed words as the words of an article: one clause per piece of text.

    ``Florida/Miami`` or ``époux(se)`` is two words, each searched as a word,
    not a phrase that an article writing « Miami, Florida » would miss; a
    number written with separators (``12/05/2020``, ``3,5``) stays whole. A
    French inversion keeps its verb (``compte-t-il`` -> ``compte``).
    """
    split: list[Clause] = []
    for clause in clauses:
        texts = _pieces_of(clause.text) if clause.kind == "word" else [clause.text]
        for text in texts:
            piece = Clause(clause.kind, text, clause.occur, clause.field, clause.distance)
            if piece not in split:
                split.append(piece)
    return split


def _pieces_of(text: str) -> list[str]:
    """The pieces of a typed word (see :func:`_split_words`); the text itself when whole."""
    found = [match.group() for match in piece_matches(text)]
    if len(found) > 1 and not all(any(char.isalpha() for char in piece) for piece in found):
        return [text]  # a date, a decimal, a score: one number
    texts = [_without_inversion(piece) for piece in found]
    return texts if len(texts) > 1 or texts != found else [text]


def _without_inversion(piece: str) -> str:
    """``compte-t-il`` -> ``compte``: the subject pronouns after a verb left out."""
    words = list(tokenize(piece))
    if len(words) < 2 or fold(words[-1].text) not in INVERTED_SUBJECTS:
        return piece
    while len(words) > 1 and fold(words[-1].text) in INVERTED_SUBJECTS:
        words.pop()
    return piece[:words[-1].end]


def _answer_types(clauses: list[Clause]) -> set[Clause]:
    """The optional words that follow an interrogative determiner (« quelle année »)."""
    return {
        after for before, after in zip(clauses, clauses[1:])  # noqa: B905 (one shorter)
        if before.kind == after.kind == "word" and after.occur is Occur.SHOULD
        and fold(before.text) in ANSWER_TYPE_DETERMINERS
        and not (len(before.text) > 1 and before.text.isupper())  # QUEL: a name
    }


def _scale_boosts(query: wq.Query, factor: float) -> None:
    """Multiply the boost of every term and phrase of a freshly built query (in place)."""
    if isinstance(query, AcrossFields | wq.Term | wq.Phrase):
        query.boost *= factor
        return
    for sub in getattr(query, "subqueries", ()):
        _scale_boosts(sub, factor)


def _without_stopwords(clauses: Iterable[Clause], langs: tuple[str, ...]) -> list[Clause]:
    clauses = list(clauses)
    content: list[Clause] = []
    previous: str | None = None
    for clause in clauses:
        words = [token.text for token in tokenize(clause.text)]
        if not _is_stop_clause(clause, words, langs, previous):
            content.append(clause)
        previous = words[-1] if words else previous
    if not any(c.occur is not Occur.MUST_NOT for c in content):
        return clauses
    return content


def _is_stop_clause(clause: Clause, words: list[str], langs: tuple[str, ...],
                    previous: str | None) -> bool:
    """A clause of stop words only; a letter inside a word (``a-t-il``) counts as one."""
    if clause.kind != "word" or clause.occur is not Occur.SHOULD:
        return False
    for word in words:
        inner_letter = len(words) > 1 and len(word) == 1
        if not inner_letter and not is_query_stopword(word, langs, previous):
            return False
        previous = word
    return True


def _combine(groups: dict[Occur, list[wq.Query]]) -> wq.Query | None:
    must, should, must_not = groups[Occur.MUST], groups[Occur.SHOULD], groups[Occur.MUST_NOT]
    optional = wq.Or(should, scale=COORDINATION) if should else None
    if must:
        combined: wq.Query = wq.And(must)
        if optional is not None:
            combined = wq.AndMaybe(combined, optional)
    elif optional is not None:
        combined = optional
    elif must_not:
        combined = wq.Every()
    else:
        return None
    if must_not:
        combined = wq.AndNot(combined, wq.Or(must_not))
    return reliable(combined)


def _clause_query(clause: Clause, reader: IndexReader, langs: tuple[str, ...],
                  plan: MatchPlan) -> wq.Query | None:
    fields = (clause.field,) if clause.field else TEXT_FIELDS
    tokens = analyze(clause.text)
    words = [token.text for token in tokens if not token.alias]
    if not words:
        return None
    if clause.kind == "prefix":
        return _expanded_query(_prefix_terms(reader, fields, fold(clause.text)), fields, plan)
    if clause.kind == "fuzzy":
        terms = _fuzzy_terms(reader, fields, fold(words[0]), clause.distance)
        return _expanded_query(terms, fields, plan)
    if len(words) == 1:
        return word_query(words[0], fields, langs, plan, reader)
    whole = _whole_alias(tokens)
    if whole is not None and not any(char.isalpha() for char in whole):
        return word_query(whole, fields, langs, plan, reader)  # 1 000, 3,5, 12:30
    return phrase_query(words, fields, plan, langs, joined=whole, reader=reader)


def _whole_alias(tokens: list[Token]) -> str | None:
    """The alias that spans every word of a clause (``e-mail`` -> ``email``), if any."""
    words = [token for token in tokens if not token.alias]
    for token in tokens:
        if token.alias and token.start == words[0].start and token.end == words[-1].end:
            return token.text
    return None


def word_query(word: str, fields: tuple[str, ...], langs: tuple[str, ...],
               plan: MatchPlan, reader: IndexReader | None = None) -> wq.Query:
    """One word in every form, in every field, each with its boost.

    Exact (as typed) > keeps the typed accents > folded > other spellings of
    a listed name > stemmed: the scores add up, so each form the word
    matches lifts it. A listed name is not stemmed, so it cannot merge with
    another word that happens to share its stem.
    """
    folded = fold(word)
    exact = exact_form(word)
    variants = name_variants((folded,))
    forms: dict[str, list[str]] = {
        "exact": [exact] if exact else [],
        "accents": _accented_forms(reader, fields, word) if exact and reader else [],
        "fold": [folded],
        "variant": [spelling[0] for spelling in variants if len(spelling) == 1],
        "stem": [],
    }
    if not variants:
        for lang in query_languages(word, langs):
            stemmed = stem_form(lang, word)
            if stemmed:
                forms["stem"].append(stemmed)
    boosts = dict(FORM_BOOSTS)
    if not forms["stem"]:  # 2003, a listed name, Tifinagh: weigh as much as a stemmed word
        boosts["fold"] += FORM_BOOSTS["stem"]
    subqueries: list[wq.Query] = [
        across_fields(text, fields, boosts[kind]) for kind, texts in forms.items() for text in texts
    ]
    subqueries.extend(_variant_phrases(variants, fields, plan))
    plan.forms.update(text for texts in forms.values() for text in texts)
    return wq.Or(subqueries)


def _accented_forms(reader: IndexReader, fields: tuple[str, ...], word: str) -> list[str]:
    """Exact forms in the index that keep every accent typed (``côte``: ``côté``, not ``coté``)."""
    typed = lower_form(word)
    prefix = fold(word) + EXACT_SEPARATOR
    found: set[str] = set()
    for fieldname in fields:
        for count, term in enumerate(reader.expand_prefix(fieldname, prefix)):
            if count >= MAX_EXPANSIONS:
                break
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            written = text[len(prefix):]
            if written != typed and keeps_accents(typed, written):
                found.add(text)
    return sorted(found)


def _respelled(words: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The phrase with one listed name spelled otherwise (``roi Mohamed VI``)."""
    found: dict[tuple[str, ...], None] = {}
    for index, word in enumerate(words):
        for spelling in name_variants((word,)):
            found[words[:index] + spelling + words[index + 1:]] = None
    return tuple(found)[:MAX_RESPELLED]


def _variant_phrases(variants: tuple[tuple[str, ...], ...], fields: tuple[str, ...],
                     plan: MatchPlan) -> list[wq.Query]:
    phrases = [spelling for spelling in variants if len(spelling) > 1]
    plan.phrases.extend(phrases)
    return [wq.Phrase(f, list(spelling), boost=PHRASE_FIELD_BOOSTS[f] * FORM_BOOSTS["variant"])
            for f in fields for spelling in phrases]


def phrase_query(words: list[str], fields: tuple[str, ...], plan: MatchPlan,
                 langs: tuple[str, ...] = STEMMED_LANGUAGES, joined: str | None = None,
                 reader: IndexReader | None = None) -> wq.Query:
    """Consecutive folded words, or another spelling of a listed name.

    ``joined`` is the clause written as one word (``e-mail`` -> ``email``),
    searched like a word too, since the index holds hyphenated words joined.
    The alternatives name one thing, so the best of them scores, not their sum.
    """
    folded = tuple(fold(word) for word in words)
    plan.phrases.append(folded)
    subqueries: list[wq.Query] = [
        wq.Phrase(fieldname, list(folded), boost=PHRASE_FIELD_BOOSTS[fieldname])
        for fieldname in fields
    ]
    variants = name_variants(folded) + _respelled(folded)
    subqueries.extend(_variant_phrases(variants, fields, plan))
    singles = [spelling[0] for spelling in variants if len(spelling) == 1]
    plan.forms.update(singles)
    subqueries.extend(across_fields(text, fields, FORM_BOOSTS["variant"]) for text in singles)
    if joined:
        subqueries.append(word_query(joined, fields, langs, plan, reader))
    return wq.DisjunctionMax(subqueries)


def _expanded_query(terms: list[str], fields: tuple[str, ...], plan: MatchPlan) -> wq.Query | None:
    if not terms:
        return wq.NullQuery
    plan.forms.update(terms)
    return wq.Or([across_fields(term, fields) for term in terms])


def across_fields(text: str, fields: tuple[str, ...], boost: float = 1.0) -> AcrossFields:
    """One term in the searched fields, scored as one BM25F term with the fields' weights."""
    return AcrossFields(text, {fieldname: FIELD_BOOSTS[fieldname] for fieldname in fields},
                        boost=boost)


def is_plain_term(term: str) -> bool:
    """True for a folded form (neither an exact nor a stemmed form)."""
    return EXACT_SEPARATOR not in term and STEM_SEPARATOR not in term


def _most_frequent(reader: IndexReader, fields: tuple[str, ...], terms: Iterable[str]) -> list[str]:
    frequency = {
        term: sum(reader.doc_frequency(f, term) for f in fields) for term in set(terms)
    }
    ranked = sorted(frequency, key=lambda term: (-frequency[term], term))
    return ranked[:MAX_EXPANSIONS]


def _prefix_terms(reader: IndexReader, fields: tuple[str, ...], prefix: str) -> list[str]:
    found: list[str] = []
    for fieldname in fields:
        for count, term in enumerate(reader.expand_prefix(fieldname, prefix)):
            if count >= MAX_SCANNED_TERMS:
                break
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            if is_plain_term(text):
                found.append(text)
    return _most_frequent(reader, fields, found)


def _fuzzy_terms(reader: IndexReader, fields: tuple[str, ...], word: str,
                 distance: int) -> list[str]:
    distance = 1 if len(word) < 5 else distance
    found: list[str] = []
    for fieldname in fields:
        for term in reader.terms_within(fieldname, word, distance, prefix=1):
            if is_plain_term(term):
                found.append(term)
    return _most_frequent(reader, fields, found)
