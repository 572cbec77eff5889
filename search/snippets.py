"""Highlighted titles and snippets, from the same analysis as the index.

The stored text is analyzed again with :func:`search.analysis.analyze`; a
word is marked when one of its forms (exact, folded or stemmed in the
article's language) is among the query's forms, or when it starts a phrase
of the query; an alias (``e-mail`` joined as ``email``, ``1 000`` as
``1000``) marks all the words it spans. The whole text is read: there is no
length past which matches go unseen. Everything that is not a ``<mark>`` is HTML-escaped.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from functools import lru_cache
from html import escape

from .analysis import (
    Token,
    analyze,
    fold,
    grouped_numbers,
    piece_matches,
    pieces,
    token_forms,
)
from .querybuild import MatchPlan

SNIPPET_CHARS = 240
MIN_FRAGMENT_CHARS = 80
MAX_FRAGMENTS = 3
EARLY_CHARS = 700
PIECE_CACHE_SIZE = 20_000  # distinct pieces of text whose analysis is kept (~8 MB)
CHUNK_INDEX_BYTES = 32 * 2**20  # chunks (pieces with punctuation) indexed, all languages together
CONTEXT_CHARS = 60  # analyzed around a candidate word: room for a phrase of ~8 words
ELLIPSIS = "…"

_SPACES = re.compile(r"\s{2,}")
Span = tuple[int, int, str]  # start, end, matched key (for distinct-term counting)
_DIGITS_KEY = ("", "digits")  # in MatchPlan.seen, beside ("", lang): the chunks checked


def find_matches(text: str, lang: str, plan: MatchPlan) -> list[Span]:
    """Character spans of the text that the query matches, in order, not overlapping.

    Only what can match is analyzed: single words are found a whitespace-separated
    chunk at a time (see :func:`_word_matches`), phrases and numbers in the
    neighbourhoods of candidate pieces, so the cost of a long article is a
    ``split`` or a regex scan, not a full analysis.
    """
    if plan.is_empty():
        return []
    if not plan.phrases and not _has_digits(plan):
        return _word_matches(text, lang, plan)
    found: list[Span] = []
    for start, end in _candidate_regions(text, lang, plan):
        found.extend((s + start, e + start, key)
                     for s, e, key in matches_in(text[start:end], lang, plan))
    return found


def matches_in(text: str, lang: str, plan: MatchPlan) -> list[Span]:
    """:func:`find_matches` by analyzing the whole text (the reference it must agree with)."""
    if plan.is_empty():
        return []
    analyzed = analyze(text)
    tokens = [token for token in analyzed if not token.alias]
    spans = _phrase_spans(tokens, plan.phrases)
    covered = {index for _, _, index_range in spans for index in index_range}
    result = [(tokens[r[0]].start, tokens[r[-1]].end, key) for key, _, r in spans]
    for token in tokens:
        if token.pos in covered:
            continue
        forms = token_forms(token.text, lang)
        if plan.forms.intersection(forms):
            result.append((token.start, token.end, forms[0]))
    for alias in (token for token in analyzed if token.alias):
        forms = token_forms(alias.text, lang)
        overlaps = any(start < alias.end and alias.start < end for start, end, _ in result)
        if not overlaps and plan.forms.intersection(forms):
            result.append((alias.start, alias.end, forms[0]))
    result.sort()
    return result


def _has_digits(plan: MatchPlan) -> bool:
    """Whether a number could match across words (``1 000``): then context matters.
    (Worked out once a query: a page asks it for every title and snippet.)"""
    known = plan.seen.get(_DIGITS_KEY)
    if known is None:
        known = plan.seen[_DIGITS_KEY] = (
            any(char.isdigit() for form in plan.forms for char in form),)
    return known[0]


def _word_matches(text: str, lang: str, plan: MatchPlan) -> list[Span]:
    """Matches of single words, a whitespace-separated chunk of text at a time.

    No token or piece crosses whitespace, and the tokenizer's look-arounds see
    only one character, so a chunk (``(l'armée,``) gives the same tokens alone
    as in the text. The chunks that can match are found with set operations
    (the text's chunks against those the :class:`_ChunkIndex` lists under the
    query's forms, and the chunks a full index left out, analyzed once a query), so a
    text costs a ``split``, not a run of the tokenizer (~0.4 ms a 700-character lead),
    and no chunk is checked word by word twice.
    """
    memo = _chunk_memo(plan, lang)
    chunks = set(text.split())
    memo.update(chunks, plan)
    found: list[Span] = []
    for chunk in chunks.intersection(memo.candidates):
        spans = memo.spans(chunk, lang, plan)
        for at in _chunk_occurrences(text, chunk):
            found.extend((at + start, at + end, key) for start, end, key in spans)
    found.sort()
    return found


class _ChunkIndex:
    """The chunks of text met so far in one language: which are known, and under each form
    the chunks that have it (lists only appended to, so that a query can catch up with what
    other threads added since it last looked).

    A chunk's forms are not kept beside it: once listed under them, only whether the chunk
    is known is ever asked (they were a frozenset a chunk, about half of the index's bytes).
    ``bytes`` estimates what the index holds (its strings, set slots, lists and dict
    entries; a form's string counted in full even when another cache shares it). Once all
    languages' indexes together hold CHUNK_INDEX_BYTES they stop growing (see
    :func:`_chunk_room`): nothing is ever taken out, so a full index's memory is level.
    """

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.known: set[str] = set()
        self.by_form: dict[str, list[str]] = {}
        self.bytes = 0

    def add(self, chunk: str) -> tuple[frozenset[str], bool]:
        """A new chunk's forms, and whether it was listed under them and marked known (only
        while the indexes have room)."""
        forms = _chunk_forms(chunk, self.lang)
        if not _chunk_room():
            return forms, False
        size = sys.getsizeof(chunk) + _SET_SLOT_BYTES + _LIST_SLOT_BYTES * len(forms)
        by_form = self.by_form
        for form in forms:  # listed under its forms before it counts as known
            listed = by_form.get(form)
            if listed is None:
                listed = by_form[form] = []
                size += sys.getsizeof(form) + _FORM_ENTRY_BYTES
            listed.append(chunk)
        self.known.add(chunk)
        self.bytes += size
        return forms, True


# What a chunk index entry costs beyond its strings (CPython 3.11, 64-bit): a set slot of a
# set between 15% and 60% full (16 bytes a slot); a list slot with the list's over-allocation;
# a new form's dict entry and index, its empty list object and the list's first allocation.
_SET_SLOT_BYTES = 40
_LIST_SLOT_BYTES = 10
_FORM_ENTRY_BYTES = 160

_chunk_indexes: dict[str, _ChunkIndex] = {}


def _chunk_index(lang: str) -> _ChunkIndex:
    """This language's chunk index (made on first use, then kept for the process's life)."""
    index = _chunk_indexes.get(lang)
    if index is None:
        index = _chunk_indexes.setdefault(lang, _ChunkIndex(lang))
    return index


def _chunk_room() -> bool:
    """Whether the chunk indexes, all languages together, may still grow.

    A full index is frozen, not replaced: replacing a language's index whole (as before)
    freed 15-18 MB at a time and made it again, a sawtooth whose freed blocks stayed
    scattered in Python's arenas (a slow creep of the process's memory). The chunks met
    first, the commonest, stay indexed; one met after is analyzed again by each query
    that meets it (:meth:`_ChunkMemo.update`), through the bounded piece cache.
    """
    return sum(index.bytes for index in list(_chunk_indexes.values())) < CHUNK_INDEX_BYTES


def _chunk_forms(chunk: str, lang: str) -> frozenset[str]:
    """Every form of every piece of a chunk (what :class:`_ChunkIndex` lists it under)."""
    parts = [_piece_forms(piece, lang) for piece in pieces(chunk)]
    return parts[0] if len(parts) == 1 else frozenset().union(*parts)


class _ChunkMemo:
    """One query in one language: the chunks that can match it (have one of its forms),
    and the matches inside each, shared by the titles and snippets of a page."""

    def __init__(self, index: _ChunkIndex, plan: MatchPlan) -> None:
        self.index = index
        self.candidates: set[str] = set()
        self.read = dict.fromkeys(plan.forms, 0)  # how much of each form's list is read
        self.found: dict[str, tuple[Span, ...]] = {}
        self.unlisted: set[str] = set()  # chunks checked here that a full index left out

    def update(self, chunks: set[str], plan: MatchPlan) -> None:
        """Add the chunks of a text the index did not know, then what the index gained."""
        index = self.index
        new = chunks.difference(index.known)
        if self.unlisted:
            new.difference_update(self.unlisted)
        for chunk in new:
            forms, listed = index.add(chunk)
            if not listed:
                self.unlisted.add(chunk)
            if not plan.forms.isdisjoint(forms):
                self.candidates.add(chunk)
        by_form, read = index.by_form, self.read
        for form, done in read.items():
            listed_under = by_form.get(form)
            if listed_under is not None and len(listed_under) > done:
                self.candidates.update(listed_under[done:])
                read[form] = len(listed_under)

    def spans(self, chunk: str, lang: str, plan: MatchPlan) -> tuple[Span, ...]:
        found = self.found.get(chunk)
        if found is None:
            found = self.found[chunk] = _chunk_spans(chunk, lang, plan)
        return found


def _chunk_memo(plan: MatchPlan, lang: str) -> _ChunkMemo:
    """This query's :class:`_ChunkMemo` for a language, kept in ``plan.seen``."""
    key = ("", lang)
    memo = plan.seen.get(key)
    if memo is None:
        memo = _ChunkMemo(_chunk_index(lang), plan)
        plan.seen[key] = memo  # type: ignore[assignment]
    return memo  # type: ignore[return-value]


def _chunk_spans(chunk: str, lang: str, plan: MatchPlan) -> tuple[Span, ...]:
    """The matches inside one whitespace-free chunk of text, by the rules of :func:`matches_in`."""
    found: list[Span] = []
    for match in piece_matches(chunk):
        at = match.start()
        found.extend((at + start, at + end, key)
                     for start, end, key in _piece_spans(match.group(), lang, plan))
    return tuple(found)


def _chunk_occurrences(text: str, chunk: str) -> Iterator[int]:
    """Where ``chunk`` occurs in ``text`` as a whole chunk (whitespace or an end on each side)."""
    size, limit = len(chunk), len(text)
    at = text.find(chunk)
    while at >= 0:
        end = at + size
        if (at == 0 or text[at - 1].isspace()) and (end == limit or text[end].isspace()):
            yield at
            at = text.find(chunk, end)
        else:
            at = text.find(chunk, at + 1)


def _piece_spans(piece: str, lang: str, plan: MatchPlan) -> tuple[Span, ...]:
    """The matches inside one piece, by the rules of :func:`matches_in`."""
    words, aliases = _piece_tokens(piece, lang)
    spans = [(start, end, forms[0]) for start, end, forms in words
             if not plan.forms.isdisjoint(forms)]
    for start, end, forms in aliases:
        overlaps = any(s < end and start < e for s, e, _ in spans)
        if not overlaps and not plan.forms.isdisjoint(forms):
            spans.append((start, end, forms[0]))
    return tuple(spans)


_Forms = tuple[tuple[int, int, tuple[str, ...]], ...]


def _piece_tokens(piece: str, lang: str) -> tuple[_Forms, _Forms]:
    """A piece's words and aliases, each as (start, end, forms)."""
    return _analyzed_piece(piece, lang)[:2]


def _piece_forms(piece: str, lang: str) -> frozenset[str]:
    """Every form of every token of a piece, and their folded words (for phrases)."""
    return _analyzed_piece(piece, lang)[2]


@lru_cache(maxsize=PIECE_CACHE_SIZE)
def _analyzed_piece(piece: str, lang: str) -> tuple[_Forms, _Forms, frozenset[str]]:
    analyzed = analyze(piece)
    words = tuple((t.start, t.end, token_forms(t.text, lang)) for t in analyzed if not t.alias)
    aliases = tuple((t.start, t.end, token_forms(t.text, lang)) for t in analyzed if t.alias)
    forms = {fold(t.text) for t in analyzed}
    for _, _, token_forms_ in words + aliases:
        forms.update(token_forms_)
    return words, aliases, frozenset(forms)


def _candidate_regions(text: str, lang: str, plan: MatchPlan) -> list[tuple[int, int]]:
    """Stretches of text, cut at spaces, around every piece that could match the plan."""
    wanted = plan.forms.union(*plan.phrases)
    spots = [(at, at + len(piece)) for piece in set(pieces(text))
             if not wanted.isdisjoint(_piece_forms(piece, lang))
             for at in _occurrences(text, piece)]
    if _has_digits(plan):
        spots.extend((start, end) for normalized, start, end in grouped_numbers(text)
                     if plan.forms.intersection(token_forms(normalized, lang)))
    return _regions(text, sorted(spots))


def _occurrences(text: str, piece: str) -> Iterator[int]:
    at = text.find(piece)
    while at >= 0:
        yield at
        at = text.find(piece, at + len(piece))


def _regions(text: str, spots: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Each spot widened by CONTEXT_CHARS to the nearest spaces; overlapping ones merged."""
    regions: list[tuple[int, int]] = []
    for start, end in spots:
        low = start - CONTEXT_CHARS
        low = 0 if low <= 0 else text.rfind(" ", 0, low) + 1
        high = text.find(" ", end + CONTEXT_CHARS)
        high = len(text) if high < 0 else high
        if regions and low <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(high, regions[-1][1]))
        else:
            regions.append((low, high))
    return regions


def _phrase_spans(tokens: list[Token],
                  phrases: list[tuple[str, ...]]) -> list[tuple[str, int, range]]:
    if not phrases:
        return []
    folded = [fold(token.text) for token in tokens]
    found = []
    taken: set[int] = set()
    for phrase in phrases:
        size = len(phrase)
        for start in range(len(folded) - size + 1):
            if tuple(folded[start:start + size]) == phrase and start not in taken:
                found.append((" ".join(phrase), start, range(start, start + size)))
                taken.update(range(start, start + size))
    return found


def highlight(text: str, spans: list[Span]) -> str:
    """The text, HTML-escaped, with each span wrapped in ``<mark>``."""
    parts: list[str] = []
    cursor = 0
    for start, end, _ in spans:
        if start < cursor:
            continue
        parts.append(escape(text[cursor:start]))
        parts.append(f"<mark>{escape(text[start:end])}</mark>")
        cursor = end
    parts.append(escape(text[cursor:]))
    return "".join(parts)


def snippet(text: str, lang: str, plan: MatchPlan, budget: int = SNIPPET_CHARS) -> str:
    """One to three fragments around the best matches; the lead when nothing matches."""
    spans = find_matches_early(text, lang, plan)
    if not spans:
        return lead(text, budget)
    windows = _choose_windows(text, spans, budget)
    fragments = [_fragment(text, spans, start, end) for start, end in windows]
    # adjacent fragments share one ellipsis: "…a… …b…" reads "…a … b…"
    return " ".join(fragments).replace(f"{ELLIPSIS} {ELLIPSIS}", f" {ELLIPSIS} ")


def find_matches_early(text: str, lang: str, plan: MatchPlan) -> list[Span]:
    """The matches of the article's beginning, or of the rest when the beginning has none.

    News puts what matters first, and analyzing a whole long article for
    every hit is the snippet's main cost; the rest is read only when needed,
    so a match far into a long article is still found.
    """
    if len(text) <= EARLY_CHARS * 2:
        return find_matches(text, lang, plan)
    cut = text.find(" ", EARLY_CHARS)
    if cut < 0:
        return find_matches(text, lang, plan)
    spans = find_matches(text[:cut], lang, plan)
    if spans:
        return spans
    rest = find_matches(text[cut:], lang, plan)
    return [(start + cut, end + cut, key) for start, end, key in rest]


def lead(text: str, budget: int = SNIPPET_CHARS) -> str:
    """The first words of the text, escaped, cut at a word boundary."""
    start, end = _word_bounds(text, 0, budget)
    return _fragment(text, [], start, end)


def _choose_windows(text: str, spans: list[Span], budget: int) -> list[tuple[int, int]]:
    """Greedily pick windows that show the most distinct matched words."""
    distinct = {key for _, _, key in spans}
    count = 1
    while count < MAX_FRAGMENTS and _best_window(spans, budget // count)[1] < len(distinct):
        if budget // (count + 1) < MIN_FRAGMENT_CHARS:
            break
        count += 1
    size = budget // count
    windows: list[tuple[int, int]] = []
    remaining = list(spans)
    seen: set[str] = set()
    for _ in range(count):
        candidates = [s for s in remaining if s[2] not in seen] or remaining
        if not candidates:
            break
        start, _ = _best_window(candidates, size, seen)
        window = _word_bounds(text, max(0, start - size // 4), size)
        windows.append(window)
        seen.update(key for s, e, key in spans if s >= window[0] and e <= window[1])
        remaining = [s for s in remaining if s[1] <= window[0] or s[0] >= window[1]]
        if seen >= distinct:
            break
    return sorted(_merge(windows))


def _best_window(spans: list[Span], size: int, seen: set[str] | None = None) -> tuple[int, int]:
    """The start of the window of ``size`` chars with most new distinct words, and that count."""
    seen = seen or set()
    best_start, best_count = spans[0][0], -1
    for index, (start, _, _) in enumerate(spans):
        keys = {key for s, e, key in spans[index:] if e - start <= size} - seen
        if len(keys) > best_count:
            best_start, best_count = start, len(keys)
    return best_start, best_count


def _merge(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _word_bounds(text: str, start: int, size: int) -> tuple[int, int]:
    """Move a window of ``size`` chars from ``start`` onto word boundaries."""
    if start > 0 and not text[start - 1].isspace():
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 30 else start
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + size // 2 else end
    return start, end


def _fragment(text: str, spans: list[Span], start: int, end: int) -> str:
    inside = [(s - start, e - start, k) for s, e, k in spans if s >= start and e <= end]
    body = " ".join(text[start:end].split("\n"))
    html = highlight(body, inside)
    html = _SPACES.sub(" ", html)
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(text) else ""
    return f"{prefix}{html.strip()}{suffix}"
