"""CPU of the per-article analysis of a build, this tree against another, in one process.

What a build's worker does to each article before packing it: ``indexed_text``
of the body, ``index_terms`` of the title, the story hash
(``simhash_indexed``); and ``analyze`` of the body, which queries' snippets
run on every hit, with what queries and snippets run on short texts (titles,
single words, pieces). Both trees' modules are loaded side by side (as in
``bench/analysis_identity.py``) and timed in alternating rounds with
``time.process_time``, word caches warm (a first untimed round), the cyclic
collector off as in a build: on a shared machine the ratio of the two is
what to read, not the absolute figures.

    python bench/analysis_cpu.py /tmp/before bench/out/corpus-3000.jsonl.gz --rounds 5
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from analysis_identity import ROOT, load  # noqa: E402


def _stages(tree: Path, tag: str) -> dict[str, Callable[[Any], Any]]:
    """The timed stages of one tree, each a function of an article."""
    from types import ModuleType

    package = ModuleType(f"{tag}search")
    package.__path__ = [str(tree / "search")]
    sys.modules[package.__name__] = package
    analysis = load(tree, "search.analysis", f"{tag}search.analysis")
    source = (tree / "indexer" / "stories.py").read_text(encoding="utf-8")
    source = source.replace("from search.analysis import", f"from {tag}search.analysis import")
    source = source.replace(
        "from search.querybuild import is_plain_term",
        f"from {tag}search.analysis import EXACT_SEPARATOR as _E, STEM_SEPARATOR as _S\n"
        "def is_plain_term(term):\n    return _E not in term and _S not in term",
    )
    stories: dict[str, Any] = {"__name__": f"{tag}stories"}
    exec(compile(source, str(tree / "indexer" / "stories.py"), "exec"), stories)
    simhash = stories["simhash_indexed"]

    def prepare(article: Any) -> Any:
        body = analysis.indexed_text(article.body, article.lang)
        analysis.index_terms(article.title, article.lang)
        return simhash(body)

    return {
        "body indexed_text": lambda a: analysis.indexed_text(a.body, a.lang),
        "title index_terms": lambda a: analysis.index_terms(a.title, a.lang),
        "worker analysis (both + story hash)": prepare,
        "analyze (body)": lambda a: analysis.analyze(a.body),
        "analyze (title)": lambda a: analysis.analyze(a.title),
        "pieces (body)": lambda a: analysis.pieces(a.body),
        "tokenize (title words)": lambda a: [
            list(analysis.tokenize(word)) for word in a.title.split()[:8]
        ],
    }


def _time(stage: Callable[[Any], Any], articles: list[Any]) -> float:
    started = time.process_time()
    for article in articles:
        stage(article)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the other tree")
    parser.add_argument("corpus", nargs="+")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from indexer.readers import Rejected, list_files, read_file

    articles = [
        article for path in list_files(args.corpus) if not isinstance(path, Rejected)
        for article in read_file(path) if not isinstance(article, Rejected)
    ]  # fmt: skip
    trees = {"before": _stages(args.before.resolve(), "before_"), "after": _stages(ROOT, "after_")}
    for stages in trees.values():  # warm the word caches and stemmers
        for stage in stages.values():
            for article in articles:
                stage(article)
    gc.disable()
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for name in trees["after"]:
            for label in ("before", "after"):
                cpu = _time(trees[label][name], articles)
                times.setdefault((name, label), []).append(1000 * cpu / len(articles))
    print(f"{len(articles)} articles, {args.rounds} alternating rounds, ms of CPU an article "
          "(median of rounds)")
    print("| stage | before | after | after / before |\n|---|---|---|---|")
    for name in trees["after"]:
        before = statistics.median(times[(name, "before")])
        after = statistics.median(times[(name, "after")])
        print(f"| {name} | {before:.3f} | {after:.3f} | {after / before:.2f} |")


if __name__ == "__main__":
    main()
