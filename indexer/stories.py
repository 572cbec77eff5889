"""Near-duplicates: the same story republished by several outlets.

Each article gets a 64-bit SimHash of its word 3-shingles (folded words, so
accents and case do not matter) over the body only (outlets retitle what
they republish). Two articles whose hashes differ in at most
:data:`MAX_DISTANCE` bits tell the same story: measured, a wire story with a
dateline and a "Lire aussi" line added is 4 bits from the original, while
no two of 2,000 unrelated Wikinews articles came within 8 bits. The hash is
cut into six bands: two hashes within 5 bits share at least one band
exactly, so candidates are found by band lookup, not by comparing every pair.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from hashlib import blake2b
from itertools import accumulate
from itertools import count as count_from
from operator import add

import numpy as np

from search.analysis import (
    EXACT_SEPARATOR,
    STEM_SEPARATOR,
    IndexedText,
    fold,
    folded_words,
    tokenize,
)
from search.querybuild import is_plain_term

MAX_DISTANCE = 5
BAND_WIDTHS = (11, 11, 11, 11, 10, 10)
SHINGLE = 3
MIN_WORDS = 25


MAX_SHINGLES = 400  # the first ~400 words tell a story apart
_HASH8 = partial(blake2b, digest_size=8)
_DIGEST = blake2b.digest


def simhash(text: str) -> int | None:
    """The SimHash of a text, or None when it is too short to compare safely."""
    return simhash_words([fold(token.text) for token in tokenize(text)])


def words_from_postings(postings: dict[str, list[int]]) -> list[str]:
    """The folded words of an analyzed text, in order (no need to tokenize it again)."""
    by_position: dict[int, str] = {}
    for term, positions in postings.items():
        if is_plain_term(term):
            for position in positions:
                by_position.setdefault(position, term)
    return [by_position[position] for position in sorted(by_position)]


def simhash_postings(postings: dict[str, list[int]]) -> int | None:
    """``simhash_words(words_from_postings(postings))``, reading only the words the hash uses.

    The hash looks at the first ``MAX_SHINGLES + SHINGLE - 1`` words and at
    how many words there are (every position has a folded form, so the last
    position tells): the rest of a long article is not put back in order.
    """
    needed = MAX_SHINGLES + SHINGLE - 1
    by_position: dict[int, str] = {}
    total = 0
    for term, positions in postings.items():
        if is_plain_term(term):
            total = max(total, positions[-1] + 1)
            if positions[0] < needed:
                for position in positions:
                    if position >= needed:
                        break
                    by_position.setdefault(position, term)
    first = min(total, needed)
    if len(by_position) < first:  # a position without a folded form: never seen, but exact
        return simhash_words(words_from_postings(postings))
    return simhash_words([by_position[position] for position in range(first)])


def simhash_indexed(indexed: IndexedText) -> int | None:
    """``simhash_postings(indexed.postings)``, with the words taken from the analysis itself.

    The word at a position is the first folded form, in the order of the
    postings, that has the position: the folded form of the position's word,
    unless an alias there has a folded form met earlier in the text (``1 000``
    after ``1000``). Rare cases (a folded form that is not a plain term) go
    the long way, through the postings.
    """
    words = indexed.words
    needed = min(len(words), MAX_SHINGLES + SHINGLE - 1)
    folded = folded_words(words[:needed])
    every = "".join(folded_words(set(words)))  # is_plain_term of each folded word, at once
    if EXACT_SEPARATOR in every or STEM_SEPARATOR in every:
        return simhash_postings(indexed.postings)
    order: list[str] | None = None  # the forms in postings order (a few lookups: no dict)
    for alias in indexed.aliases:
        pos = alias.pos
        if pos >= needed:
            break
        term = fold(alias.text)
        if term == folded[pos] or not is_plain_term(term):
            continue
        if order is None:
            order = list(indexed.postings)
        if order.index(term) < order.index(folded[pos]):
            folded[pos] = term
    return simhash_words(folded)


def simhash_words(words: list[str]) -> int | None:
    """The SimHash of a sequence of folded words (see the module's docstring).

    Each shingle is a slice of the words joined once (no list and join per
    shingle), hashed to 8 bytes; numpy unpacks the hashes into a shingle x bit
    table and counts each bit's column (measured: 0.26 ms an article, against
    0.39 ms for one long integer ANDed with 64 masks, and 1.3 ms for 64
    counters summed shingle by shingle; the same hashes).
    """
    if len(words) < MIN_WORDS:
        return None
    count = min(len(words) - SHINGLE + 1, MAX_SHINGLES)
    encoded = list(map(str.encode, words[: count + SHINGLE - 1]))  # UTF-8
    joined = b" ".join(encoded)
    # Where each word starts in ``joined``: the lengths before it, plus one space each.
    starts = list(map(add, accumulate(map(len, encoded), initial=0), count_from(0)))
    shingles = map(slice, starts[:count], [start - 1 for start in starts[SHINGLE:]])
    digests = b"".join(map(_DIGEST, map(_HASH8, map(joined.__getitem__, shingles))))
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8)).reshape(count, 64)
    return int.from_bytes(np.packbits(bits.sum(axis=0) > count / 2).tobytes(), "big")


def bands(value: int) -> list[str]:
    """The band keys of a hash, e.g. ``["0:1f2", ...]``."""
    keys = []
    shift = 0
    for band, width in enumerate(BAND_WIDTHS):
        keys.append(f"{band}:{value >> shift & ((1 << width) - 1):x}")
        shift += width
    return keys


def distance(left: int, right: int) -> int:
    """How many bits two hashes differ in."""
    return (left ^ right).bit_count()


class StoryGrouper:
    """Assigns each article a story id: its own, or that of an earlier near-duplicate."""

    def __init__(self) -> None:
        self._by_band: dict[str, list[tuple[int, str]]] = {}

    def remember(self, value: int, story: str) -> None:
        """Record a hash already in the index with its story id."""
        for key in bands(value):
            self._by_band.setdefault(key, []).append((value, story))

    def story_for(self, value: int | None, own_id: str) -> str:
        """The story of a new article, remembering it for the next ones."""
        if value is None:
            return own_id
        story = self._closest(value, bands(value)) or own_id
        self.remember(value, story)
        return story

    def _closest(self, value: int, keys: Iterable[str]) -> str | None:
        best: tuple[int, str] | None = None
        for key in keys:
            for other, story in self._by_band.get(key, ()):
                gap = distance(value, other)
                if gap <= MAX_DISTANCE and (best is None or gap < best[0]):
                    best = (gap, story)
        return best[1] if best else None
