"""Indexing speed, size and peak memory: Kiosque against plain Whoosh and SQLite FTS5.

Every engine runs in its own subprocess, ``--runs`` times, interleaved (one
run of each, then again), so that the load of a shared machine falls on all
of them alike. For each run: wall seconds, documents per second, CPU seconds
of the whole process tree (``RUSAGE_CHILDREN``: less sensitive to other load
than wall time) and per document, cores used (CPU seconds over wall seconds:
how much of the machine the build kept busy), index size, and peak RSS of the
process tree (sampled every 100 ms with psutil: PSS, so pages shared by forked
workers count once, summed over the main process and its workers).

* ``kiosque``: ``kiosque index build CORPUS --index-dir TMP`` (the full chain:
  reading, cleaning, language detection, analysis, duplicates, stories, writing);
* ``whoosh``: plain Whoosh, ``StemmingAnalyzer`` on title and body (stored),
  one ``index.writer()`` with default settings, one commit;
* ``kiosque-before``: the same command run in the whole tree as of
  ``--before REV`` (default ``HEAD``), to measure a change against it in the
  same run (not in the default list);
* ``fts5``: Python's sqlite3, ``fts5(title, body, tokenize='porter unicode61')``.

    python -m bench.indexing --limit 3000 --runs 3      # a quick run
    python -m bench.indexing --runs 3                   # the ~28,000-article corpus

Needs psutil (``pip install psutil``: a benchmark dependency only).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.corpus import ROOT, read_corpus, write_corpus

ENGINES = ("kiosque", "whoosh", "fts5")


def machine() -> str:
    """One line: cores, Python, Whoosh, date."""
    import whoosh

    version = ".".join(map(str, whoosh.__version__))
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, Whoosh {version}, "
        f"load average {os.getloadavg()[0]:.1f} at start, {time.strftime('%Y-%m-%d %H:%M')}"
    )


def _memory(process: Any) -> int:
    """PSS when the kernel gives it (forked workers share pages: RSS counts them twice)."""
    try:
        return process.memory_full_info().pss
    except (AttributeError, OSError):
        return process.memory_info().rss


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        process = psutil.Process(pid)
        total = _memory(process)
        for child in process.children(recursive=True):
            try:
                total += _memory(child)
            except psutil.Error:
                continue
        return total
    except psutil.Error:
        return 0


# PSS makes the kernel walk every page table of the tree: ~14 ms of CPU a sample for a 2-worker
# build. Every 0.1 s that was 11% of a core taken from a build using both cores (and from no
# single-process engine, which leaves one free): its docs/s fell 10% (bench/RESULTS.md).
PEAK_SAMPLE_SECONDS = 1.0


def run_measured(command: list[str], cwd: Path = ROOT) -> dict[str, float]:
    """Run a command; its wall time, CPU time (tree) and peak PSS (tree, sampled every
    PEAK_SAMPLE_SECONDS)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    env = dict(os.environ, PYTHONPATH=str(cwd))
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(process.pid))
            stop.wait(PEAK_SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    stop.set()
    sampler.join()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{command} failed ({process.returncode}): {err.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "peak_mb": peak / 2**20, "stdout": out.decode()}


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# -- the baselines, run as ``python -m bench.indexing --engine NAME CORPUS OUT`` --


def build_whoosh_plain(corpus: Path, out: Path) -> int:
    from whoosh import fields, index
    from whoosh.analysis import StemmingAnalyzer

    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=fields.TEXT(analyzer=StemmingAnalyzer(), stored=True),
        body=fields.TEXT(analyzer=StemmingAnalyzer(), stored=True),
    )
    out.mkdir(parents=True, exist_ok=True)
    ix = index.create_in(str(out), schema)
    writer = ix.writer()
    count = 0
    for record in read_corpus(corpus):
        writer.add_document(id=record.id, title=record.title, body=record.body)
        count += 1
    writer.commit()
    return count


