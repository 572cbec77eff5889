"""How Kiosque scores matches: the BM25F weighting, and Whoosh matchers that score correctly.

A word is searched in the title and the body at once as one
:class:`AcrossFields` term, scored with BM25F proper (Robertson & Zaragoza):
its frequency in each field, weighted and normalized by that field's length,
is summed *before* the saturation, so a title match adds to the body's
frequency instead of adding a second, separately saturated BM25 score (what
Whoosh's ``BM25F`` does, one field at a time). The document frequency is that
of the document as a whole (title or body).

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
from whoosh.matching import DisjunctionMaxMatcher, Matcher, NullMatcher

# K1 0.7 (was 1.0) with the title weight 2.5 and French lemma stems, scratch harness: PIAF
# MRR@10 0.7988 / 0.7997 / 0.8011 at K1 1.0 / 0.8 / 0.7, SQuAD 0.8790 (0.8) / 0.8796 (0.7),
# CISI nDCG 0.4053 / 0.4031 / 0.4006, service-public 0.9307 / 0.9260 / 0.9149
# (bench/RESULTS.md, ## Relevance); 1.2 lost PIAF and SQuAD. A short passage saturates early.
K1 = 0.7
B = 0.9
TITLE_B = 0.75
# Lucene's idf raised to this power: a rare word (a name, a number, a technical term) weighs a
# little more against common ones. Measured on the dev collections with proximity
# (bench/RESULTS.md, ## Relevance): 1.2 gave PIAF MRR@10 +0.004, SQuAD +0.001, CISI nDCG +0.001,
# service-public -0.003; 1.5 lost SQuAD and service-public.
IDF_POWER = 1.2


def lucene_idf(documents: int, having: int, power: float = IDF_POWER) -> float:
    """Lucene's idf, ``log(1 + (N - n + 0.5) / (n + 0.5))``, raised to ``power``."""
    return math.log(1 + (documents - having + 0.5) / (having + 0.5)) ** power


class LuceneBM25F(scoring.BM25F):
    """Whoosh's BM25F with Lucene's IDF, which gives words found almost everywhere ~no weight."""

    def idf(self, searcher: Any, fieldname: str, text: str) -> float:
        return lucene_idf(searcher.doc_count_all(), searcher.doc_frequency(fieldname, text))


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


class AcrossFields(wq.Query):
    """One term in several fields, scored as one BM25F term (see the module's docstring).

    ``fields`` maps each field to its weight: a title occurrence counts as
    ``fields["title"]`` body occurrences of the same normalized length.
    """

    def __init__(self, text: str, fields: dict[str, float], boost: float = 1.0) -> None:
        self.text = text
        self.fields = dict(fields)
        self.boost = boost

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r}, {self.fields!r}, boost={self.boost!r})"

    def __eq__(self, other: object) -> bool:
        return (type(other) is type(self) and self.text == other.text  # type: ignore[attr-defined]
                and self.fields == other.fields and self.boost == other.boost)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        fields = tuple(sorted(self.fields.items()))
        return hash((type(self).__name__, self.text, fields, self.boost))

    def has_terms(self) -> bool:
        return True

    def terms(self, phrases: bool = False) -> Any:
        return iter([(fieldname, self.text) for fieldname in self.fields])

    def estimate_size(self, ixreader: Any) -> int:
        schema = ixreader.schema
        return sum(ixreader.doc_frequency(f, self.text) for f in self.fields if f in schema)

    def field_terms(self, searcher: Any) -> list[tuple[str, bytes]]:
        """(field, term bytes) of the fields that have the term."""
        found = []
        for fieldname in self.fields:
            if fieldname not in searcher.schema:
                continue
            try:
                text = searcher.schema[fieldname].to_bytes(self.text)
            except ValueError:
                continue
            if (fieldname, text) in searcher.reader():
                found.append((fieldname, text))
        return found

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        """Whoosh's way (a leaf searcher at a time); search/scoring.py computes the same scores
        a postings list at a time."""
        terms = self.field_terms(searcher)
        if not terms:
            return NullMatcher()
        parent = searcher.get_parent()  # idf and average lengths are the whole index's
        having: set[int] = set()
        for fieldname, text in self.field_terms(parent):
            having.update(parent.reader().postings(fieldname, text).all_ids())
        model = FieldsModel.of(parent, self.fields)
        parts = [(searcher.postings(fieldname, text), fieldname) for fieldname, text in terms]
        return _AcrossFieldsMatcher(parts, model, model.idf(len(having)) * self.boost, searcher)


class FieldsModel:
    """What BM25F needs of each searched field: its weight, B, average length, and K1."""

    def __init__(self, documents: int, k1: float,
                 fields: dict[str, tuple[float, float, float]]) -> None:
        self.documents = documents
        self.k1 = k1
        self.fields = fields  # name -> (weight, B, average length)

    @classmethod
    def of(cls, searcher: Any, weights: dict[str, float]) -> FieldsModel:
        """The model of a (top-level) searcher: its weighting's K1 and B, its live documents."""
        model = searcher.weighting
        field_b = getattr(model, "_field_B", {})
        return cls(searcher.doc_count(), getattr(model, "K1", K1), {
            name: (weight, field_b.get(name, getattr(model, "B", B)),
                   searcher.avg_field_length(name) or 1)
            for name, weight in weights.items() if name in searcher.schema
        })

    def idf(self, having: int) -> float:
        """Lucene's IDF of a term found in ``having`` documents (in any field)."""
        return lucene_idf(self.documents, having)

    def normalized(self, name: str, frequency: Any, length: Any) -> Any:
        """A field's contribution to the term's pseudo-frequency (numbers or numpy arrays)."""
        weight, b, average = self.fields[name]
        return weight * frequency / ((1 - b) + b * length / average)

    def saturated(self, pseudo_frequency: Any) -> Any:
        return pseudo_frequency * (self.k1 + 1) / (self.k1 + pseudo_frequency)


class _AcrossFieldsMatcher(Matcher):
    """The union of a term's postings in several fields, scored as one BM25F term."""

    def __init__(self, parts: list[tuple[Any, str]], model: FieldsModel, weight: float,
                 searcher: Any) -> None:
        self.parts = parts
        self.model = model
        self.factor = weight
        self.searcher = searcher

    def _active(self) -> list[tuple[Any, str]]:
        return [(m, name) for m, name in self.parts if m.is_active()]

    def is_active(self) -> bool:
        return any(m.is_active() for m, _ in self.parts)

    def id(self) -> int:
        return min(m.id() for m, _ in self._active())

    def next(self) -> None:
        current = self.id()
        for m, _ in self._active():
            if m.id() == current:
                m.next()

    def skip_to(self, target: int) -> None:
        for m, _ in self._active():
            m.skip_to(target)

    def reset(self) -> None:
        for m, _ in self.parts:
            m.reset()

    def copy(self) -> _AcrossFieldsMatcher:
        return _AcrossFieldsMatcher([(m.copy(), name) for m, name in self.parts], self.model,
                                    self.factor, self.searcher)

    def supports_block_quality(self) -> bool:
        return False

    def max_quality(self) -> float:
        return self.factor * (self.model.k1 + 1)

    def weight(self) -> float:
        current = self.id()
        return sum(m.weight() for m, _ in self._active() if m.id() == current)

    def score(self) -> float:
        current = self.id()
        pseudo = 0.0
        for m, name in self._active():
            if m.id() == current:
                length = self.searcher.doc_field_length(current, name, 1)
                pseudo += self.model.normalized(name, m.weight(), length)
        return self.factor * self.model.saturated(pseudo)
