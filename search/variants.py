"""Spelling variants of names, applied at query time.

Transliteration gives the names of Moroccan news several spellings
(Marrakech, Marrakesh; Laâyoune, El Aaiún; Mohammed, Muhammad). A small
committed list, ``data/name-variants.txt``, says which spellings name the
same thing; a query word found there also searches the other spellings.
Expanding the query, not the index, keeps the index as written and lets the
list grow without a rebuild. Stemming is not the tool: it merges words, not
spellings, and merges distinct names (French stems "Fès" and "fée" alike,
Spanish "Tanger" and "tango"), so a listed name is searched unstemmed.
"""

from __future__ import annotations

from functools import cache

from .analysis import DATA_DIR, fold, tokenize

__all__ = ["Spelling", "is_listed_name", "name_variants"]

VARIANTS_FILE = DATA_DIR / "name-variants.txt"

Spelling = tuple[str, ...]  # the folded words of one spelling


def spelling(text: str) -> Spelling:
    """A spelling as folded words, through the same analysis as the index."""
    return tuple(fold(token.text) for token in tokenize(text))


@cache
def _groups() -> dict[Spelling, tuple[Spelling, ...]]:
    """Each listed spelling -> every spelling of its name (itself included), in list order."""
    groups: dict[Spelling, tuple[Spelling, ...]] = {}
    for line in VARIANTS_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        spellings = tuple(dict.fromkeys(s for s in map(spelling, line.split("|")) if s))
        for one in spellings:
            groups[one] = tuple(dict.fromkeys(groups.get(one, ()) + spellings))
    return groups


def name_variants(words: Spelling) -> tuple[Spelling, ...]:
    """The other spellings of a name given as folded words; () when it is not listed."""
    return tuple(other for other in _groups().get(words, ()) if other != words)


def is_listed_name(words: Spelling) -> bool:
    """True when folded words are one spelling of a listed name."""
    return words in _groups()
