"""Every match of a query with its score, a postings list at a time (numpy).

Whoosh scores document by document through a tree of matchers: a few
Python calls per document and per tree node. A Kiosque query is mostly a
sum of BM25F term scores (each word is an ``Or`` of a dozen terms: forms x
fields x languages), which can be computed a whole postings list at a time
instead. :func:`score_all` does that for ``Term``, ``Or`` (no coordination),
``And``, ``AndMaybe``, ``AndNot`` and :class:`search.ranking.BestOf`, and
lets Whoosh score anything else (phrases, ``Every``, ...), so its scores are
Whoosh's: same BM25F scorer values, same field lengths, same order
(score, then document number); tests/test_scoring.py compares them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.codec import whoosh3
from whoosh.matching import FilterMatcher
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from .cache import BoundedDict
from .ranking import AcrossFields, BestOf, FieldsModel, UnionOr

# Field lengths by length byte; 0 (no length stored) reads as 1, as Whoosh's scorer asks.
_LENGTHS = np.array([byte_to_length(byte) if byte else 1 for byte in range(256)], dtype=float)
_LENGTH_CACHE_SIZE = 64
_length_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_length_lock = threading.Lock()
POSTINGS_CACHE_BYTES = 16 * 2**20  # postings kept, with keys and arrays (bench/queries.txt: 11 MB)
_POSTINGS_ENTRY_BYTES = 560  # a term's key, two array objects, the tuple, the OrderedDict node
_postings_cache: OrderedDict[tuple[str, str, bytes], tuple[np.ndarray, np.ndarray]] = OrderedDict()
_postings_lock = threading.Lock()
_cached_bytes = 0
FREQUENCY_CACHE_SIZE = 64_000  # (segment, field, term) document counts: ~170 bytes each, ~11 MB
_frequency_cache: dict[tuple[str, str, bytes], int] = BoundedDict(FREQUENCY_CACHE_SIZE)

Array = np.ndarray
Scored = tuple[Array, Array]  # scores (float) and matched (bool), by document number


def score_all(searcher: Searcher, query: wq.Query) -> list[tuple[float, int]]:
    """Every document the query matches as (score, docnum), best first, ties by docnum."""
    docnums, scores = ranked_arrays(searcher, query)
    return list(zip(scores.tolist(), docnums.tolist(), strict=True))


def ranked_arrays(searcher: Searcher, query: wq.Query) -> tuple[Array, Array]:
    """:func:`score_all` as arrays: document numbers best first (ties by docnum), their scores."""
    scores, matched = _Evaluation(searcher).evaluate(query)
    docnums = np.flatnonzero(matched)
    chosen = docnums[np.lexsort((docnums, -scores[docnums]))]
    return chosen, scores[chosen]


class _Evaluation:
    """One query over one searcher: each node becomes (scores, matched) arrays.

    A term's result stays sparse (its documents and their scores) until a node
    needs whole arrays: a union adds a term's scores into its own array
    (the same additions in the same order, so the same floats), which spares
    two arrays the size of the index for every term of a query.
    """

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.size = searcher.doc_count_all()

    def empty(self) -> Scored:
        return np.zeros(self.size), np.zeros(self.size, dtype=bool)

    def evaluate(self, query: wq.Query) -> Scored:
        found = self.node(query)
        return self.dense(found) if isinstance(found, _Sparse) else found

    def node(self, query: wq.Query) -> Scored | _Sparse:
        if isinstance(query, wq.Term):
            return self.term(query)
        if isinstance(query, AcrossFields):
            return self.across_fields(query)
        if query is wq.NullQuery or isinstance(query, type(wq.NullQuery)):
            return self.empty()
        if isinstance(query, wq.CompoundQuery) and len(query.subqueries) == 1:
            return self.node(query.subqueries[0])  # Whoosh ignores the wrapper too
        if isinstance(query, UnionOr) and not query.scale and not query.minmatch:
            return self.union([self.node(sub) for sub in query.subqueries])
        if isinstance(query, BestOf):
            return self.best([self.evaluate(sub) for sub in query.subqueries])
        if type(query) is wq.And:
            return self.intersection([self.evaluate(sub) for sub in query.subqueries])
        if type(query) is wq.AndMaybe:
            (required, found), (optional, _) = self.evaluate(query.a), self.evaluate(query.b)
            return required + np.where(found, optional, 0.0), found
        if type(query) is wq.AndNot:
            scores, found = self.evaluate(query.a)
            return scores, found & ~self.evaluate(query.b)[1]
        return self.by_whoosh(query)

    def dense(self, part: _Sparse) -> Scored:
        scores, matched = self.empty()
        scores[part.docnums] = part.scores
        matched[part.docnums] = True
        return scores, matched

    def union(self, parts: list[Scored | _Sparse]) -> Scored:
        scores, matched = self.empty()
        for part in parts:
            if isinstance(part, _Sparse):
                scores[part.docnums] += part.scores  # a term's documents are distinct
                matched[part.docnums] = True
            else:
                scores += part[0]
                matched |= part[1]
        return scores, matched

    def best(self, parts: list[Scored]) -> Scored:
        scores, matched = self.empty()
        for part_scores, part_matched in parts:
            scores = np.where(part_matched & (~matched | (part_scores > scores)),
                              part_scores, scores)
            matched |= part_matched
        return scores, matched

    def intersection(self, parts: list[Scored]) -> Scored:
        scores, matched = parts[0][0].copy(), parts[0][1].copy()
        for part_scores, part_matched in parts[1:]:
            scores += part_scores
            matched &= part_matched
        return scores, matched

    def by_whoosh(self, query: wq.Query) -> Scored:
        scores, matched = self.empty()
        for score, docnum in self.searcher.search(query, limit=None).top_n:
            scores[docnum] = score
            matched[docnum] = True
        return scores, matched

    def term_bytes(self, fieldname: str, text: str) -> tuple[Any, bytes] | None:
        """The field and the term's bytes; None when the schema has neither."""
        schema = self.searcher.schema
        if fieldname not in schema:
            return None
        try:
            return schema[fieldname], schema[fieldname].to_bytes(text)
        except ValueError:
            return None

    def postings(self, fieldname: str, text: bytes) -> list[tuple[Array, Array, Array]]:
        """The term's (global docnums, weights, field lengths) in each segment that has it."""
        found = []
        for leaf, offset in self.searcher.leaf_searchers():
            reader = leaf.reader()
            if not segment_frequency(reader, fieldname, text):
                continue
            docnums, weights = _postings(reader, fieldname, text)
            lengths = _field_lengths(reader, fieldname)[docnums]
            found.append((docnums.astype(np.int64) + offset, weights, lengths))
        return found

    def term(self, query: wq.Term) -> Scored | _Sparse:
        known = self.term_bytes(query.fieldname, query.text)
        if known is None:
            return _Sparse.EMPTY
        field, text = known
        segments = self.postings(query.fieldname, text)
        if not segments:
            return _Sparse.EMPTY
        parameters = _bm25_parameters(self.searcher, query.fieldname)
        if parameters is None or not field.scorable:
            return self.by_whoosh(query)
        # idf and average length are the whole index's: one set serves every segment
        idf = self.searcher.idf(query.fieldname, text)  # Whoosh's own cache, per searcher
        avgfl = _average_length(self.searcher, query.fieldname)
        docnums = [found for found, _, _ in segments]
        scores = [_bm25(idf, avgfl, *parameters, weights, lengths) * query.boost
                  for _, weights, lengths in segments]
        if len(docnums) == 1:
            return _Sparse(docnums[0], scores[0])
        return _Sparse(np.concatenate(docnums), np.concatenate(scores))

    def across_fields(self, query: AcrossFields) -> _Sparse:
        """:class:`search.ranking.AcrossFields`: weighted, length-normalized frequencies summed
        over the fields (title, then body: the additions of Whoosh's matcher, in its order),
        then saturated once, with the idf of the documents having the term in any field."""
        model = _fields_model(self.searcher, query.fields)
        docnums: list[Array] = []
        pseudo: list[Array] = []
        for fieldname in query.fields:
            known = self.term_bytes(fieldname, query.text)
            if known is None:
                continue
            for found, weights, lengths in self.postings(fieldname, known[1]):
                docnums.append(found)
                pseudo.append(model.normalized(fieldname, weights.astype(np.float64), lengths))
        if not docnums:
            return _Sparse.EMPTY
        everyone = np.concatenate(docnums)
        having, where = np.unique(everyone, return_inverse=True)
        summed = np.bincount(where, weights=np.concatenate(pseudo), minlength=len(having))
        factor = model.idf(len(having)) * query.boost
        return _Sparse(having, factor * model.saturated(summed))


