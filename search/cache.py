"""A bounded, thread-safe LRU cache of search results, keyed by request and index generation.

Why: a search costs tens of milliseconds of CPU (scoring, snippets, facets,
"did you mean"), and news readers ask the same few questions over and over
(the front page, today's names). Answering a repeated request from memory
costs about as much as a trivial endpoint.

Why it is safe, by construction:

- A key is the whole normalized request *and* the generation of the index
  that answered it (:func:`generation_of`: the generation folder and Whoosh's
  table-of-contents number, which every commit raises). A commit or a
  rebuild gives new keys, so nothing computed before it can answer after it.
  When a new generation shows up, the entries of the others are dropped at
  once and those generations are never stored again (a thread still holding
  an old searcher gets a fresh answer, just not a cached one).
- Values are immutable (frozen dataclasses, tuples, read-only dicts), so
  handing the same object to several threads and callers is harmless.
- The bound is on entries *and* on an estimate of their bytes, least
  recently used first out; ``max_entries=0`` disables the cache.

Concurrent misses of one key are computed once: the first thread computes,
the others wait for its value (a popular query right after a commit, or the
same page asked by several clients at once, costs one search, not one per
thread). If that thread fails, each waiter computes for itself.

Each process has its own cache (the workers of ``kiosque serve`` are forked
processes), so a hit rate is per process.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_ENTRIES", "CacheStats", "ResultCache",
           "approximate_size", "generation_of", "per_generation", "per_segment"]

DEFAULT_MAX_ENTRIES = 1024
DEFAULT_MAX_BYTES = 32 * 2**20  # a page: ~14 KB of objects + ~6.5 KB of JSON (measured): ample
SHARED_GENERATIONS_KEPT = 2  # the live one, and the one threads may still be finishing with
RETIRED_GENERATIONS_KEPT = 64  # older ones than this are forgotten (they cannot come back)
WAIT_SECONDS = 60.0  # a waiter computes for itself past this (a stuck computation)

Value = TypeVar("Value")
Generation = Hashable


@dataclass(frozen=True)
class CacheStats:
    """What a cache holds and how well it served, since it was made."""

    entries: int
    max_entries: int
    bytes: int
    max_bytes: int
    hits: int
    misses: int
    coalesced: int  # misses that waited for the same key computed by another thread
    evictions: int
    invalidations: int

    @property
    def hit_rate(self) -> float:
        """Hits over lookups (0.0 before any); coalesced misses are not hits."""
        lookups = self.hits + self.misses + self.coalesced
        return self.hits / lookups if lookups else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "enabled": self.max_entries > 0,
                "hit_rate": round(self.hit_rate, 4)}


class ResultCache:
    """Least recently used values by (generation, key), within ``max_entries`` and ``max_bytes``.

    A value larger than a quarter of ``max_bytes`` is returned but not kept
    (one giant page must not empty the cache). Thread-safe: one lock guards
    the table; values are computed outside it.
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_entries < 0 or max_bytes < 0:
            raise ValueError("cache bounds must be 0 or more")
        self.max_entries = max_entries
        self.max_bytes = max_bytes if max_entries else 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Generation, Hashable], tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._generation: Generation | None = None
        self._retired: OrderedDict[Generation, None] = OrderedDict()
        self._pending: dict[tuple[Generation, Hashable], _Pending] = {}
        self._hits = self._misses = self._coalesced = self._evictions = self._invalidations = 0

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0

    def get_or_compute(self, generation: Generation, key: Hashable,
                       compute: Callable[[], Value]) -> Value:
        """The cached value of ``key`` in ``generation``, else ``compute()`` (then kept).

        Exceptions of ``compute`` propagate and nothing is kept.
        """
        if not self.enabled:
            return compute()
        found, pending, leader = self._get(generation, key)
        if found is not _MISSING:
            return found  # type: ignore[no-any-return]
        if not leader:
            if pending.event.wait(WAIT_SECONDS) and pending.done:
                return pending.value  # type: ignore[no-any-return]
            return compute()  # the computing thread failed (or is stuck): on our own
        try:
            value = compute()
            pending.value, pending.done = value, True
            self._put(generation, key, value, approximate_size(value))
            return value
        finally:
            with self._lock:
                self._pending.pop((generation, key), None)
            pending.event.set()

    def _get(self, generation: Generation, key: Hashable) -> tuple[Any, _Pending, bool]:
        """The value or _MISSING, the computation to wait for, and whether it is ours."""
        with self._lock:
            self._see(generation)
            entry = self._entries.get((generation, key))
            if entry is not None:
                self._entries.move_to_end((generation, key))
                self._hits += 1
                return entry[0], _NOTHING_PENDING, False
            pending = self._pending.get((generation, key))
            if pending is not None:
                self._coalesced += 1
                return _MISSING, pending, False
            self._misses += 1
            pending = self._pending[(generation, key)] = _Pending()
            return _MISSING, pending, True

    def _put(self, generation: Generation, key: Hashable, value: Any, size: int) -> None:
        if size > self.max_bytes // 4:
            return
        with self._lock:
            self._see(generation)
            if generation != self._generation:
                return  # retired while computing: an answer of the past, not kept
            old = self._entries.pop((generation, key), None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[(generation, key)] = (value, size)
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped
                self._evictions += 1

    def _see(self, generation: Generation) -> None:
        """Under the lock: a generation never seen before retires the current one."""
        if generation == self._generation or generation in self._retired:
            return
        if self._generation is not None:
            self._retired[self._generation] = None
            while len(self._retired) > RETIRED_GENERATIONS_KEPT:
                self._retired.popitem(last=False)
            self._invalidations += 1
        self._generation = generation
        self._entries.clear()
        self._bytes = 0

    def clear(self) -> None:
        """Drop every entry (the counters stay)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(len(self._entries), self.max_entries, self._bytes, self.max_bytes,
                              self._hits, self._misses, self._coalesced, self._evictions,
                              self._invalidations)


class _Pending:
    """A value being computed by one thread, which others may wait for."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.done = False
        self.value: Any = None


_MISSING = object()
_NOTHING_PENDING = _Pending()


def generation_of(searcher: Any) -> Generation:
    """What identifies the index state a searcher reads: its generation folder (a rebuild
    makes a new one) and Whoosh's table-of-contents generation (every commit raises it)."""
    return (str(searcher._ix.storage.folder), searcher.reader().generation())


_shared_lock = threading.Lock()


def once(cache: dict[Any, Any], key: Hashable, compute: Callable[[], Value]) -> Value:
    """``cache[key]``, stored from ``compute()`` when missing.

    Threads that find it missing at the same moment each compute it, and all of them get
    the first value stored (``dict.setdefault`` is atomic), so that what a dict shares
    between threads is one object, never one a thread.
    """
    try:
        return cache[key]  # type: ignore[no-any-return]
    except KeyError:
        return cache.setdefault(key, compute())  # type: ignore[no-any-return]


def per_generation(searcher: Any, name: str) -> dict[Any, Any]:
    """A dict shared by every searcher reading the same index state as ``searcher``.

    What a searcher works out once (columns of values by document number:
    ~12 MB on a 26,000-article index) was kept on each searcher, and a server
    holds one searcher per thread: 8 threads, 8 copies. Stored instead on the
    index object that all of an engine's searchers share, under the
    generation they read (the last SHARED_GENERATIONS_KEPT generations only).
    The dicts hold values that are never changed once stored.
    """
    if getattr(searcher, "_ix", None) is None:  # a searcher made from a bare reader
        return searcher.__dict__.setdefault(f"_kiosque_{name}", {})  # type: ignore[no-any-return]
    generation = generation_of(searcher)
    holder = searcher._ix.__dict__
    with _shared_lock:
        stores: OrderedDict[Generation, dict[str, dict[Any, Any]]] = holder.setdefault(
            "_kiosque_shared", OrderedDict())
        if generation not in stores:
            stores[generation] = {}
            while len(stores) > SHARED_GENERATIONS_KEPT:
                stores.popitem(last=False)
        return stores[generation].setdefault(name, {})


def per_segment(searcher: Any, segment_reader: Any) -> dict[Any, Any]:
    """A dict shared by every searcher and generation whose index holds this segment.

    For what never changes while a segment exists (its column values: deleting
    a document marks it, and leaves the column as it was). A commit that adds a
    segment (``kiosque index add``) or merges some leaves the other segments
    here, so the first query after it reads only what is new. Only the segments
    of ``searcher``'s own index state are kept: a searcher of another state
    that asks again simply reads its segment again. A reader without a segment
    (an empty index, a bare reader) gets a dict of its own.
    """
    if getattr(searcher, "_ix", None) is None or not hasattr(segment_reader, "segment"):
        return {}
    folder = str(searcher._ix.storage.folder)
    live = {(folder, leaf.segment().segment_id())
            for leaf, _ in searcher.reader().leaf_readers() if hasattr(leaf, "segment")}
    with _shared_lock:
        stores: dict[tuple[str, str], dict[Any, Any]] = searcher._ix.__dict__.setdefault(
            "_kiosque_segments", {})
        for gone in stores.keys() - live:
            del stores[gone]
        return stores.setdefault((folder, segment_reader.segment().segment_id()), {})


def approximate_size(value: Any) -> int:
    """Bytes of ``value`` and everything it holds (``sys.getsizeof`` over the object graph:
    dataclasses, with what they keep beside their fields, tuples, lists, dicts, strings),
    each object counted once."""
    seen: set[int] = set()
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (tuple, list, set, frozenset)):
            stack.extend(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            if hasattr(item, "__dict__"):  # fields and what is kept beside them (to_json)
                stack.extend(vars(item).values())
            else:
                stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
    return total


class BoundedDict(dict):  # type: ignore[type-arg]
    """A dict that drops its oldest keys (insertion order, an eighth of ``max_entries`` at a
    time) when a new key would take it past ``max_entries`` (for caches whose entries are
    all about the same size, kept by code that only stores and reads keys: idf values,
    token matches, the analysis word caches).

    Why not empty it when full: a cache emptied whole swings between nothing and its
    bound, and a server's heap swings with it (its RSS dropped and rose by MBs after
    minutes of load: bench/RESULTS.md, ## Memory). Dropped an eighth at a time, a full
    cache stays between 7/8 of its bound and its bound, and what a new key needs is what
    an old one freed.
    (An eighth at a time, not one key: finding the oldest keys scans the table's freed
    slots from its start, so a batch pays that scan once for many insertions.)
    """

    def __init__(self, max_entries: int) -> None:
        super().__init__()
        self.max_entries = max_entries

    def __setitem__(self, key: Any, value: Any) -> None:
        if len(self) >= self.max_entries and key not in self:
            self.trim(self.max_entries - max(1, self.max_entries // 8))
        super().__setitem__(key, value)

    def trim(self, keep: int) -> None:
        """Drop the oldest keys until at most ``keep`` remain (safe beside other threads: a
        key another thread dropped first is skipped)."""
        extra = len(self) - max(keep, 0)
        if extra <= 0:
            return
        try:
            oldest = list(itertools.islice(self, extra))
        except RuntimeError:  # another thread added a key meanwhile: the next insertion trims
            return
        for key in oldest:
            self.pop(key, None)
