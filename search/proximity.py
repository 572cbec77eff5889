"""A bonus for the best documents where the query's words occur close together.

BM25F scores each word on its own: a document that has the words of
« sillon d'enceinte » twenty lines apart scores as one that has the phrase.
The :data:`RERANKED` best documents of a query of a few words get a bonus:
over every stretch of :data:`WINDOW` consecutive positions of the body, the
idf of the distinct query words found in it, less the idf of the rarest of
them (what the words found *together* add over the best single one), the
best stretch counting, times :data:`WEIGHT`. A document where no two query
words meet keeps its score. Only the order of those documents changes: what a
query matches, and its total, do not.

Measured on the dev collections (bench/RESULTS.md, ## Relevance): MRR@10 PIAF
0.7834 -> 0.7870, SQuAD 0.8699 -> 0.8751, service-public 0.9273 -> 0.9252, CISI
nDCG@10 0.4027 -> 0.4040; chosen over BM25TP's pair distances (CISI -0.008) and
over the stretch's whole idf. The idf here is Lucene's, as measured (without
``ranking.IDF_POWER``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from whoosh.searching import Searcher

from .analysis import STEMMED_LANGUAGES, analyze, fold, query_languages, stem_form
from .ranking import lucene_idf
from .scoring import Array, term_segments

WINDOW = 8
WEIGHT = 0.8
RERANKED = 20
MIN_WORDS = 2
MAX_WORDS = 11  # a longer query is a described need (feedback's domain), not a question
FIELD = "body"

Positions = list[tuple[int, int]]  # (position, word number), by position


def word_terms(words: Iterable[str], langs: tuple[str, ...] = STEMMED_LANGUAGES
               ) -> list[tuple[str, ...]]:
    """Each word of the searched words (a hyphenated word gives several) as the indexed
    terms that mark where it occurs: its stems, or its folded form when it has none (a
    number, a stop word; an article has a word's folded form only where it has its stem)."""
    found: list[tuple[str, ...]] = []
    for text in words:
        for token in analyze(text):
            if token.alias:
                continue
            terms = []
            for lang in query_languages(token.text, langs):
                stemmed = stem_form(lang, token.text)
                if stemmed and stemmed not in terms:
                    terms.append(stemmed)
            if not terms:
                terms.append(fold(token.text))
            if tuple(terms) not in found:
                found.append(tuple(terms))
    return found


def rerank(searcher: Searcher, words: Sequence[tuple[str, ...]], docnums: np.ndarray,
           scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ranking with the first RERANKED documents reordered by score plus proximity bonus.

    ``words`` are :func:`word_terms`; the arrays are a ranking, best first.
    A query of fewer than MIN_WORDS or more than MAX_WORDS words comes back unchanged.
    """
    if not MIN_WORDS <= len(words) <= MAX_WORDS or len(docnums) < 2:
        return docnums, scores
    top = docnums[:RERANKED]
    idfs = [_idf(searcher, terms) for terms in words]
    found = _positions(searcher, words, top.tolist())
    bonus = np.array([WEIGHT * together(found.get(doc, []), idfs, WINDOW)
                      for doc in top.tolist()])
    if not bonus.any():
        return docnums, scores
    boosted = scores[:RERANKED] + bonus
    order = np.lexsort((top, -boosted))
    return (np.concatenate([top[order], docnums[RERANKED:]]),
            np.concatenate([boosted[order], scores[RERANKED:]]))


def together(events: Positions, idfs: Sequence[float], window: int) -> float:
    """The best stretch of ``window`` positions: idf of its distinct words less the largest.

    ``events`` are (position, word number) sorted by position.
    """
    count = [0] * len(idfs)
    best = covered = 0.0
    distinct = left = 0
    for position, word in events:
        if count[word] == 0:
            covered += idfs[word]
            distinct += 1
        count[word] += 1
        while position - events[left][0] >= window:
            gone = events[left][1]
            count[gone] -= 1
            if count[gone] == 0:
                covered -= idfs[gone]
                distinct -= 1
            left += 1
        if distinct >= 2:
            rarest = max(idf for idf, n in zip(idfs, count, strict=True) if n)
            best = max(best, covered - rarest)
    return best


def _idf(searcher: Searcher, terms: tuple[str, ...]) -> float:
    """Lucene's idf of a word, from its most frequent term (title or body)."""
    having = max(_frequency(searcher, field, term) for term in terms
                 for field in ("title", FIELD))
    return lucene_idf(searcher.doc_count(), having, power=1.0) if having else 0.0


def _frequency(searcher: Searcher, fieldname: str, term: str) -> int:
    """In how many documents a term occurs (deleted ones included, as Whoosh counts)."""
    text = searcher.schema[fieldname].to_bytes(term)
    return sum(len(documents) for _, _, documents in term_segments(searcher, fieldname, text))


def _positions(searcher: Searcher, words: Sequence[tuple[str, ...]],
               docnums: list[int]) -> dict[int, Positions]:
    """Where the words occur in the body of the documents that have two of them or more:
    (position, word number), sorted.

    Which documents have which term comes from the postings cache; a Whoosh
    matcher, and the positions it decodes, cost far more, so they are read
    only where they can count: for a document with two words or more, and for
    a word, only the first of its terms that the document has.
    """
    readings = _readings(searcher, words, docnums)
    words_in: dict[int, set[int]] = {}
    for number, _, _, _, having in readings:
        for doc in having:
            words_in.setdefault(doc, set()).add(number)
    shared = {doc for doc, numbers in words_in.items() if len(numbers) >= 2}
    found: dict[int, list[tuple[int, int]]] = {}
    for number, text, reader, offset, having in readings:
        wanted = [doc - offset for doc in having if doc in shared]
        if not wanted:
            continue
        matcher = reader.postings(FIELD, text)
        for doc in wanted:
            matcher.skip_to(doc)
            found.setdefault(doc + offset, []).extend(
                (position, number) for position in matcher.value_as("positions"))
    return {doc: sorted(events) for doc, events in found.items()}


Reading = tuple[int, bytes, Any, int, list[int]]  # word, term, segment, offset, documents


def _readings(searcher: Searcher, words: Sequence[tuple[str, ...]],
              docnums: list[int]) -> list[Reading]:
    """For each word, the segments and documents where each of its terms is to be read:
    the documents (global numbers) that have the term and none of the word's earlier terms."""
    readings: list[Reading] = []
    schema_field = searcher.schema[FIELD]
    for number, terms in enumerate(words):
        waiting = set(docnums)
        for term in terms:
            text = schema_field.to_bytes(term)
            for reader, offset, documents in term_segments(searcher, FIELD, text):
                having = _having(reader, documents, waiting, offset) if waiting else []
                if having:
                    readings.append((number, text, reader, offset, having))
                    waiting.difference_update(having)
    return readings


def _having(reader: Any, documents: Array, wanted: set[int], offset: int) -> list[int]:
    """The wanted documents (global numbers, increasing) among a term's ``documents`` in one
    segment (numbers within the segment, increasing)."""
    size = reader.doc_count_all()
    local = np.array(sorted(doc - offset for doc in wanted if 0 <= doc - offset < size),
                     dtype=np.int64)
    if not len(local) or not len(documents):
        return []
    at = np.minimum(np.searchsorted(documents, local), len(documents) - 1)
    return (local[documents[at] == local] + offset).tolist()
