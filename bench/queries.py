"""Query latency: Kiosque's SearchEngine against plain Whoosh and SQLite FTS5, same queries.

The queries are ``bench/queries.txt`` (committed; ``--make-queries`` writes it
again, deterministically, from Wikinews titles only: no Reuters text): 1-3
word queries and natural questions, French and English, one a line as
``lang<TAB>kind<TAB>query``.

* ``kiosque warm``: one ``SearchEngine`` reused; every query once to warm up,
  then timed (first page of 10, snippets, facets, "did you mean").
* ``kiosque cold``: a new ``SearchEngine`` (so a new searcher, cold caches) per
  query, timed from the constructor.
* ``whoosh``: plain Whoosh as tutorials write it: a new searcher per query,
  ``QueryParser("body", group=OrGroup)`` over the query split on whitespace
  (``?`` and ``*`` would be wildcards), top 10, ``hit.highlights("body")``.
* ``fts5``: ``docs MATCH`` with every word quoted and ORed, ``bm25()`` order,
  ``snippet()`` of the body, top 10.

    python -m bench.queries --limit 2000           # builds the three indexes if missing
    python -m bench.queries --index-dir DIR        # an existing Kiosque index of the corpus
    python -m bench.queries --corpus indexer/sample_corpus   # the bundled demo corpus
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.corpus import OUT_DIR, ROOT, base, corpus_files, read_corpus, write_corpus

QUERIES_FILE = ROOT / "bench" / "queries.txt"
SEED = 20240607
WORD_RE = re.compile(r"[^\W\d_][^\W_]{2,}")

QUESTIONS = {
    "fr": [
        "que s'est-il passé à {a} ?",
        "qui est {a} ?",
        "pourquoi {a} {b} ?",
        "quand a eu lieu {a} {b} {c} ?",
        "que dit {a} sur {b} ?",
        "combien de {a} {b} ?",
    ],
    "en": [
        "what happened in {a}?",
        "who is {a}?",
        "why did {a} {b}?",
        "when was the {a} {b} {c}?",
        "what did {a} say about {b}?",
        "how many {a} {b}?",
    ],
}


def make_queries(count_words: int = 300, count_questions: int = 240) -> list[tuple[str, str, str]]:
    """Queries drawn from Wikinews titles (deterministic: a fixed seed, sorted inputs)."""
    from search.analysis import is_stopword

    rng = random.Random(SEED)
    titles: dict[str, list[list[str]]] = {"fr": [], "en": []}
    for record in base(include_reuters=False):
        words = [w for w in WORD_RE.findall(record.title) if not is_stopword(w, (record.lang,))]
        if len(words) >= 3 and record.lang in titles:
            titles[record.lang].append(words)
    queries: list[tuple[str, str, str]] = []
    for lang in ("fr", "en"):
        pool = titles[lang]
        for _ in range(count_words // 2):
            words = rng.choice(pool)
            size = rng.choice((1, 1, 2, 2, 2, 3))
            start = rng.randrange(0, len(words) - size + 1)
            queries.append((lang, f"words{size}", " ".join(words[start : start + size]).lower()))
        for _ in range(count_questions // 2):
            words = rng.choice(pool)
            template = rng.choice(QUESTIONS[lang])
            a, b, c = rng.sample(words, 3)
            queries.append((lang, "question", template.format(a=a, b=b.lower(), c=c.lower())))
    return queries


def load_queries() -> list[tuple[str, str, str]]:
    lines = QUERIES_FILE.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t", 2)) for line in lines if line and not line.startswith("#")]


# -- indexes ------------------------------------------------------------------


def kiosque_index(corpus: Path, given: Path | None) -> Path:
    if given:
        return given
    from indexer import build_index

    target = OUT_DIR / f"idx-kiosque-{corpus.stem.split('.')[0]}"
    if not (target / "CURRENT").exists():
        build_index(corpus_files(corpus), target)
    return target


def whoosh_index(corpus: Path) -> Path:
    from bench.indexing import build_whoosh_plain

    target = OUT_DIR / f"idx-whoosh-{corpus.stem.split('.')[0]}"
    if not (target / "done").exists():
        build_whoosh_plain(corpus, target)
        (target / "done").touch()
    return target


def fts5_index(corpus: Path) -> Path:
    from bench.indexing import build_fts5

    target = OUT_DIR / f"idx-fts5-{corpus.stem.split('.')[0]}"
    if not (target / "fts5.db").exists():
        build_fts5(corpus, target)
    return target / "fts5.db"


# -- the runners ----------------------------------------------------------------


def kiosque_warm(index_dir: Path) -> Callable[[str], object]:
    from search import SearchEngine

    # no result cache: a repeated query (runs 2 and 3) is searched again, not looked up
    engine = SearchEngine(index_dir, cache_size=0)
    return lambda query: engine.search(query)


def kiosque_cold(index_dir: Path) -> Callable[[str], object]:
    from search import SearchEngine

    def run(query: str) -> object:
        engine = SearchEngine(index_dir, cache_size=0)
        page = engine.search(query)
        engine.close()
        return page

    return run


def whoosh_plain(index_dir: Path) -> Callable[[str], object]:
    from whoosh import index
    from whoosh.qparser import OrGroup, QueryParser

    ix = index.open_dir(str(index_dir))
    parser = QueryParser("body", ix.schema, group=OrGroup)

    def run(query: str) -> object:
        words = " ".join(WORD_RE.findall(query)) or "x"
        with ix.searcher() as searcher:
            results = searcher.search(parser.parse(words), limit=10)
            return [hit.highlights("body") for hit in results]

    return run


def fts5(db_path: Path) -> Callable[[str], object]:
    db = sqlite3.connect(db_path, check_same_thread=False)

    def run(query: str) -> object:
        words = WORD_RE.findall(query) or ["x"]
        match = " OR ".join('"' + w.replace('"', "") + '"' for w in words)
        return db.execute(
            "SELECT id, snippet(docs, 2, '<mark>', '</mark>', '…', 24) FROM docs "
            "WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10",
            (match,),
        ).fetchall()

    return run


def timed(run: Callable[[str], object], queries: list[str], warm: bool) -> list[float]:
    if warm:
        for query in queries:
            run(query)
    times = []
    for query in queries:
        started = time.perf_counter()
        run(query)
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--make-queries", action="store_true", help="write bench/queries.txt")
    parser.add_argument("--limit", type=int, default=0, help="corpus size (0: the whole corpus)")
    parser.add_argument("--corpus", type=Path,
                        help="a folder of JSONL.gz articles instead of the news corpus "
                             "(indexer/sample_corpus: the bundled demo corpus)")
    parser.add_argument("--index-dir", type=Path, help="an existing Kiosque index of the corpus")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold-queries", type=int, default=100, help="queries timed cold")
    args = parser.parse_args()
    if args.make_queries:
        rows = make_queries()
        header = "# lang<TAB>kind<TAB>query; made by: python -m bench.queries --make-queries\n"
        QUERIES_FILE.write_text(header + "".join("\t".join(r) + "\n" for r in rows), "utf-8")
        print(f"{len(rows)} queries -> {QUERIES_FILE}")
        return
    from bench.indexing import machine

    corpus = args.corpus.resolve() if args.corpus else write_corpus(args.limit)
    queries = [q for _, _, q in load_queries()]
    print(f"machine: {machine()}\ncorpus: {corpus.name} ({len(read_corpus(corpus))} articles)")
    runners = {
        "kiosque warm": (kiosque_warm(kiosque_index(corpus, args.index_dir)), True, queries),
        "kiosque cold": (
            kiosque_cold(kiosque_index(corpus, args.index_dir)),
            False,
            queries[:: max(1, len(queries) // args.cold_queries)],
        ),
        "whoosh (new searcher)": (whoosh_plain(whoosh_index(corpus)), True, queries),
        "fts5": (fts5(fts5_index(corpus)), True, queries),
    }
    results: dict[str, list[list[float]]] = {name: [] for name in runners}
    for run in range(args.runs):  # interleaved, so the machine's load falls on all alike
        for name, (runner, warm, chosen) in runners.items():
            results[name].append(timed(runner, chosen, warm))
            print(f"run {run + 1} {name}: p50 {percentile(results[name][-1], 50):.1f} ms",
                  file=sys.stderr, flush=True)  # fmt: skip
    base_p50 = statistics.median(percentile(r, 50) for r in results["whoosh (new searcher)"])
    print("| engine | queries | p50 ms | p95 ms | p99 ms | p50 / plain Whoosh |")
    print("|---|---|---|---|---|---|")
    for name, runs in results.items():
        p = {q: statistics.median(percentile(r, q) for r in runs) for q in (50, 95, 99)}
        print(f"| {name} | {len(runs[0])} | {p[50]:.1f} | {p[95]:.1f} | {p[99]:.1f} "
              f"| {p[50] / base_p50:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