class _Sparse:
    """A term's matches: document numbers (distinct) and their scores."""

    EMPTY: _Sparse

    def __init__(self, docnums: Array, scores: Array) -> None:
        self.docnums = docnums
        self.scores = scores


_Sparse.EMPTY = _Sparse(np.zeros(0, dtype=np.int64), np.zeros(0))


def _bm25_parameters(searcher: Searcher, fieldname: str) -> tuple[float, float] | None:
    """(B, K1) of a field, as ``BM25F.scorer`` picks them; None when the weighting is not
    Whoosh's BM25F (then Whoosh scores)."""
    weighting = searcher.weighting
    if not isinstance(weighting, BM25F) or type(weighting).scorer is not BM25F.scorer:
        return None
    return weighting._field_B.get(fieldname, weighting.B), weighting.K1


def _fields_model(searcher: Searcher, weights: dict[str, float]) -> FieldsModel:
    """An :class:`AcrossFields` term's BM25F model, worked out once per searcher and weights
    (document count and average lengths are the whole index's and do not change in it)."""
    cache = searcher.__dict__.setdefault("_kiosque_fields_models", {})
    key = tuple(sorted(weights.items()))
    if key not in cache:
        cache[key] = FieldsModel.of(searcher, weights)
    return cache[key]


def _average_length(searcher: Searcher, fieldname: str) -> float:
    """``BM25FScorer``'s average field length, worked out once per searcher."""
    cache = searcher.__dict__.setdefault("_kiosque_avgfl", {})
    if fieldname not in cache:
        cache[fieldname] = searcher.get_parent().avg_field_length(fieldname) or 1
    return cache[fieldname]


