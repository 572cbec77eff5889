"""What holds a serving process's memory, part by part, as queries go by (in one process).

    python -m bench.memory_parts --index-dir /work/idx29k [--requests 6000] [--every 500]
                                 [--cache-size 1024] [--tracemalloc]

Runs the workload of ``bench/memory.py`` in this process, without HTTP: the
queries of ``bench/queries.txt`` in turn as searches (page 1 on the first
pass, page 2 on the second... up to ``--pages``), "more like this" of the
hits, and suggestions of a word's first letters. Every ``--every`` requests
it prints the RSS and the size of each cache that lives as long as the
process: the analysis word caches (``search.analysis.WORD_CACHES``, held to
``engine.SERVING_CACHE_WORDS`` words) and their token-match table, the snippet
piece cache and chunk indexes (their estimate of their bytes), the postings
cache (bytes) of ``search/scoring.py`` and the one of "more like this"'s terms
kept apart, the shared idf cache and the result cache. With
``--tracemalloc``, also the Python heap, and at the end the lines whose
allocations grew most over the second half (``tracemalloc`` snapshot diff):
what to bound if the process grows. Run on demand, never as a test.
"""

from __future__ import annotations

import argparse
import itertools
import time
import tracemalloc
from pathlib import Path

import psutil

from bench.memory import QUERIES
from search import SearchEngine, analysis, scoring, snippets

KINDS = ("search", "search", "more_like", "suggest")


def load_queries() -> list[str]:
    lines = QUERIES.read_text("utf-8").splitlines()
    return [line.split("\t")[-1] for line in lines if line.strip() and line[0] != "#"]


def rss_parts() -> dict[str, float]:
    """RSS split as Linux counts it: anonymous (the heap: this process's own) and file
    (mapped files: the index, read through mmap, and libraries; shared page cache)."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("RssAnon", "RssFile"):
            found[name.lower().replace("rss", "rss_") + "_mb"] = int(value.split()[0]) / 1024
    return found


def parts(engine: SearchEngine) -> dict[str, float]:
    """The size of each long-lived cache now."""
    words = {cached.__name__: cached.cache_info().currsize for cached in analysis.WORD_CACHES}
    cache = engine.cache_stats()
    found: dict[str, float] = {
        "rss_mb": psutil.Process().memory_info().rss / 2**20,
        **rss_parts(),
        "words_max": max(words.values()),
        "match_parts": len(analysis._MATCH_PARTS),
        "pieces": snippets._analyzed_piece.cache_info().currsize,
        "chunks_mb": sum(index.bytes for index in snippets._chunk_indexes.values()) / 2**20,
        "postings_mb": scoring._cached_bytes / 2**20,
        "idf_k": len(engine.searcher()._idf_cache) / 1e3,
        "results": cache.entries,
        "results_mb": cache.bytes / 2**20,
    }
    if tracemalloc.is_tracing():
        found["heap_mb"] = tracemalloc.get_traced_memory()[0] / 2**20
    return found


def request(engine: SearchEngine, kind: str, query: str, page: int, ids: list[str]) -> None:
    if kind == "search":
        ids[:] = [hit.id for hit in engine.search(query, page=page).hits] or ids
    elif kind == "more_like" and ids:
        engine.more_like(ids[0], 5)
    else:
        word = query.split()[0] if query.split() else query
        engine.suggest(word[:3], 8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--every", type=int, default=500)
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--cache-size", type=int, default=1024)
    parser.add_argument("--tracemalloc", action="store_true", help="heap and growth by line")
    args = parser.parse_args()
    if args.tracemalloc:
        tracemalloc.start(1)
    engine = SearchEngine(args.index_dir, cache_size=args.cache_size)
    queries, ids = load_queries(), []
    halfway = None
    columns = None
    started = time.perf_counter()
    for turn in itertools.islice(itertools.count(), args.requests):
        page = 1 + (turn // len(queries)) % args.pages
        request(engine, KINDS[turn % len(KINDS)], queries[turn % len(queries)], page, ids)
        if (turn + 1) % args.every == 0:
            found = parts(engine)
            if columns is None:
                columns = list(found)
                print("| requests | seconds | " + " | ".join(columns) + " |")
                print("|---" * (len(columns) + 2) + "|")
            print(f"| {turn + 1} | {time.perf_counter() - started:.0f} | "
                  + " | ".join(f"{found[c]:.1f}" for c in columns) + " |", flush=True)
        if args.tracemalloc and turn + 1 == args.requests // 2:
            halfway = tracemalloc.take_snapshot()
    if halfway is not None:
        final = tracemalloc.take_snapshot()
        print("\nHeld at the end, by line (tracemalloc):")
        for stat in final.statistics("lineno")[:25]:
            print(f"  {stat}")
        print("\nGrowth over the second half, by line (tracemalloc):")
        for stat in final.compare_to(halfway, "lineno")[:15]:
            print(f"  {stat}")


if __name__ == "__main__":
    main()
