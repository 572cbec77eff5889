"""Write search/data/lemmas-fr.tsv: French words (folded) and the folded lemma to stem instead.

Snowball strips suffixes, so it leaves apart the forms that inflection changes inside the
word (« naquit », « né », « naître »; « meurt », « mourir ») and those that folding hides from
it (« première » and « premier »). This table, made from simplemma's French lexicon (MIT), maps
a folded word to its folded lemma where the two stem differently, so that the index and the
queries stem the lemma (search/analysis.py, ``lemma``). Keyed by the folded word, so that a
word typed without its accents (« creees ») stems as the written one (« créées »).

Left out: the auxiliaries (« été », the summer, is not « être »), words the lexicon knows as
names (« Paris » is not « pari »), stop words, single letters, and a folded word whose
accented words (stop words aside) stem differently (« cote »: côte, coté, côté).

    python -m pip install 'simplemma>=1.1,<3'   # needed only to make the table
    python bench/make_lemmas.py
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search.analysis import DATA_DIR, _is_stop, fold, lower_form, stem  # noqa: E402

LANG = "fr"
AUXILIARIES = frozenset({"être", "avoir"})


def lexicon_words() -> list[str]:
    """The lowercase forms of simplemma's French dictionary."""
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    words = DefaultDictionaryFactory().get_dictionary(LANG)
    return sorted({key for key in words if key.isalpha() and key == key.lower()})


def lemma_of(word: str) -> str | None:
    """The lemma to stem instead of the word, or None (see the module's docstring)."""
    import simplemma

    if len(word) < 2 or _is_stop(word, LANG):
        return None
    found = lower_form(simplemma.lemmatize(word, lang=LANG))
    if found == word or found in AUXILIARIES or _is_stop(found, LANG):
        return None
    name = word[0].upper() + word[1:]
    if simplemma.lemmatize(name, lang=LANG) == name:
        return None
    return found


def table() -> dict[str, str]:
    """Folded word -> folded lemma, where every accented spelling agrees and the stem changes."""
    targets: dict[str, set[str]] = defaultdict(set)
    lemmas: dict[str, str] = {}
    for word in lexicon_words():
        if _is_stop(word, LANG):
            continue
        folded = fold(word)
        found = lemma_of(word)
        target = fold(found) if found else folded
        targets[folded].add(stem(LANG, target))
        if found:
            lemmas[folded] = fold(found)
    return {
        folded: lemma for folded, lemma in sorted(lemmas.items())
        if len(targets[folded]) == 1 and stem(LANG, lemma) != stem(LANG, folded)
    }


def main() -> int:
    rows = table()
    path = DATA_DIR / f"lemmas-{LANG}.tsv"
    with path.open("w", encoding="utf-8") as out:
        out.write("# made by bench/make_lemmas.py from simplemma's French lexicon (MIT)\n")
        out.writelines(f"{word}\t{lemma}\n" for word, lemma in rows.items())
    print(f"{path}: {len(rows)} words")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