def segment_frequency(reader: Any, fieldname: str, text: bytes) -> int:
    """In how many documents of one segment a term occurs (deletions included; 0 when the
    segment lacks it). A segment's terms never change: counts are kept by segment id,
    since each query asks about a dozen forms in every segment (a hash-file read each)."""
    key = (reader.segment().segment_id(), fieldname, text)
    found = _frequency_cache.get(key)
    if found is None:
        found = reader.doc_frequency(fieldname, text) if (fieldname, text) in reader else 0
        _frequency_cache[key] = found
    return found


def _bm25(idf: float, avgfl: float, b: float, k1: float, tf: Array, lengths: Array) -> Array:
    """whoosh.scoring.bm25, term for term (same operations, same order: same floats)."""
    tf = tf.astype(np.float64)  # Whoosh reads the stored float32 weights as Python floats
    return idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * lengths / avgfl)))


def term_documents(reader: Any, fieldname: str, text: bytes) -> Array:
    """The (segment) document numbers of a term in one segment, deleted ones left out,
    increasing; from the postings cache."""
    if not segment_frequency(reader, fieldname, text):
        return np.zeros(0, dtype=np.int32)
    return _postings(reader, fieldname, text)[0]


def _postings(reader: Any, fieldname: str, text: bytes) -> tuple[Array, Array]:
    """Document numbers and weights of a term in one segment, deleted documents left out."""
    docnums, weights = _cached_postings(reader, fieldname, text)
    deleted = reader.deleted_docs_set if reader.has_deletions() else None
    if deleted:
        keep = ~np.isin(docnums, np.fromiter(deleted, dtype=np.int64))
        docnums, weights = docnums[keep], weights[keep]
    return docnums, weights


