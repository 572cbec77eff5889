"""How Kiosque scores matches: the BM25F weighting, and Whoosh matchers that score correctly.

The weighting is Whoosh's per-field BM25F with Lucene's IDF,
``log(1 + (N - n + 0.5) / (n + 0.5))``, instead of Whoosh's
``log(N / (n + 1)) + 1``: Whoosh's ``+ 1`` gives a word found in every
document about a seventh of the weight of a rare one, Lucene's and SQLite
FTS5's give it almost none, which is what lets a question's common words
(« quelle est la ... ») stop deciding the ranking. K1 and B were tuned on
the dev collections (``bench/RESULTS.md``, ## Relevance).

:func:`reliable` rewrites a query tree around two whoosh-reloaded 2.7.5 bugs
that change rankings (both reproduced in ``tests/test_ranking.py``):

* On an index of fewer than 5,000 documents Whoosh evaluates an ``Or`` with an
  ``ArrayUnionMatcher``, whose ``max_quality()`` is the *max* of its parts
  instead of their sum, and which has consumed its sub-matchers after the first
  block: a top-N search then prunes documents that belong in the top N.
  :class:`UnionOr` always uses the binary tree of union matchers.
* ``DisjunctionMaxMatcher.score()`` takes the best *current* score of both
  sides, even when one side sits on another document, so a document matched
  by one side scores as high as the other side's current document.
  :class:`BestOf` scores only the sides that match the document.
"""

from __future__ import annotations

import math
from typing import Any

from whoosh import query as wq
from whoosh import scoring
from whoosh.matching import DisjunctionMaxMatcher, NullMatcher

K1 = 1.0
B = 0.9
TITLE_B = 0.75


class LuceneBM25F(scoring.BM25F):
    """Whoosh's BM25F with Lucene's IDF, which gives words found almost everywhere ~no weight."""

    def idf(self, searcher: Any, fieldname: str, text: str) -> float:
        documents = searcher.doc_count_all()
        having = searcher.doc_frequency(fieldname, text)
        return math.log(1 + (documents - having + 0.5) / (having + 0.5))


def weighting() -> scoring.WeightingModel:
    """The weighting every Kiosque searcher uses."""
    return LuceneBM25F(B=B, K1=K1, title_B=TITLE_B)


class UnionOr(wq.Or):
    """An ``Or`` that always merges with Whoosh's binary tree of union matchers."""

    matcher_type = wq.Or.DEFAULT_MATCHER


class _BestOfMatcher(DisjunctionMaxMatcher):
    """The best score among the sides that match the current document."""

    def score(self) -> float:
        current = self.id()
        return max(side.score() for side in (self.a, self.b)
                   if side.is_active() and side.id() == current)

    def replace(self, minquality: float = 0) -> Any:
        a, b = self.a, self.b
        if not a.is_active():
            return b.replace(minquality)
        if not b.is_active():
            return a.replace(minquality)
        if minquality and max(a.max_quality(), b.max_quality()) < minquality:
            return NullMatcher()
        new_a, new_b = a.replace(minquality), b.replace(minquality)
        if not new_a.is_active():
            return new_b
        if not new_b.is_active():
            return new_a
        if new_a is a and new_b is b:
            self._id = None
            return self
        return self.__class__(new_a, new_b, tiebreak=self.tiebreak)


class BestOf(wq.DisjunctionMax):
    """A ``DisjunctionMax`` whose documents score the best of the subqueries that match them."""

    def _matcher(self, subs: Any, searcher: Any, context: Any) -> Any:
        reader = searcher.reader()
        return self._tree_matcher(subs, _BestOfMatcher, searcher, context,
                                  lambda q: q.estimate_size(reader), tiebreak=self.tiebreak)


def reliable(query: wq.Query) -> wq.Query:
    """The same query with every ``Or`` a :class:`UnionOr` and every ``DisjunctionMax`` a
    :class:`BestOf`, so that its scores and its top N are right."""
    if isinstance(query, wq.Or):
        return UnionOr([reliable(sub) for sub in query.subqueries], boost=query.boost,
                       minmatch=query.minmatch, scale=query.scale)
    if isinstance(query, wq.DisjunctionMax):
        return BestOf([reliable(sub) for sub in query.subqueries], boost=query.boost,
                      tiebreak=query.tiebreak)
    return query.apply(reliable)
