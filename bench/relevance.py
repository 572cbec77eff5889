"""Relevance of Kiosque's ranking against a plain Whoosh baseline, on the eval collections.

    python bench/relevance.py [--collections piaf-fr,squad-en] [--limit-queries N]
                              [--data-dir ../shared/data/eval]

For each collection folder (``corpus.jsonl``, ``queries.tsv``, ``qrels.trec``)
it builds two fresh indexes in a temporary directory and runs every query
through both:

* **Kiosque**: records -> ``search.Article`` -> ``indexer.build_index``, then
  ``SearchEngine.search(q, per_page=10, recency=False, expand_stories=True)``,
  the top 10 hit ids in order.
* **baseline**, plain Whoosh: ``title`` and ``body`` as ``TEXT(StemmingAnalyzer())``
  (no field boost), the default ``BM25F()``, a ``MultifieldParser(["title",
  "body"], schema, group=OrGroup)`` (a ``QueryParser`` over both fields, words
  joined with OR, no coordination factor). The query text is split on
  whitespace; each piece loses its double quotes and is searched inside
  double quotes (``"Qu'a"  "permis"  "?"`` -> pieces without a letter or a
  digit are dropped), so ``?``, ``*``, ``AND``, ``field:`` and ``^`` are plain
  text, never syntax. A quoted piece that the analyzer splits (``d'Angleterre``)
  becomes a phrase of its words.

Measures: MRR@10, Recall@10 and nDCG@10 (trec_eval conventions) from
ir-measures when it is installed, else from ``bench/metrics.py``; every
judged query counts, a query with no result scores 0. Prints a Markdown
table and exits 0; a missing collection folder is skipped with a note.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, Python puts bench/ first on the path: put the repository root there
# instead, so that the project's packages import from this checkout.
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from whoosh import fields as wf  # noqa: E402
from whoosh import index as whoosh_index  # noqa: E402
from whoosh.analysis import StemmingAnalyzer  # noqa: E402
from whoosh.qparser import MultifieldParser, OrGroup  # noqa: E402

from bench import metrics  # noqa: E402
from search import Article, SearchEngine  # noqa: E402

COLLECTIONS = ("piaf-fr", "squad-en", "cisi-en", "service-public-fr")
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data" / "eval"
CUTOFF = 10
# The "done when" targets of issue 5: (measure, minimum); each also >= baseline + MIN_GAIN.
TARGETS = {
    "piaf-fr": ("MRR@10", 0.80),
    "squad-en": ("MRR@10", 0.86),
    "cisi-en": ("nDCG@10", 0.40),
    "service-public-fr": ("MRR@10", 0.90),
}
MIN_GAIN = 0.05

Ranker = Callable[[str], list[str]]


@dataclass
class Collection:
    """One test collection: its documents, its queries and their judgments."""

    name: str
    records: list[dict[str, str]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


@dataclass
class Measured:
    """The run of one system on one collection, with its mean scores."""

    scores: dict[str, float]
    index_seconds: float
    query_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


# -- reading a collection ---------------------------------------------------


def read_queries(path: Path) -> dict[str, str]:
    """``qid<TAB>text`` lines; a line without a tab continues the previous query (CISI)."""
    queries: dict[str, str] = {}
    last = None
    for line in path.read_text(encoding="utf-8").splitlines():
        qid, tab, text = line.partition("\t")
        if tab and qid.strip() and " " not in qid.strip():
            last = qid.strip()
            queries[last] = text.strip()
        elif last is not None and line.strip():
            queries[last] = f"{queries[last]} {line.strip()}"
    return queries


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """``qid 0 docid gain`` lines, as qid -> docid -> gain."""
    qrels: dict[str, dict[str, int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 4:
            qrels.setdefault(parts[0], {})[parts[2]] = int(parts[3])
    return qrels


def load_collection(folder: Path, limit_queries: int | None = None) -> Collection:
    """Read a collection folder; keep the judged queries, the first ``limit_queries`` if given."""
    with (folder / "corpus.jsonl").open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    qrels = read_qrels(folder / "qrels.trec")
    queries = {qid: text for qid, text in read_queries(folder / "queries.tsv").items()
               if qid in qrels}
    if limit_queries is not None:
        queries = dict(list(queries.items())[:limit_queries])
    return Collection(folder.name, records, queries, {qid: qrels[qid] for qid in queries})


# -- Kiosque ------------------------------------------------------------------


def articles(records: Iterable[dict[str, str]]) -> list[Article]:
    return [Article(str(r["id"]), r.get("title") or "", r.get("body") or "",
                    lang=(r.get("lang") or "").lower()) for r in records]


def build_kiosque_index(records: Iterable[dict[str, str]], index_dir: Path) -> str:
    """Index the records the way ``kiosque index build`` does; returns how it was written."""
    docs = articles(records)
    try:
        from indexer import build_index
    except ImportError:  # indexer not importable yet: write through search.store directly
        _write_directly(docs, index_dir)
        return "search.store (indexer not importable)"
    report = build_index(docs, index_dir)
    notes = [f"indexer.build_index: {report.indexed} indexed"]
    if report.duplicates:
        notes.append(f"{report.duplicates} duplicates dropped")
    if report.failures:
        notes.append(f"{len(report.failures)} rejected")
    return ", ".join(notes)


def _write_directly(docs: Sequence[Article], index_dir: Path) -> None:
    from search import store
    from search.schema import to_document

    generation = store.create_generation(index_dir)
    writer = whoosh_index.open_dir(str(generation)).writer(limitmb=256)
    for article in docs:
        writer.add_document(**to_document(article))
    writer.commit()
    store.publish(index_dir, generation)


def kiosque_ranker(engine: SearchEngine) -> Ranker:
    def rank(text: str) -> list[str]:
        page = engine.search(text, per_page=CUTOFF, recency=False, expand_stories=True)
        return [hit.id for hit in page.hits]
    return rank


# -- plain Whoosh baseline ------------------------------------------------------


def build_baseline_index(records: Iterable[dict[str, str]], index_dir: Path) -> whoosh_index.Index:
    schema = wf.Schema(id=wf.ID(stored=True, unique=True),
                       title=wf.TEXT(analyzer=StemmingAnalyzer()),
                       body=wf.TEXT(analyzer=StemmingAnalyzer()))
    index_dir.mkdir(parents=True, exist_ok=True)
    index = whoosh_index.create_in(str(index_dir), schema)
    writer = index.writer(limitmb=256)
    for record in records:
        writer.add_document(id=str(record["id"]), title=record.get("title") or "",
                            body=record.get("body") or "")
    writer.commit()
    return index


def baseline_query_text(text: str) -> str:
    """Each whitespace-separated piece in double quotes, so nothing in it is syntax."""
    pieces = (piece.replace('"', "") for piece in text.split())
    return " ".join(f'"{piece}"' for piece in pieces if any(ch.isalnum() for ch in piece))


def baseline_ranker(index: whoosh_index.Index) -> tuple[Ranker, Callable[[], None]]:
    searcher = index.searcher()  # default weighting: BM25F()
    parser = MultifieldParser(["title", "body"], index.schema, group=OrGroup)

    def rank(text: str) -> list[str]:
        query = parser.parse(baseline_query_text(text))
        return [hit["id"] for hit in searcher.search(query, limit=CUTOFF)]
    return rank, searcher.close


# -- measuring --------------------------------------------------------------------


def run_queries(rank: Ranker, queries: dict[str, str]) -> tuple[dict[str, list[str]],
                                                                 list[float], list[str]]:
    """Every query through ``rank``; an exception counts as an empty result and is noted."""
    run: dict[str, list[str]] = {}
    times: list[float] = []
    failures: list[str] = []
    for qid, text in queries.items():
        started = time.perf_counter()
        try:
            run[qid] = rank(text)
        except Exception as error:  # a benchmark reports failures, it does not stop
            run[qid] = []
            failures.append(f"{qid}: {type(error).__name__}: {error}")
        times.append((time.perf_counter() - started) * 1000)
    return run, times, failures


def evaluate(run: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """Mean MRR@10, Recall@10 and nDCG@10 over every judged query."""
    return mean_scores(per_query_scores(run, qrels))


def per_query_scores(run: dict[str, list[str]],
                     qrels: dict[str, dict[str, int]]) -> dict[str, dict[str, float]]:
    """Each measure of each judged query, from ir-measures when installed."""
    try:
        import ir_measures
    except ImportError:
        return metrics.per_query(run, qrels, CUTOFF)
    names = {f"RR@{CUTOFF}": f"MRR@{CUTOFF}", f"R@{CUTOFF}": f"Recall@{CUTOFF}",
             f"nDCG@{CUTOFF}": f"nDCG@{CUTOFF}"}
    measures = [ir_measures.parse_measure(name) for name in names]
    judged = [ir_measures.Qrel(qid, docid, gain)
              for qid, docs in qrels.items() for docid, gain in docs.items()]
    scored = [ir_measures.ScoredDoc(qid, docid, float(len(docids) - rank))
              for qid, docids in run.items() if qid in qrels
              for rank, docid in enumerate(docids)]
    scores = {qid: dict.fromkeys(names.values(), 0.0) for qid in qrels}
    for metric in ir_measures.iter_calc(measures, judged, scored):
        scores[metric.query_id][names[str(metric.measure)]] = metric.value
    return scores


def mean_scores(scores: dict[str, dict[str, float]]) -> dict[str, float]:
    return metrics.mean(scores)


def metric_source() -> str:
    try:
        import ir_measures
    except ImportError:
        return "bench/metrics.py (ir-measures not installed)"
    return f"ir-measures {ir_measures.__version__}"


def measure_collection(collection: Collection, workdir: Path) -> tuple[Measured, Measured, str]:
    """Build both indexes of a collection in ``workdir``, run its queries, score both runs."""
    started = time.perf_counter()
    how = build_kiosque_index(collection.records, workdir / "kiosque")
    kiosque_seconds = time.perf_counter() - started
    engine = SearchEngine(workdir / "kiosque", cache_size=0)  # every query searched
    try:
        run, times, failures = run_queries(kiosque_ranker(engine), collection.queries)
    finally:
        engine.close()
    kiosque = Measured(evaluate(run, collection.qrels), kiosque_seconds, times, failures)

    started = time.perf_counter()
    index = build_baseline_index(collection.records, workdir / "baseline")
    base_seconds = time.perf_counter() - started
    rank, close = baseline_ranker(index)
    try:
        run, times, failures = run_queries(rank, collection.queries)
    finally:
        close()
    baseline = Measured(evaluate(run, collection.qrels), base_seconds, times, failures)
    return baseline, kiosque, how


# -- output ------------------------------------------------------------------------


def target_note(name: str, baseline: dict[str, float], kiosque: dict[str, float]) -> str:
    if name not in TARGETS:
        return ""
    measure, minimum = TARGETS[name]
    value, gain = kiosque[measure], kiosque[measure] - baseline[measure]
    met = value >= minimum and gain >= MIN_GAIN
    return f"{measure} >= {minimum:.2f}, +{MIN_GAIN:.2f}: {'met' if met else 'NOT met'}"


def print_table(rows: list[tuple[Collection, Measured, Measured]]) -> None:
    header = ["collection", "queries", "docs"]
    for measure in metrics.MEASURES:
        header += [f"{measure} base", f"{measure} Kiosque"]
    header.append("target")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for collection, baseline, kiosque in rows:
        cells = [collection.name, str(len(collection.queries)), str(len(collection.records))]
        for measure in metrics.MEASURES:
            base, ours = baseline.scores[measure], kiosque.scores[measure]
            cells += [f"{base:.3f}", f"{ours:.3f} ({ours - base:+.3f})"]
        cells.append(target_note(collection.name, baseline.scores, kiosque.scores))
        print("| " + " | ".join(cells) + " |")


def print_timings(rows: list[tuple[Collection, Measured, Measured]]) -> None:
    print()
    print("| collection | system | index s | query ms p50 | query ms p95 | failed queries |")
    print("|---|---|---|---|---|---|")
    for collection, baseline, kiosque in rows:
        for system, measured in (("baseline", baseline), ("Kiosque", kiosque)):
            p50, p95 = _percentiles(measured.query_ms)
            print(f"| {collection.name} | {system} | {measured.index_seconds:.1f} | "
                  f"{p50:.1f} | {p95:.1f} | {len(measured.failures)} |")
            for failure in measured.failures[:3]:
                print(f"|  | {system} failure | {failure} | | | |")


def _percentiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return (values[0], values[0]) if values else (0.0, 0.0)
    cuts = statistics.quantiles(values, n=20)
    return statistics.median(values), cuts[18]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collections", default=",".join(COLLECTIONS),
                        help="comma-separated collection folders (default: all four)")
    parser.add_argument("--limit-queries", type=int, default=None, metavar="N",
                        help="only the first N judged queries of each collection")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"folder of the collections (default: {DEFAULT_DATA_DIR})")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    names = [name.strip() for name in args.collections.split(",") if name.strip()]
    print(f"metrics: {metric_source()}; cutoff {CUTOFF}; data: {args.data_dir}", flush=True)
    rows: list[tuple[Collection, Measured, Measured]] = []
    for name in names:
        folder = args.data_dir / name
        if not (folder / "corpus.jsonl").is_file():
            print(f"skipped {name}: no corpus.jsonl in {folder}", flush=True)
            continue
        collection = load_collection(folder, args.limit_queries)
        with tempfile.TemporaryDirectory(prefix=f"kiosque-relevance-{name}-") as tmp:
            baseline, kiosque, how = measure_collection(collection, Path(tmp))
        print(f"{name}: {len(collection.records)} docs, {len(collection.queries)} queries; "
              f"Kiosque index via {how}", flush=True)
        rows.append((collection, baseline, kiosque))
    if rows:
        print()
        print_table(rows)
        print_timings(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