def _cached_postings(reader: Any, fieldname: str, text: bytes) -> tuple[Array, Array]:
    """A term's postings in a segment, deletions included: a segment's postings never
    change, so the most used ones are kept (up to POSTINGS_CACHE_BYTES in all: a term's
    arrays and what its entry costs besides, so that many short lists count too)."""
    key = (reader.segment().segment_id(), fieldname, text)
    with _postings_lock:
        found = _postings_cache.get(key)
        if found is not None:
            _postings_cache.move_to_end(key)
            return found
    found = _read_postings(reader, fieldname, text)
    global _cached_bytes
    with _postings_lock:
        if key not in _postings_cache:
            _postings_cache[key] = found
            _cached_bytes += _entry_bytes(key, found)
        while _cached_bytes > POSTINGS_CACHE_BYTES and _postings_cache:
            _cached_bytes -= _entry_bytes(*_postings_cache.popitem(last=False))
    return found


def _entry_bytes(key: tuple[str, str, bytes], postings: tuple[Array, Array]) -> int:
    return postings[0].nbytes + postings[1].nbytes + len(key[2]) + _POSTINGS_ENTRY_BYTES


def _read_postings(reader: Any, fieldname: str, text: bytes) -> tuple[Array, Array]:
    matcher = reader.postings(fieldname, text)
    if isinstance(matcher, FilterMatcher):  # deletions: applied by the caller
        matcher = matcher.child
    if isinstance(matcher, whoosh3.W3LeafMatcher):
        docnums, weights = _block_arrays(matcher)
    else:
        ids, found = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            found.append(matcher.weight())
            matcher.next()
        docnums, weights = np.array(ids, dtype=np.int64), np.array(found)
    return docnums.astype(np.int32), weights.astype(np.float32)


def _block_arrays(matcher: Any) -> tuple[Array, Array]:
    """Whole blocks of a W3 postings list at once (its own block reading, without the
    per-posting calls)."""
    ids: list[Any] = []
    weights: list[Any] = []
    while matcher.is_active():
        matcher._read_ids()
        matcher._read_weights()
        ids.append(np.asarray(matcher._ids, dtype=np.int64))
        weights.append(np.asarray(matcher._weights, dtype=float))
        matcher._next_block()
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(ids), np.concatenate(weights)


def _field_lengths(reader: Any, fieldname: str) -> Array:
    """A segment's field lengths as Whoosh's scorer reads them (segments never change once
    written, so they are cached by segment and shared by every searcher)."""
    key = (reader.segment().segment_id(), fieldname)
    with _length_lock:
        found = _length_cache.get(key)
        if found is not None:
            _length_cache.move_to_end(key)
            return found
    lengths = _LENGTHS[_length_bytes(reader, fieldname)]
    with _length_lock:
        _length_cache[key] = lengths
        if len(_length_cache) > _LENGTH_CACHE_SIZE:
            _length_cache.popitem(last=False)
    return lengths


def _length_bytes(reader: Any, fieldname: str) -> Array:
    """The length byte of every document of a segment (0 where none is stored)."""
    size = reader.doc_count_all()
    perdoc = reader._perdoc
    name = whoosh3._lenfield(fieldname)
    if not perdoc.has_column(name):
        return np.zeros(size, dtype=np.uint8)
    column = perdoc.column_reader(name, whoosh3.LENGTHS_COLUMN)
    if getattr(column, "_typecode", None) == "B":  # one byte a document: read them at once
        raw = column._dbfile.get(column._basepos, column._count)
        found = np.frombuffer(raw, dtype=np.uint8)
    else:
        found = np.array(column.load(), dtype=np.uint8)
    padded = np.zeros(size, dtype=np.uint8)
    padded[: min(size, len(found))] = found[:size]
    return padded
