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
from typing import Any, NamedTuple

import numpy as np
from whoosh import query as wq
from whoosh.codec import whoosh3
from whoosh.matching import FilterMatcher
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from .ranking import AcrossFields, BestOf, FieldsModel, UnionOr

# Field lengths by length byte; 0 (no length stored) reads as 1, as Whoosh's scorer asks.
_LENGTHS = np.array([byte_to_length(byte) if byte else 1 for byte in range(256)], dtype=float)
_LENGTH_CACHE_SIZE = 64
_length_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_length_lock = threading.Lock()
# A term's postings in every segment of an index, one entry a term (see _term_postings):
# the whole-index bound of the postings (16 MB) and of the per-segment document counts
# (~11 MB) it replaces. bench/queries.txt's 540 queries hold ~6 MB of it at 26,000 articles
# and ~16 MB at 97,000 (13 segments).
POSTINGS_CACHE_BYTES = 27 * 2**20
_POSTINGS_ENTRY_BYTES = 700  # the key, the entry, its three array objects, the OrderedDict node
_postings_cache: OrderedDict[tuple[str, bytes], _TermPostings] = OrderedDict()
_postings_lock = threading.Lock()
_cached_bytes = 0
_segment_sets: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per list of segments

Array = np.ndarray
Scored = tuple[Array, Array]  # scores (float) and matched (bool), by document number


def score_all(searcher: Searcher, query: wq.Query,
              keep_postings: bool = True) -> list[tuple[float, int]]:
    """Every document the query matches as (score, docnum), best first, ties by docnum.

    ``keep_postings=False``: the terms read here that the postings cache does not hold
    are read and not kept (see :func:`_term_postings`)."""
    docnums, scores = ranked_arrays(searcher, query, keep_postings)
    return list(zip(scores.tolist(), docnums.tolist(), strict=True))


def ranked_arrays(searcher: Searcher, query: wq.Query,
                  keep_postings: bool = True) -> tuple[Array, Array]:
    """:func:`score_all` as arrays: document numbers best first (ties by docnum), their scores."""
    scores, matched = _Evaluation(searcher, keep_postings).evaluate(query)
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

    def __init__(self, searcher: Searcher, keep_postings: bool = True) -> None:
        self.searcher = searcher
        self.keep_postings = keep_postings
        self.size = searcher.doc_count_all()
        self.leaves = [(leaf.reader(), offset) for leaf, offset in searcher.leaf_searchers()]
        self.segments = _segment_set(tuple(reader.segment().segment_id()
                                           for reader, _ in self.leaves))

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
        entry = _term_postings(self.leaves, self.segments, fieldname, text, self.keep_postings)
        bounds = entry.starts.tolist()
        found = []
        for index, (reader, offset) in enumerate(self.leaves):
            start, end = bounds[index], bounds[index + 1]
            if start == end:
                continue
            docnums, weights = _live(reader, entry.docnums[start:end], entry.weights[start:end])
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


def _bm25(idf: float, avgfl: float, b: float, k1: float, tf: Array, lengths: Array) -> Array:
    """whoosh.scoring.bm25, term for term (same operations, same order: same floats)."""
    tf = tf.astype(np.float64)  # Whoosh reads the stored float32 weights as Python floats
    return idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * lengths / avgfl)))


def term_segments(searcher: Searcher, fieldname: str,
                  text: bytes) -> list[tuple[Any, int, Array]]:
    """A term's documents in each segment that has it: (segment reader, its offset, document
    numbers within the segment, increasing, deleted ones included), from the postings cache."""
    evaluation = _Evaluation(searcher)
    entry = _term_postings(evaluation.leaves, evaluation.segments, fieldname, text)
    bounds = entry.starts.tolist()
    return [(reader, offset, entry.docnums[bounds[index]:bounds[index + 1]])
            for index, (reader, offset) in enumerate(evaluation.leaves)
            if bounds[index] < bounds[index + 1]]


class _TermPostings(NamedTuple):
    """A term's postings in the segments of one index, deletions included: document numbers
    within their segment and weights, one segment after the other (``segments[i]``'s from
    ``starts[i]`` to ``starts[i + 1]``; none where a segment lacks the term)."""

    segments: tuple[str, ...]
    starts: Array
    docnums: Array
    weights: Array


def _segment_set(segments: tuple[str, ...]) -> tuple[str, ...]:
    """One tuple object for one list of segment ids, shared by the entries read with it."""
    if len(_segment_sets) > 64:
        _segment_sets.clear()
    return _segment_sets.setdefault(segments, segments)


