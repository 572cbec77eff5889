"""Does the indexing analysis of this tree give exactly what another tree's gives?

For every article of a corpus, compares ``index_terms`` of title and body
(forms, positions, and the order of the forms, which ``words_from_postings``
and so the story hash depend on), ``analyze`` (every token with its offsets),
``tokenize``, ``grouped_numbers`` and the SimHash, between this tree's
``search``/``indexer`` and those of another checkout (e.g.
``git archive REV | tar -x -C /tmp/before``).

    python bench/analysis_identity.py /tmp/before bench/out/corpus-27940
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def load(tree: Path, name: str, alias: str) -> ModuleType:
    """Import ``tree/<name>.py`` as module ``alias`` (its relative imports see that tree)."""
    path = tree / (name.replace(".", "/") + ".py")
    spec = importlib.util.spec_from_file_location(alias, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[alias] = module
    spec.loader.exec_module(module)
    return module


def _tree_modules(tree: Path, tag: str) -> tuple[ModuleType, Any]:
    """The tree's ``search.analysis`` and its story hash of analyzed postings.

    (``simhash_postings`` where the tree has it, else
    ``simhash_words(words_from_postings(...))``: what its pipeline calls.)
    """
    package = ModuleType(f"{tag}search")
    package.__path__ = [str(tree / "search")]
    sys.modules[package.__name__] = package
    analysis = load(tree, "search.analysis", f"{tag}search.analysis")
    stories_text = (tree / "indexer" / "stories.py").read_text(encoding="utf-8")
    namespace: dict[str, Any] = {"__name__": f"{tag}stories"}
    stories_text = stories_text.replace(
        "from search.analysis import", f"from {tag}search.analysis import"
    )
    stories_text = stories_text.replace(
        "from search.querybuild import is_plain_term",
        f"from {tag}search.analysis import EXACT_SEPARATOR as _E, STEM_SEPARATOR as _S\n"
        "def is_plain_term(term):\n    return _E not in term and _S not in term",
    )
    exec(compile(stories_text, str(tree / "indexer" / "stories.py"), "exec"), namespace)

    def story_hash(postings: dict[str, list[int]]) -> int | None:
        if "simhash_postings" in namespace:  # what the pipeline calls, where the tree has it
            return namespace["simhash_postings"](postings)
        return namespace["simhash_words"](namespace["words_from_postings"](postings))

    return analysis, story_hash


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the other tree")
    parser.add_argument("corpus", nargs="+")
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from indexer.readers import Rejected, list_files, read_file

    old, old_hash = _tree_modules(args.before.resolve(), "before_")
    new, new_hash = _tree_modules(ROOT, "after_")
    for module in (old, new):  # load the stemmers before timing
        for lang in ("fr", "en", "es", "ar"):
            module.index_terms("Kiosque élections", lang)
    texts = differences = 0
    timings = {"before": 0.0, "after": 0.0}
    for path in list_files(args.corpus):
        if isinstance(path, Rejected):
            continue
        for article in read_file(path):
            if isinstance(article, Rejected):
                continue
            for text in (article.title, article.body):
                texts += 1
                results = []
                for label, module, story_hash in (
                    ("before", old, old_hash), ("after", new, new_hash)
                ):
                    started = time.process_time()
                    terms = module.index_terms(text, article.lang)
                    timings[label] += time.process_time() - started
                    tokens = [tuple(token) for token in module.analyze(text)]
                    words = [tuple(token) for token in module.tokenize(text)]
                    numbers = list(module.grouped_numbers(text))
                    hashed = story_hash(terms)
                    results.append((list(terms.items()), tokens, words, numbers, hashed))
                if results[0] != results[1]:
                    differences += 1
                    if differences <= 5:
                        print(f"DIFFERENT: {article.id} ({article.lang}): {text[:80]!r}")
            if args.limit and texts >= 2 * args.limit:
                break
        if args.limit and texts >= 2 * args.limit:
            break
    print(
        f"{texts} texts compared, {differences} different; index_terms CPU "
        f"before {timings['before']:.1f} s, after {timings['after']:.1f} s"
    )
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
