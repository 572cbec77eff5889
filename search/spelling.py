"""Spelling help from the index's own vocabulary: "did you mean" and completions."""

from __future__ import annotations

import re

from whoosh.searching import Searcher

from .analysis import EXACT_SEPARATOR, fold, tokenize
from .querybuild import is_plain_term

TEXT_FIELDS = ("title", "body")
MIN_CORRECTABLE = 4
MAX_SCANNED = 5_000


def frequency(searcher: Searcher, term: str) -> int:
    """In how many title or body fields a folded term occurs."""
    return sum(searcher.doc_frequency(f, term) for f in TEXT_FIELDS)


def display_form(searcher: Searcher, folded: str) -> str:
    """The most common way the index writes a folded word (``elections`` -> ``élections``)."""
    best, best_count = folded, 0
    prefix = folded + EXACT_SEPARATOR
    for fieldname in TEXT_FIELDS:
        for term in searcher.reader().expand_prefix(fieldname, prefix):
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            count = searcher.doc_frequency(fieldname, text)
            if count > best_count:
                best, best_count = text[len(prefix) :], count
    return best


def correction(searcher: Searcher, word: str) -> str | None:
    """A known word close to an unknown one; None when the word is known or nothing is close."""
    folded = fold(word)
    if len(folded) < MIN_CORRECTABLE or folded.isdigit() or frequency(searcher, folded):
        return None
    candidates: dict[str, int] = {}
    for distance in range(1, 2 if len(folded) < 6 else 3):  # the closest words first
        for fieldname in TEXT_FIELDS:
            for term in searcher.reader().terms_within(fieldname, folded, distance, prefix=1):
                if is_plain_term(term) and term != folded:
                    candidates[term] = frequency(searcher, term)
        if candidates:
            break
    if not candidates:
        return None
    best = max(candidates, key=lambda term: (candidates[term], term))
    return display_form(searcher, best)


def did_you_mean(searcher: Searcher, query: str, words: list[str]) -> str | None:
    """The query with its unknown words replaced by close known ones, or None."""
    suggestion = query
    changed = False
    for word in words:
        for token in tokenize(word):
            better = correction(searcher, token.text)
            if better:
                better = same_case(token.text, better)
                suggestion = re.sub(
                    rf"(?<!\w){re.escape(token.text)}(?!\w)", better, suggestion, count=1
                )
                changed = True
    return suggestion if changed else None


def same_case(typed: str, word: str) -> str:
    """``word`` capitalized the way the user typed: Marakech -> Marrakech, ONU -> ONU."""
    if typed.isupper() and len(typed) > 1:
        return word.upper()
    if typed[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def completions(searcher: Searcher, prefix: str, limit: int) -> list[str]:
    """Words of the index that complete the last word typed, most frequent first.

    The words before the last are kept, so "coalition anti" completes to
    "coalition anti-daech"-like suggestions word by word.
    """
    tokens = list(tokenize(prefix))
    if not tokens or prefix[-1:].isspace():
        return []
    last = tokens[-1]
    head = prefix[: last.start]
    folded = fold(last.text)
    if len(folded) < 2:
        return []
    counts: dict[str, int] = {}
    for fieldname in TEXT_FIELDS:
        for scanned, term in enumerate(searcher.reader().expand_prefix(fieldname, folded)):
            if scanned >= MAX_SCANNED:
                break
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            if is_plain_term(text) and text != folded:
                weight = 3 if fieldname == "title" else 1
                counts[text] = counts.get(text, 0) + weight * searcher.doc_frequency(
                    fieldname, text
                )
    best = sorted(counts, key=lambda term: (-counts[term], term))[:limit]
    return [head + display_form(searcher, term) for term in best]
