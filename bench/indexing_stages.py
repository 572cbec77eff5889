"""CPU per article of each stage of a build, in one process: where indexing time goes.

A build runs these stages in several processes (reading, analysis and
segment writing in workers, duplicates and stories in the main process);
here each runs over the whole input in turn, in this process, with the
cyclic collector off as in a build, and is timed with
``time.process_time`` (CPU, less sensitive to a shared machine's load than
wall time). Rounds after the first run with warm word caches, as a long
build's workers do.

    PYTHONPATH=$PWD python -m bench.indexing_stages bench/out/corpus-27940/part-0000.jsonl.gz \\
        bench/out/corpus-27940/part-0005.jsonl.gz --rounds 2
"""

from __future__ import annotations

import argparse
import gc
import pickle
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index

from indexer import build, pipeline
from indexer.postings import MemorySegmentWriter
from indexer.readers import Rejected
from search import store, whoosh_patches


def _timed(times: dict[str, float], stage: str, work: Callable[[], Any]) -> Any:
    started = time.process_time()
    result = work()
    times[stage] = time.process_time() - started
    return result


def _main_process(summaries: list[pipeline.Summary]) -> list[tuple[int, str]]:
    """Duplicates and stories, as the main process of a build decides them."""
    decide = build._Decider(build._Seen(), build.StoryGrouper(), build.BuildReport(), None)
    return decide.chunk(summaries)  # type: ignore[arg-type]


def _crossing(
    articles: list[tuple[str, Any]], prepared: list[pipeline.Prepared]
) -> list[pipeline.Summary]:
    """What crosses processes: articles to a worker, their summaries back (decisions: small)."""
    pickle.loads(pickle.dumps(articles))
    return pickle.loads(pickle.dumps([item.summary for item in prepared]))  # type: ignore[no-any-return]


def _documents(
    prepared: list[pipeline.Prepared], decisions: list[tuple[int, str]]
) -> list[dict[str, Any]]:
    return [pipeline.document(prepared[number], story) for number, story in decisions]


def one_round(files: list[Path]) -> tuple[int, dict[str, float]]:
    """(articles, CPU seconds by stage) of one pass over ``files``."""
    times: dict[str, float] = {}
    reads = _timed(times, "read", lambda: [pipeline.read_one(path) for path in files])
    articles = [
        (read.origin, item) for read in reads for item in read.items
        if not isinstance(item, Rejected)
    ]  # fmt: skip
    prepared = _timed(times, "prepare", lambda: [pipeline.prepare(a, o) for o, a in articles])
    summaries = _timed(times, "pickling", lambda: _crossing(articles, prepared))
    decisions = _timed(times, "main", lambda: _main_process(summaries))
    docs = _timed(times, "documents", lambda: _documents(prepared, decisions))
    with tempfile.TemporaryDirectory(prefix="kiosque-stages-") as tmp:
        index = whoosh_index.open_dir(str(store.create_generation(Path(tmp))))
        writer = MemorySegmentWriter(index, limitmb=256, codec=whoosh_patches.codec())
        _timed(times, "add", lambda: [writer.add_document(**doc) for doc in docs])
        _timed(times, "flush", writer.commit)
    return len(articles), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help="JSONL(.gz) files of articles")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    gc.disable()
    pipeline.warm_up()
    for number in range(args.rounds):
        count, times = one_round(args.files)
        times["total"] = sum(times.values())
        cells = ", ".join(f"{stage} {1000 * cpu / count:.2f}" for stage, cpu in times.items())
        print(f"round {number + 1}, {count} articles, ms of CPU an article: {cells}", flush=True)


if __name__ == "__main__":
    main()
