"""SearchEngine: the embeddable search API over a Kiosque index."""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from . import proximity, ranking, store
from .analysis import STEMMED_LANGUAGES, limit_caches
from .cache import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ENTRIES,
    BoundedDict,
    CacheStats,
    ResultCache,
    generation_of,
    once,
    per_generation,
    per_segment,
)
from .querybuild import BuiltQuery, MatchPlan, build_query, wants_feedback, with_feedback
from .querylang import ParsedQuery, parse_query
from .records import Article, RecordError, parse_date
from .related import key_terms_query
from .results import Hit, ResultPage, StoryMember
from .schema import source_key
from .scoring import ranked_arrays, score_all
from .snippets import find_matches, highlight, snippet
from .spelling import completions, did_you_mean

MAX_PER_PAGE = 100
MAX_PAGE = 1000
SORTS = ("relevance", "newest", "oldest")
RERANK_WINDOW = 200
RECENCY_WEIGHT = 0.1
RECENCY_HALF_LIFE_DAYS = 365.0
FACET_FIELDS = ("lang", "source", "year")
SERVING_CACHE_WORDS = 25_000  # words each analysis cache keeps in a server: ~22 MB in all
IDF_CACHE_ENTRIES = 20_000  # idf of (field, term), shared by the threads: ~4 MB at most


class SearchError(ValueError):
    """A search request with an invalid parameter (the message names it)."""