def _live(reader: Any, docnums: Array, weights: Array) -> tuple[Array, Array]:
    """A segment's postings without its deleted documents."""
    deleted = reader.deleted_docs_set if reader.has_deletions() else None
    if deleted:
        keep = ~np.isin(docnums, np.fromiter(deleted, dtype=np.int64))
        docnums, weights = docnums[keep], weights[keep]
    return docnums, weights


def _term_postings(leaves: list[tuple[Any, int]], segments: tuple[str, ...], fieldname: str,
                   text: bytes, keep: bool = True) -> _TermPostings:
    """A term's postings in every segment (``leaves``: readers and their offsets), kept
    across queries, the most used ones first, up to POSTINGS_CACHE_BYTES in all.

    One entry a term, not one a term and a segment: an index of 13 segments made 13
    entries (and 13 document counts, to skip the segments without it) of a term, whose
    own costs outweighed the postings (bench/queries.txt at 97,000 articles needed
    ~43 MB: it read again what a 16 MB cache had just dropped). A segment's postings
    never change: when the index gains a segment, an entry keeps what it read of the
    others and reads only the new one.

    ``keep=False``, for the terms of "more like this" (an article's rarest stems, new at
    nearly every article): a term the searches hold is used, one they do not is read and
    not kept. They used to be kept apart, within 4 MB, for an article asked again after
    the result cache dropped it; that cache's constant turnover of small arrays in
    glibc's heap fragmented it, and a serving process kept growing for minutes. Without
    it: 7 MB less and a flatter curve at the same request rate; 4,000 "more like this"
    of distinct articles cost about as much CPU (bench/RESULTS.md ## Memory).
    """
    global _cached_bytes
    key = (fieldname, text)
    with _postings_lock:
        found = _postings_cache.get(key)
        if found is not None and found.segments == segments:
            _postings_cache.move_to_end(key)
            return found
    made = _read_term(leaves, segments, fieldname, text, found)
    if keep:
        with _postings_lock:
            _cached_bytes = _keep(_postings_cache, _cached_bytes, POSTINGS_CACHE_BYTES,
                                  key, made)
    return made


def _keep(cache: OrderedDict[tuple[str, bytes], _TermPostings], held: int, bound: int,
          key: tuple[str, bytes], made: _TermPostings) -> int:
    """Under the lock: put ``made`` in ``cache`` (which holds ``held`` bytes), drop the least
    recently used entries past ``bound``; the bytes it now holds."""
    replaced = cache.pop(key, None)
    if replaced is not None:
        held -= _entry_bytes(key, replaced)
    cache[key] = made
    held += _entry_bytes(key, made)
    while held > bound and cache:
        held -= _entry_bytes(*cache.popitem(last=False))
    return held


def _read_term(leaves: list[tuple[Any, int]], segments: tuple[str, ...], fieldname: str,
               text: bytes, known: _TermPostings | None) -> _TermPostings:
    """Read a term's postings from the segments ``known`` (an entry of other segments)
    did not read."""
    kept: dict[str, tuple[int, int]] = {}
    if known is not None:
        bounds = known.starts.tolist()
        kept = {segment: (bounds[i], bounds[i + 1]) for i, segment in enumerate(known.segments)}
    docnums: list[Array] = []
    weights: list[Array] = []
    for (reader, _), segment in zip(leaves, segments, strict=True):
        if known is not None and segment in kept:
            start, end = kept[segment]
            docnums.append(known.docnums[start:end])
            weights.append(known.weights[start:end])
        elif (fieldname, text) in reader:
            found, weight = _read_postings(reader, fieldname, text)
            docnums.append(found)
            weights.append(weight)
        else:
            docnums.append(_NO_DOCNUMS)
            weights.append(_NO_WEIGHTS)
    starts = np.zeros(len(segments) + 1, dtype=np.int32)
    np.cumsum([len(found) for found in docnums], out=starts[1:])
    return _TermPostings(segments, starts, np.concatenate(docnums), _compact(weights))


_NO_DOCNUMS = np.zeros(0, dtype=np.int32)
_NO_WEIGHTS = np.zeros(0, dtype=np.float32)


def _compact(weights: list[Array]) -> Array:
    """The weights joined, one byte each when they are all whole numbers below 256 (term
    counts, mostly): the same values once read as floats, in a quarter of the bytes."""
    joined = np.concatenate(weights).astype(np.float32)
    if not joined.size or joined.min() < 0 or joined.max() > 255:
        return joined
    small = joined.astype(np.uint8)
    return small if np.array_equal(small, joined) else joined


def _entry_bytes(key: tuple[str, bytes], entry: _TermPostings) -> int:
    """What an entry holds: its arrays and the objects around them (its segments' tuple is
    shared by the entries read with the same segments)."""
    return (entry.starts.nbytes + entry.docnums.nbytes + entry.weights.nbytes + len(key[1])
            + _POSTINGS_ENTRY_BYTES)


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