FTS5_SCHEMA = (
    "CREATE VIRTUAL TABLE docs USING fts5("
    "id UNINDEXED, title, body, tokenize='porter unicode61 remove_diacritics 2')"
)


def build_fts5(corpus: Path, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(out / "fts5.db")
    db.execute(FTS5_SCHEMA)
    rows = [(r.id, r.title, r.body) for r in read_corpus(corpus)]
    db.executemany("INSERT INTO docs(id, title, body) VALUES (?, ?, ?)", rows)
    db.commit()
    db.close()
    return len(rows)


def before_tree(revision: str) -> Path:
    """This repository's tree as of ``revision`` (``kiosque-before``), in a temporary folder.

    The whole tree is taken (analysis included), so the comparison measures
    every change since ``revision``; the corpus is the same for both.
    """
    target = Path(tempfile.gettempdir()) / "kiosque-bench-before"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def command_for(engine: str, corpus: Path, out: Path) -> list[str]:
    if engine in ("kiosque", "kiosque-before"):
        return [sys.executable, "-m", "web.cli", "index", "build", str(corpus),
                "--index-dir", str(out)]  # fmt: skip
    return [sys.executable, "-m", "bench.indexing", "--engine", engine, str(corpus), str(out)]


def measure(
    engines: tuple[str, ...], corpus: Path, runs: int, revision: str = "HEAD"
) -> dict[str, list[dict]]:
    docs = len(read_corpus(corpus))
    results: dict[str, list[dict]] = {engine: [] for engine in engines}
    before = before_tree(revision) if "kiosque-before" in engines else ROOT
    for run in range(runs):
        for engine in engines:
            work = Path(tempfile.mkdtemp(prefix=f"kiosque-bench-{engine}-"))
            try:
                cwd = before if engine == "kiosque-before" else ROOT
                measured = run_measured(command_for(engine, corpus, work / "index"), cwd)
                measured["size_mb"] = dir_size(work / "index") / 2**20
                measured["docs"] = docs
                measured["docs_per_s"] = docs / measured["wall"]
                measured["cores"] = measured["cpu"] / measured["wall"]
                measured.pop("stdout")
                results[engine].append(measured)
                print(
                    f"run {run + 1} {engine}: {measured['docs_per_s']:.1f} docs/s, "
                    f"cpu {measured['cpu']:.1f} s ({1000 * measured['cpu'] / docs:.2f} ms/doc, "
                    f"{measured['cores']:.2f} cores), {measured['size_mb']:.1f} MB, "
                    f"peak {measured['peak_mb']:.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return results


def table(results: dict[str, list[dict]]) -> str:
    median = {
        engine: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for engine, runs in results.items()
        if runs
    }
    base = median.get("whoosh")
    lines = [
        "| engine | docs/s (median) | x plain Whoosh | CPU s (tree) | CPU ms/doc | cores used "
        "| index MB | peak PSS MB | runs (docs/s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for engine, m in median.items():
        ratio = f"{m['docs_per_s'] / base['docs_per_s']:.2f}" if base else "-"
        each = ", ".join(f"{r['docs_per_s']:.0f}" for r in results[engine])
        lines.append(
            f"| {engine} | {m['docs_per_s']:.1f} | {ratio} | {m['cpu']:.1f} "
            f"| {1000 * m['cpu'] / m['docs']:.2f} | {m['cores']:.2f} | {m['size_mb']:.1f} "
            f"| {m['peak_mb']:.0f} "
            f"| {each} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="articles (0: the whole corpus)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument(
        "--before", default="HEAD", help="the revision kiosque-before runs (default: HEAD)"
    )
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine:  # a child run of one baseline
        corpus, out = map(Path, args.paths)
        {"whoosh": build_whoosh_plain, "fts5": build_fts5}[args.engine](corpus, out)
        return
    corpus = write_corpus(args.limit)
    print(f"machine: {machine()}\ncorpus: {corpus.name}", flush=True)
    results = measure(tuple(args.engines.split(",")), corpus, args.runs, args.before)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