class SearchEngine:
    """Searches one index directory; safe to share between threads.

    Each thread reuses its own searcher, replaced when a commit or a rebuild
    lands, so a new index is visible to the next query without a restart.
    Raises :class:`search.IndexNotFound` when the directory holds no usable index.

    Searches, "more like this" and suggestions are kept in a result cache of
    ``cache_size`` entries and at most ``cache_bytes`` (search/cache.py: keyed
    by the request and the index generation, so a commit is never answered
    with older results; ``cache_size=0`` disables it).
    """

    def __init__(self, index_dir: str | Path = "index_data", *,
                 cache_size: int = DEFAULT_MAX_ENTRIES,
                 cache_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._index = store.open_index(self.index_dir)
        self._stamp = store.generation_stamp(self.index_dir)
        self.cache = ResultCache(cache_size, cache_bytes)

    # -- searchers ---------------------------------------------------------

    def _current_index(self) -> Any:
        stamp = store.generation_stamp(self.index_dir)
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self._index = store.open_index(self.index_dir)
                    self._stamp = stamp
        return self._index

    def searcher(self) -> Searcher:
        """This thread's searcher, renewed when the index changed (never ``refresh()``:
        whoosh-reloaded's refresh can keep deleted documents)."""
        limit_caches(SERVING_CACHE_WORDS)  # every request passes here (costs nothing once set)
        index = self._current_index()
        current: Searcher | None = getattr(self._local, "searcher", None)
        if current is not None and self._local.index is index and current.up_to_date():
            return current
        if current is not None:
            current.close()
        self._local.searcher = _share_idf_cache(index.searcher(weighting=ranking.weighting()))
        self._local.index = index
        return self._local.searcher

    def close(self) -> None:
        """Close this thread's searcher."""
        current = getattr(self._local, "searcher", None)
        if current is not None:
            current.close()
            self._local.searcher = None

    # -- search ------------------------------------------------------------

    def search(
        self,
        query: str,
        page: int = 1,
        per_page: int = 10,
        lang: str | Sequence[str] | None = None,
        source: str | Sequence[str] | None = None,
        date_from: dt.date | str | None = None,
        date_to: dt.date | str | None = None,
        sort: str = "relevance",
        *,
        recency: bool = True,
        expand_stories: bool = False,
    ) -> ResultPage:
        """One page of ranked results with highlights, facets and a "did you mean".

        Raises SearchError for an invalid page, per_page, sort or date; the
        query text itself never raises. A repeated request is answered from
        the result cache (the same, immutable page, its ``to_json()`` made
        once) until the index changes.
        """
        page, per_page, sort = _check_paging(page, per_page, sort)
        langs = tuple(value.lower() for value in _as_list(lang))  # as _Filters reads them
        sources = _as_list(source)
        start, end = _as_date(date_from, "from"), _as_date(date_to, "to")
        recency, expand_stories = bool(recency), bool(expand_stories)
        key = ("search", query or "", page, per_page, langs, sources, start, end, sort,
               recency, expand_stories)

        def compute() -> ResultPage:
            found = self._search(query, page, per_page, langs or None, sources or None, start,
                                 end, sort, recency=recency, expand_stories=expand_stories)
            if self.cache.enabled:
                found.to_json()  # made before the page is kept, so its size counts the bytes
            return found

        return self.cache.get_or_compute(generation_of(self.searcher()), key, compute)

    def _search(self, query: str, page: int, per_page: int, lang: Sequence[str] | None,
                source: Sequence[str] | None, date_from: dt.date | None,
                date_to: dt.date | None, sort: str, *, recency: bool,
                expand_stories: bool) -> ResultPage:
        """``search`` without the cache, on a request ``search`` has already checked."""
        parsed = parse_query(query or "")
        filters = _Filters.from_request(parsed, lang, source, date_from, date_to)
        searcher = self.searcher()
        langs = filters.stemming_languages()
        built = build_query(parsed, searcher.reader(), langs)
        run = _Run(searcher, built, filters, expand_stories)
        if wants_feedback(built):  # expanded from the best documents the filters allow
            built = with_feedback(built, searcher, run.allowed_ranking())
            run = _Run(searcher, built, filters, expand_stories)
        ranked = run.rank(sort, page * per_page, recency and sort == "relevance")
        start = (page - 1) * per_page
        hits = tuple(
            self._hit(searcher, docnum, score, built.plan, expand_stories)
            for docnum, score in ranked[start : start + per_page]
        )
        suggestion = did_you_mean(searcher, query, built.words) if built.words else None
        return ResultPage(
            query=query or "",
            total=run.total(),
            page=page,
            per_page=per_page,
            hits=hits,
            facets=run.facets(),
            suggestion=suggestion,
        )

    def _hit(
        self, searcher: Searcher, docnum: int, score: float, plan: MatchPlan, expand_stories: bool
    ) -> Hit:
        fields = searcher.stored_fields(docnum)
        title, body, lang = fields.get("title", ""), fields.get("body", ""), fields.get("lang", "")
        title_spans = find_matches(title, lang, plan)
        story = () if expand_stories else self._story_members(searcher, docnum, fields)
        return Hit(
            id=fields["id"],
            title=title,
            title_html=highlight(title, title_spans),
            snippet_html=snippet(body, lang, plan),
            source=fields.get("source", ""),
            date=_stored_date(fields),
            lang=lang,
            url=fields.get("url", ""),
            score=float(score),
            story=story,
        )

    def _story_members(
        self, searcher: Searcher, docnum: int, fields: dict[str, Any]
    ) -> tuple[StoryMember, ...]:
        story = fields.get("story") or fields["id"]
        if story == fields["id"] and story_sizes(searcher)[docnum] <= 1:
            return ()
        members = []
        for docnum in searcher.docs_for_query(wq.Term("story", story)):
            other = searcher.stored_fields(docnum)
            if other["id"] != fields["id"]:
                members.append(_member(other))
        return tuple(sorted(members, key=lambda m: (m.date or dt.date.min, m.id)))

    # -- single articles ---------------------------------------------------

    def get(self, doc_id: str) -> Article | None:
        """The article with this id, or None."""
        searcher = self.searcher()
        docnum = searcher.document_number(id=doc_id)
        if docnum is None:
            return None
        return _article(searcher.stored_fields(docnum))

    def story(self, doc_id: str) -> list[StoryMember]:
        """The other articles of the same story as ``doc_id`` (empty when alone or unknown)."""
        searcher = self.searcher()
        docnum = searcher.document_number(id=doc_id)
        if docnum is None:
            return []
        return list(self._story_members(searcher, docnum, searcher.stored_fields(docnum)))

    def more_like(self, doc_id: str, limit: int = 5) -> list[Hit]:
        """Articles about the same thing as ``doc_id``, other stories first; [] if unknown."""
        limit = max(1, min(limit, 50))
        return list(self.cache.get_or_compute(
            generation_of(self.searcher()), ("more_like", doc_id, limit),
            lambda: tuple(self._more_like(doc_id, limit))))

    def _more_like(self, doc_id: str, limit: int) -> list[Hit]:
        searcher = self.searcher()
        docnum = searcher.document_number(id=doc_id)
        if docnum is None:
            return []
        fields = searcher.stored_fields(docnum)
        related = key_terms_query(searcher, fields)
        if related is None:
            return []
        query, plan = related
        story = fields.get("story") or fields["id"]
        excluded = set(searcher.docs_for_query(
            wq.Or([wq.Term("id", fields["id"]), wq.Term("story", story)])))
        scored = score_all(searcher, query, keep_postings=False)  # its rare terms not kept
        ranked = [(docnum, score) for score, docnum in scored
                  if docnum not in excluded][: max(1, min(limit, 50))]
        return [self._hit(searcher, docnum, score, plan, False) for docnum, score in ranked]

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        """Completions of what the user is typing, from the index vocabulary."""
        searcher, limit = self.searcher(), max(1, min(limit, 50))
        return list(self.cache.get_or_compute(
            generation_of(searcher), ("suggest", prefix, limit),
            lambda: tuple(completions(searcher, prefix, limit))))

    def cache_stats(self) -> CacheStats:
        """Entries, bytes, hits and misses of this engine's result cache (this process)."""
        return self.cache.stats()

    # -- statistics --------------------------------------------------------

    def document_count(self) -> int:
        """How many articles the index holds."""
        return self.searcher().doc_count()

    def stats(self) -> dict[str, Any]:
        """Counts of the index: documents, languages, sources, years, where it lives."""
        searcher = self.searcher()
        every = set(searcher.docs_for_query(wq.Every()))
        facets = {
            name: _count_column(searcher, name, every) if every else {} for name in FACET_FIELDS
        }
        return {
            "index_dir": str(self.index_dir),
            "generation": getattr(store.current_generation(self.index_dir), "name", None),
            "documents": searcher.doc_count(),
            "segments": len(searcher.reader().leaf_readers()),
            "facets": facets,
        }


def _share_idf_cache(searcher: Searcher) -> Searcher:
    """Give a new searcher, and the per-segment searchers it made, the idf cache of its
    index generation.

    Whoosh keeps a searcher's idf values in a dict of its own that is never emptied, and a
    server holds a searcher per thread: eight copies growing with every distinct term
    asked. An idf is the whole index's (Whoosh computes it from the top searcher whichever
    searcher asks), so searchers of one generation can share one, bounded.
    """
    shared = per_generation(searcher, "idf")
    cache = shared.setdefault("idf", BoundedDict(IDF_CACHE_ENTRIES))
    searcher._idf_cache = cache
    for leaf, _ in searcher.subsearchers or ():
        leaf._idf_cache = cache
    return searcher


def _check_paging(page: Any, per_page: Any, sort: str) -> tuple[int, int, str]:
    try:
        page, per_page = int(page), int(per_page)
    except (TypeError, ValueError):
        raise SearchError("page and per_page must be whole numbers") from None
    if page < 1 or page > MAX_PAGE:
        raise SearchError(f"page must be between 1 and {MAX_PAGE}")
    if per_page < 1:
        raise SearchError("per_page must be at least 1")
    if sort not in SORTS:
        raise SearchError(f"sort must be one of {', '.join(SORTS)}")
    return page, min(per_page, MAX_PER_PAGE), sort


def _as_list(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(str(part).strip() for part in value if str(part).strip())


def _as_date(value: dt.date | str | None, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return parse_date(value)
    except RecordError:
        raise SearchError(f"{name} must be a date, YYYY-MM-DD") from None


class _Filters:
    """Language, source and date restrictions, from parameters and from the query text."""

    def __init__(
        self,
        langs: tuple[str, ...],
        sources: tuple[str, ...],
        excluded_langs: tuple[str, ...],
        excluded_sources: tuple[str, ...],
        date_from: dt.date | None,
        date_to: dt.date | None,
    ) -> None:
        self.langs = tuple(lang.lower() for lang in langs)
        self.sources = sources
        self.excluded_langs = excluded_langs
        self.excluded_sources = excluded_sources
        self.date_from = date_from
        self.date_to = date_to

    @classmethod
    def from_request(
        cls, parsed: ParsedQuery, lang: Any, source: Any, date_from: Any, date_to: Any
    ) -> _Filters:
        start = _as_date(date_from, "from") if date_from else parsed.date_from
        end = _as_date(date_to, "to") if date_to else parsed.date_to
        if start and parsed.date_from:
            start = max(start, parsed.date_from)
        if end and parsed.date_to:
            end = min(end, parsed.date_to)
        return cls(
            _as_list(lang) + parsed.langs,
            _as_list(source) + parsed.sources,
            parsed.excluded_langs,
            parsed.excluded_sources,
            start,
            end,
        )

    def stemming_languages(self) -> tuple[str, ...]:
        chosen = tuple(lang for lang in self.langs if lang in STEMMED_LANGUAGES)
        return chosen or STEMMED_LANGUAGES

    def queries(self) -> dict[str, wq.Query]:
        """One Whoosh query a restricted facet (lang, source, year), for faceting."""
        found: dict[str, wq.Query] = {}
        if self.langs:
            found["lang"] = wq.Or([wq.Term("lang", lang) for lang in self.langs])
        if self.sources:
            found["source"] = wq.Or([wq.Term("source_key", source_key(s)) for s in self.sources])
        if self.date_from or self.date_to:
            low = int(self.date_from.strftime("%Y%m%d")) if self.date_from else None
            high = int(self.date_to.strftime("%Y%m%d")) if self.date_to else None
            found["year"] = wq.NumericRange("day", low, high)
        return found

    def exclusions(self) -> list[wq.Query]:
        terms = [wq.Term("lang", lang.lower()) for lang in self.excluded_langs]
        terms += [wq.Term("source_key", source_key(s)) for s in self.excluded_sources]
        return terms


class _Run:
    """One search: the matching documents, computed once, then ranked and counted.

    Sets of documents are boolean arrays by document number, and the ranking a
    pair of arrays (document numbers best first, scores), so that filtering,
    counting facets and collapsing stories are numpy's work however many
    documents match.
    """

    def __init__(
        self, searcher: Searcher, built: BuiltQuery, filters: _Filters, expand_stories: bool
    ) -> None:
        self.searcher = searcher
        self.query = built.query
        self.words = built.words
        self.langs = filters.stemming_languages()
        self.expand_stories = expand_stories
        self.size = searcher.doc_count_all()
        self.ranked = np.zeros(0, dtype=np.int64)
        self.scores = np.zeros(0)
        if self.size == 0 or (
            self.query is None and not filters.queries() and not filters.exclusions()
        ):
            self.matched = np.zeros(self.size, dtype=bool)
        elif self.query is None:
            self.matched = self._mask(wq.Every())
        else:
            # One scoring pass over every match gives ranking, total and facets at once,
            # a postings list at a time (search/scoring.py: Whoosh's scores, faster).
            self.ranked, self.scores = ranked_arrays(searcher, self.query)
            self.matched = np.zeros(self.size, dtype=bool)
            self.matched[self.ranked] = True
        for excluded in filters.exclusions():
            self.matched &= ~self._mask(excluded)
        self.any_matched = bool(self.matched.any())
        self.filter_masks = {name: self._mask(q) for name, q in filters.queries().items()}
        self.allowed = self._restricted(exclude=None)
        start, end = filters.date_from, filters.date_to
        self.one_year = bool(start and end and start.year == end.year)

    def _mask(self, query: wq.Query) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        mask[np.fromiter(self.searcher.docs_for_query(query), dtype=np.int64)] = True
        return mask

    def _restricted(self, exclude: str | None) -> np.ndarray:
        docs = self.matched
        for name, allowed in self.filter_masks.items():
            if name != exclude:
                docs = docs & allowed
        return docs

    def total(self) -> int:
        if self.expand_stories:
            return int(np.count_nonzero(self.allowed))
        if not self.any_matched:
            return 0
        stories, _ = coded_column(self.searcher, "story")
        shared = self.allowed & (story_sizes(self.searcher) > 1)
        return int(np.count_nonzero(self.allowed & ~shared)) + len(np.unique(stories[shared]))

    def facets(self) -> dict[str, dict[str, int]]:
        if not self.any_matched:
            return {name: {} for name in FACET_FIELDS}
        stories = None if self.expand_stories else "story"
        facets = {
            name: _count_column(self.searcher, name, self._restricted(exclude=name), stories)
            for name in FACET_FIELDS
        }
        if self.one_year:
            facets["month"] = _count_column(self.searcher, "month", self.allowed, stories)
        return facets

    def allowed_ranking(self) -> tuple[np.ndarray, np.ndarray]:
        """The query's ranking (docnums best first, scores) kept to what the filters allow."""
        keep = self.allowed[self.ranked]
        return self.ranked[keep], self.scores[keep]

    def rank(self, sort: str, needed: int, recency: bool) -> list[tuple[int, float]]:
        """The first ``needed`` documents (one a story unless expanded), as (docnum, score)."""
        if not self.allowed.any():
            return []
        if sort != "relevance" or self.query is None:
            ordered = np.array(self._by_date(newest=sort != "oldest"), dtype=np.int64)
            return self._collapse(ordered, np.zeros(len(ordered)), needed)
        words = proximity.word_terms(self.words, self.langs)
        ranked, scores = proximity.rerank(self.searcher, words, *self.allowed_ranking())
        scored = self._collapse(ranked, scores, max(needed, RERANK_WINDOW))
        if recency:
            scored = _with_recency(self.searcher, scored)
        return scored[:needed]

    def _by_date(self, newest: bool) -> list[int]:
        days = column(self.searcher, "day")
        allowed = np.flatnonzero(self.allowed).tolist()
        dated = sorted(
            (doc for doc in allowed if _is_day(days[doc])),
            key=lambda doc: (days[doc], -doc),
            reverse=newest,
        )
        undated = [doc for doc in allowed if not _is_day(days[doc])]
        return dated + undated  # undated articles last in both orders

    def _collapse(self, docnums: np.ndarray, scores: np.ndarray,
                  limit: int) -> list[tuple[int, float]]:
        """The first ``limit`` (docnum, score) in this order, one a story unless stories are
        expanded (the first of each story: where its code first occurs)."""
        if not self.expand_stories:
            chosen = _first_of_each(coded_column(self.searcher, "story")[0][docnums], limit)
            docnums, scores = docnums[chosen], scores[chosen]
        return list(zip(docnums[:limit].tolist(), scores[:limit].tolist(), strict=True))


def _first_of_each(codes: np.ndarray, limit: int) -> np.ndarray:
    """Indexes of the first ``limit`` distinct codes' first occurrences, in order. A prefix is
    enough once it holds ``limit`` distinct codes: grown until it does (a query can match
    tens of thousands of documents, of which a page needs a few hundred)."""
    size = min(len(codes), 2 * limit)
    while True:
        _, first = np.unique(codes[:size], return_index=True)
        if len(first) >= limit or size >= len(codes):
            return np.sort(first)[:limit]
        size = min(len(codes), size * 4)


def column(searcher: Searcher, name: str) -> Any:
    """A column of values by document number, put together once per index generation from
    its segments' columns and shared by the searchers of all threads."""
    # a plain list: Whoosh's multi-segment column readers cost microseconds a lookup
    return once(per_generation(searcher, "columns"), name, lambda: list(chain.from_iterable(
        _segment_values(searcher, leaf, name) for leaf in _segments(searcher))))


def _segments(searcher: Searcher) -> list[IndexReader]:
    """The searcher's segment readers, in document-number order."""
    return [leaf for leaf, _ in searcher.reader().leaf_readers()]


def _segment_part(searcher: Searcher, leaf: IndexReader, key: tuple[str, str],
                  compute: Callable[[], Any]) -> Any:
    """What ``compute`` works out from one segment, kept while the segment exists.

    Reading a column costs about 1 µs a document (~25 ms a column at 26,000
    articles) and coding it as much again: kept by segment, the first query
    after a commit that adds a small segment (``kiosque index add``) pays for
    the new articles only, not for every article again (measured on the news
    index: ~270 ms of CPU before, ~25 ms after).
    """
    return once(per_segment(searcher, leaf), key, compute)


def _segment_values(searcher: Searcher, leaf: IndexReader, name: str) -> list[Any]:
    return _segment_part(  # type: ignore[no-any-return]
        searcher, leaf, ("values", name), lambda: list(leaf.column_reader(name)))


def _with_recency(searcher: Searcher, scored: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Multiply scores by a mild freshness factor, relative to the newest matching article."""
    days = _day_ordinals(searcher, [doc for doc, _ in scored])
    newest = max((day for day in days if day is not None), default=None)
    if newest is None:
        return scored
    rescored = [
        (doc, score if day is None else
         score * (1 + RECENCY_WEIGHT * math.pow(0.5, (newest - day) / RECENCY_HALF_LIFE_DAYS)))
        for (doc, score), day in zip(scored, days, strict=True)
    ]
    return sorted(rescored, key=lambda item: -item[1])


def _day_ordinals(searcher: Searcher, docnums: list[int]) -> list[int | None]:
    """The documents' dates as day numbers (``date.toordinal``), None when undated, so that
    the ranking window's ages (200 a query) are subtractions."""
    ordinals = day_ordinals(searcher)
    return [int(day) or None for day in ordinals[docnums].tolist()]


def day_ordinals(searcher: Searcher) -> np.ndarray:
    """Every document's date as a day number, 0 when undated, by document number: worked
    out once per index generation and shared by the searchers of all threads (it was a
    dict a searcher, filled a document at a time: up to ~3 MB a thread)."""
    return once(per_generation(searcher, "day_ordinals"), "all", lambda: _joined([
        _segment_part(searcher, leaf, ("ordinals", "day"),
                      partial(_ordinals, _segment_values(searcher, leaf, "day")))
        for leaf in _segments(searcher)]))


def _ordinals(days: list[int | None]) -> np.ndarray:
    ordinal_of = {day: (date.toordinal() if (date := _day_to_date(day)) else 0)
                  for day in set(days)}  # a few thousand distinct days
    return np.fromiter((ordinal_of[day] for day in days), np.int64, len(days))


def _joined(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)


def _day_to_date(day: int | None) -> dt.date | None:
    if not _is_day(day):
        return None
    return dt.date(day // 10000, day // 100 % 100, day % 100)


def _is_day(day: int | None) -> bool:
    """True for a yyyymmdd number; undated articles read as 0 or the column's default."""
    return day is not None and 10000101 <= day <= 99991231


def _count_column(
    searcher: Searcher, name: str, docs: Iterable[int] | np.ndarray, distinct: str | None = None
) -> dict[str, int]:
    """How many documents (or distinct ``distinct`` values, e.g. stories) have each value;
    ``docs`` are document numbers, or a boolean array by document number."""
    if isinstance(docs, np.ndarray) and docs.dtype == bool:
        docnums = np.flatnonzero(docs)
    else:
        docnums = np.fromiter(docs, dtype=np.int64)
    codes, labels = coded_column(searcher, name)
    if distinct is None:
        counts = np.bincount(codes[docnums], minlength=len(labels))
    else:
        counts = _distinct_counts(searcher, codes, len(labels), docnums, distinct)
    found = {labels[code]: int(count) for code, count in enumerate(counts)
             if count and labels[code] not in ("", None)}
    return dict(sorted(found.items(), key=lambda item: (-item[1], str(item[0]))))


def _distinct_counts(
    searcher: Searcher, codes: np.ndarray, size: int, docnums: np.ndarray, distinct: str
) -> np.ndarray:
    """For each code, how many distinct values of the column ``distinct`` its documents have.
    A document whose group (story) has no other document is a distinct pair by itself;
    only the others need sorting out (most stories have one article)."""
    alone = group_sizes(searcher, distinct)[docnums] == 1
    counts = np.bincount(codes[docnums[alone]], minlength=size)
    shared = docnums[~alone]
    if len(shared):
        groups, group_labels = coded_column(searcher, distinct)
        pairs = np.unique(codes[shared].astype(np.int64) * len(group_labels) + groups[shared])
        counts += np.bincount(pairs // len(group_labels), minlength=size)
    return counts


def coded_column(searcher: Searcher, name: str) -> tuple[np.ndarray, list[Any]]:
    """A column as integer codes by document number, and the value of each code
    (worked out once per index generation), so that counting is numpy's work.
    Codes follow the values' first appearance in document order."""
    return once(per_generation(searcher, "coded"), name,
                partial(_coded_segments, searcher, name))


def _coded_segments(searcher: Searcher, name: str) -> tuple[np.ndarray, list[Any]]:
    """:func:`coded_column` from each segment's codes (kept by segment), recoded as one."""
    index: dict[Any, int] = {}
    codes: list[np.ndarray] = []
    for leaf in _segments(searcher):
        segment_codes, values = _segment_part(
            searcher, leaf, ("coded", name),
            partial(_coded, _segment_values(searcher, leaf, name)))
        recoded = np.fromiter((index.setdefault(value, len(index)) for value in values),
                              np.int64, len(values))
        codes.append(recoded[segment_codes])
    return _joined(codes), list(index)


def _coded(values: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """Values as codes (in order of first appearance) and the value of each code."""
    index: dict[Any, int] = {}
    codes = np.fromiter((index.setdefault(value, len(index)) for value in values), np.int64,
                        len(values))
    return codes, list(index)


def story_sizes(searcher: Searcher) -> np.ndarray:
    """How many documents (deleted ones included, as Whoosh's ``doc_frequency`` counts them)
    share each document's story, by document number: the story column holds the indexed
    story term, so this is the term's document frequency without a hash-file read a hit."""
    return group_sizes(searcher, "story")


def group_sizes(searcher: Searcher, name: str) -> np.ndarray:
    """How many documents share each document's value of a column, by document number
    (worked out once per index generation, shared by the searchers of all threads)."""
    def sizes() -> np.ndarray:
        codes, _ = coded_column(searcher, name)
        return np.bincount(codes)[codes]

    return once(per_generation(searcher, "group_sizes"), name, sizes)


def _stored_date(fields: dict[str, Any]) -> dt.date | None:
    value = fields.get("date")
    return dt.date.fromisoformat(value) if value else None


def _member(fields: dict[str, Any]) -> StoryMember:
    return StoryMember(
        id=fields["id"],
        title=fields.get("title", ""),
        source=fields.get("source", ""),
        date=_stored_date(fields),
        url=fields.get("url", ""),
    )


def _article(fields: dict[str, Any]) -> Article:
    return Article(
        id=fields["id"],
        title=fields.get("title", ""),
        body=fields.get("body", ""),
        date=_stored_date(fields),
        source=fields.get("source", ""),
        url=fields.get("url", ""),
        lang=fields.get("lang", ""),
        story=fields.get("story", ""),
    )
