"""Spelling help from the index's own vocabulary: "did you mean" and completions."""

from __future__ import annotations

import re
from itertools import islice

from whoosh.searching import Searcher

from .analysis import EXACT_SEPARATOR, fold, keeps_accents, tokenize
from .querybuild import is_plain_term

TEXT_FIELDS = ("title", "body")
MIN_CORRECTABLE = 4
MAX_CORRECTABLE = 32  # a longer word is no typo, and its edit automaton takes seconds
MAX_CHECKED_WORDS = 8  # each unknown word costs an edit-distance scan of the vocabulary
MAX_SCANNED = 3_000


def frequency(searcher: Searcher, term: str) -> int:
    """In how many title or body fields a folded term occurs."""
    return sum(searcher.doc_frequency(f, term) for f in TEXT_FIELDS)


def has_live_document(searcher: Searcher, term: str) -> bool:
    """True when a title or body not yet deleted holds the folded term.

    A deleted article's words stay in the vocabulary (and in its document
    frequencies) until its segment is merged away; a suggestion made of them
    would find nothing.
    """
    reader = searcher.reader()
    if not reader.has_deletions():
        return True
    for fieldname in TEXT_FIELDS:
        if (fieldname, term) in reader and reader.postings(fieldname, term).is_active():
            return True
    return False


def display_form(searcher: Searcher, folded: str, typed: str = "", prefix: bool = False) -> str:
    """The most common way the index writes a folded word (``elections`` -> ``élections``).

    Written forms are indexed only where they differ from the folded one, so
    the folded spelling's own count is what its variants leave over.
    """
    variants: dict[str, int] = {}
    plain = 0
    start = folded + EXACT_SEPARATOR
    for fieldname in TEXT_FIELDS:
        plain += searcher.doc_frequency(fieldname, folded)
        for term, info in searcher.reader().iter_prefix(fieldname, start):
            written = (term.decode("utf-8") if isinstance(term, bytes) else term)[len(start) :]
            variants[written] = variants.get(written, 0) + info.doc_frequency()
    variants[folded] = plain - sum(variants.values())
    variants = {word: n for word, n in variants.items() if n > 0} or {folded: 1}
    typed = typed.lower()
    fits = {word: n for word, n in variants.items() if _fits(typed, word, prefix)}
    # what the user typed ("prés") picks among the spellings ("président", "president")
    variants = fits or variants
    return max(variants, key=lambda word: (variants[word], word == folded))


def _fits(typed: str, word: str, prefix: bool) -> bool:
    if not typed or fold(typed) == typed:
        return True  # nothing typed, or typed without accents: every spelling fits
    return word.startswith(typed) if prefix else keeps_accents(typed, word)


def correction(searcher: Searcher, word: str) -> str | None:
    """A known word close to an unknown one; None when the word is known or nothing is close."""
    if not _unknown(searcher, word):
        return None
    folded = fold(word)
    candidates: dict[str, int] = {}
    # the closest words first; the first two letters are taken as typed (people rarely
    # mistype them), which keeps the scan of the vocabulary to a few hundred words
    for distance in range(1, 2 if len(folded) < 6 else 3):
        for fieldname in TEXT_FIELDS:
            for term in close_terms(searcher, fieldname, folded, distance):
                if term not in candidates and has_live_document(searcher, term):
                    candidates[term] = frequency(searcher, term)
        if candidates:
            break
    if not candidates:
        return None
    best = max(candidates, key=lambda term: (candidates[term], term))
    return display_form(searcher, best, word)


def close_terms(searcher: Searcher, fieldname: str, word: str, distance: int) -> list[str]:
    """Folded terms of a field within ``distance`` edits of ``word`` (a transposition is one),
    sharing its first two letters.

    Whoosh's ``terms_within`` computes a full Damerau-Levenshtein matrix for
    every term of the prefix (about 0.4 ms each); terms of another length, or
    that are not folded forms, are skipped here before any distance is
    computed, and the distance stops as soon as it exceeds the limit.
    """
    found = []
    for term in searcher.reader().expand_prefix(fieldname, word[:2]):
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        if (abs(len(text) - len(word)) <= distance and text != word and is_plain_term(text)
                and within_distance(word, text, distance)):
            found.append(text)
    return found


def within_distance(first: str, second: str, limit: int) -> bool:
    """True when the optimal string alignment distance of two words is at most ``limit``."""
    if abs(len(first) - len(second)) > limit:
        return False
    before: list[int] = []
    previous = list(range(len(second) + 1))
    for i, char in enumerate(first, 1):
        current = [i] + [0] * len(second)
        for j, other in enumerate(second, 1):
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            if i > 1 and j > 1 and char == second[j - 2] and first[i - 2] == other:
                best = min(best, before[j - 2] + 1)
            current[j] = best
        if min(current) > limit:
            return False
        before, previous = previous, current
    return previous[-1] <= limit


def _unknown(searcher: Searcher, word: str) -> bool:
    """A word that could be a typo: not in the index, neither too short nor too long, no number."""
    folded = fold(word)
    if not MIN_CORRECTABLE <= len(folded) <= MAX_CORRECTABLE or folded.isdigit():
        return False
    return not frequency(searcher, folded) or not has_live_document(searcher, folded)


def did_you_mean(searcher: Searcher, query: str, words: list[str]) -> str | None:
    """The query with its unknown words replaced by close known ones, or None.

    Only the first MAX_CHECKED_WORDS unknown words are corrected, so a long query stays fast.
    """
    suggestion = query
    changed = False
    tokens = [token for word in words for token in tokenize(word)]
    unknown = [token for token in tokens if _unknown(searcher, token.text)]
    for token in unknown[:MAX_CHECKED_WORDS]:
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
    for fieldname, weight in (("title", 3), ("body", 1)):
        if fieldname == "body" and len(counts) >= limit * 4:
            break  # titles (names, topics) gave enough; the body's vocabulary is far larger
        for scanned, (term, info) in enumerate(searcher.reader().iter_prefix(fieldname, folded)):
            if scanned >= MAX_SCANNED:
                break
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            if is_plain_term(text) and text != folded:
                counts[text] = counts.get(text, 0) + weight * info.doc_frequency()
    ranked = sorted(counts, key=lambda term: (-counts[term], term))
    live = (term for term in ranked if has_live_document(searcher, term))
    best = list(islice(live, limit))
    return [
        head + same_case(last.text, display_form(searcher, term, last.text, prefix=True))
        for term in best
    ]
