"""Growth: indexing time, index size, peak memory and query p95 at 10k, 30k and 100k articles.

For each size, the scaled corpus (bench/corpus.py) is indexed with
``kiosque index build`` (a subprocess, measured like bench/indexing.py), then
every query of ``bench/queries.txt`` runs warm on a reused ``SearchEngine``.
Prints a Markdown table and writes ``bench/out/growth.png`` (matplotlib, a
benchmark dependency only: ``pip install matplotlib``).

    python -m bench.growth                       # 10000,30000,100000
    python -m bench.growth --sizes 2000,5000     # a quick run
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from bench.corpus import OUT_DIR, read_corpus, write_corpus
from bench.indexing import command_for, dir_size, machine, run_measured
from bench.queries import kiosque_warm, load_queries, percentile, timed


def measure(size: int) -> dict[str, float]:
    corpus = write_corpus(size)
    docs = len(read_corpus(corpus))
    work = Path(tempfile.mkdtemp(prefix="kiosque-growth-"))
    try:
        index_dir = work / "index"
        built = run_measured(command_for("kiosque", corpus, index_dir))
        queries = [q for _, _, q in load_queries()]
        times = timed(kiosque_warm(index_dir), queries, warm=True)
        return {
            "docs": docs,
            "minutes": built["wall"] / 60,
            "docs_per_s": docs / built["wall"],
            "cpu_s": built["cpu"],
            "size_mb": dir_size(index_dir) / 2**20,
            "peak_mb": built["peak_mb"],
            "p50": percentile(times, 50),
            "p95": percentile(times, 95),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def plot(rows: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    docs = [r["docs"] / 1000 for r in rows]
    panels = (("minutes", "indexing (min)"), ("size_mb", "index size (MB)"),
              ("peak_mb", "indexing peak PSS (MB)"), ("p95", "query p95 (ms)"))  # fmt: skip
    figure, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.4))
    for axis, (key, label) in zip(axes, panels, strict=True):
        axis.plot(docs, [r[key] for r in rows], marker="o")
        axis.set_xlabel("articles (thousands)")
        axis.set_title(label)
        axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,30000,100000")
    parser.add_argument("--png", type=Path, default=OUT_DIR / "growth.png")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    rows = []
    print("| articles | indexing min | docs/s | CPU s | index MB | peak PSS MB | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        row = measure(size)
        rows.append(row)
        print(f"| {row['docs']} | {row['minutes']:.1f} | {row['docs_per_s']:.1f} | "
              f"{row['cpu_s']:.0f} | {row['size_mb']:.0f} | {row['peak_mb']:.0f} | "
              f"{row['p50']:.1f} | {row['p95']:.1f} |", flush=True)  # fmt: skip
    args.png.parent.mkdir(parents=True, exist_ok=True)
    plot(rows, args.png)
    print(f"plot: {args.png}")


if __name__ == "__main__":
    main()
