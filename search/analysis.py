"""Text analysis: one definition serves indexing, querying and highlighting.

A word of text becomes several *forms*, all indexed at the same position of
one field, so that a query can prefer what the user typed:

* the **folded** form: NFKC, lowercased, one apostrophe, Latin letters
  stripped of accents and ligatures (``élection`` -> ``election``, ``cœur``
  -> ``coeur``); other scripts keep their letters (Arabic loses only its
  optional marks, and its alef/yeh/teh marbuta variants are unified);
* the **exact** form: the folded form, a separator, and the lowercased word
  as written (``election\\x1félection``), so that every way of writing a
  folded word sits next to it in the term list;
* the **stemmed** form, in the article's language: the Snowball (or ISRI)
  stem of the folded word, tagged with the language (``fr:elect``). Stop
  words, numbers and words without letters get no stemmed form, but keep
  their position, so phrases across them still match.

Tokens are cut from the original text, whatever its normalization, so that
``start``/``end`` always index the stored string (highlighting relies on it).
Besides the words (one position each), a text yields *aliases* at the
position of their first word: a hyphenated word joined (``e-mail`` ->
``email``), a number written in groups (``1 000`` -> ``1000``, ``3,5`` ->
``3.5``), a time (``12 h 30`` -> ``12h30``). Dotted acronyms are one word
(``O.N.U.`` -> ``ONU``). French elisions are cut off (``l'armée`` ->
``armée``); ``aujourd'hui`` stays whole.

Folding happens before stemming: measured, stemming first lets an
accent-less query miss a fifth of accented occurrences (``securite`` stems
to ``securit`` but ``sécurité`` to ``secur``); tests/test_analysis.py keeps
that choice honest.
"""

from __future__ import annotations

import re
import sys
import threading
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from functools import cache, partial, wraps
from itertools import count, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from unidecode import unidecode

from .cache import BoundedDict
from .lemmas import lemma_table

__all__ = [
    "APOSTROPHES",
    "EXACT_SEPARATOR",
    "STEMMED_LANGUAGES",
    "STEM_SEPARATOR",
    "Token",
    "analyze",
    "exact_form",
    "fold",
    "folded_words",
    "grouped_numbers",
    "IndexedText",
    "index_terms",
    "indexed_text",
    "is_latin",
    "is_query_stopword",
    "is_stopword",
    "keeps_accents",
    "lower_form",
    "piece_matches",
    "pieces",
    "query_languages",
    "script_of",
    "stem",
    "stem_form",
    "stopwords",
    "token_forms",
    "tokenize",
    "limit_caches",
]

EXACT_SEPARATOR = "\x1f"
STEM_SEPARATOR = ":"
STEMMED_LANGUAGES = ("fr", "en", "es", "ar")
_JOIN_STOP_LANGUAGES = ("fr", "en")
DATA_DIR = Path(__file__).parent / "data"

APOSTROPHES = "'’‘ʼ´`"
_HYPHENS = "-\u2010\u2011"
_INVISIBLE = "\u00ad\u200c\u200d\u2060"  # soft hyphen, zero-width (non-)joiners, word joiner
_MARKS = (
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"  # combining accents
    "\u0610-\u061a\u064b-\u065f\u0670"  # Arabic harakat and Quranic marks
)
_LETTER = r"[^\W_]"
# A letter, then letters and marks: ``{_LETTER}(?:{_LETTER}|[marks])*`` unrolled into runs of
# one character class each, possessive since nothing after a word can give it back (the same
# matches, faster).
_WORD = rf"{_LETTER}[^\W_]*+(?:[{_MARKS}{_INVISIBLE}]++[^\W_]*+)*+"
_APOSTROPHE_WORD = rf"{_WORD}(?:[{APOSTROPHES}]{_WORD})*"
_ELISIONS = "jusqu|lorsqu|puisqu|quoiqu|presqu|quelqu|qu|[lmtnsjdc]"
# Latin letters and digits whose folded form is never empty (checked by a test).
_PLAIN_CHARS = "0-9A-Za-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
# A word that is a whole token by itself: Latin letters and digits followed by nothing that
# could extend it (a letter, mark, apostrophe or hyphen), and not a letter before a dot (an
# acronym may start there). Tried first, it is what the full pattern would match there, with
# no elision and no acronym (tests/test_analysis.py checks the cases at its edges), and it
# is matched without trying those (96% of the words of news, 2.2x faster to scan).
_PLAIN = (
    rf"(?P<plain>[{_PLAIN_CHARS}](?:[{_PLAIN_CHARS}]++|(?!\.))"
    rf"(?![{_HYPHENS}\w{_MARKS}{_INVISIBLE}{APOSTROPHES}]))"
)
_TOKEN_RE = re.compile(
    rf"{_PLAIN}"
    rf"|(?P<elision>(?<!\w)(?i:{_ELISIONS})[{APOSTROPHES}](?={_LETTER}))?"
    rf"(?:(?P<acronym>(?<![\w.])[^\W\d_](?:\.[^\W\d_])+\.?(?!\w))"
    rf"|(?P<words>{_APOSTROPHE_WORD}(?:[{_HYPHENS}]{_APOSTROPHE_WORD})*))"
)
_PIECE_RE = re.compile(re.sub(r"\(\?P<\w+>", "(?:", _TOKEN_RE.pattern))  # findall: strings
_HYPHEN_RE = re.compile(f"[{_HYPHENS}]")
_SPACES = " \u00a0\u202f\u2009"
# Numbers and times start with their first digit, and what may not come before it is checked
# once it is read (``\d(?<![\w.,]\d)`` is ``(?<![\w.,])\d``): a pattern that starts with a
# character class lets the regex engine skip to the next digit (2.6x faster to scan).
_NUMBER_RE = re.compile(
    rf"(?P<int>\d(?<![\w.,]\d)(?:\d{{0,2}}(?:[{_SPACES}]\d{{3}})+|\d{{0,2}}(?:\.\d{{3}})+"
    rf"|\d{{0,2}}(?:,\d{{3}})+|\d*))(?:[.,](?P<dec>\d+))?(?!\w)"
)
_TIME_RE = re.compile(r"(?P<h>\d(?<![\w.,:]\d)\d?) ?[hH:] ?(?P<m>\d{2})(?![\w:])")
_APOSTROPHE_MAP = str.maketrans({char: "'" for char in APOSTROPHES} | {c: None for c in _INVISIBLE})
_COMBINING = re.compile(f"[{_MARKS}\u0640]")  # with Arabic tatweel
# Lucene's ArabicNormalizer: hamza-seated alefs -> alef, alef maksura -> yeh, teh marbuta -> heh.
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})


class Token(NamedTuple):
    """A word of the text: its text, where it is in the original string, and its position.

    ``alias`` tokens (a joined hyphenated word, a grouped number) share the
    position of their first word and span all of its words. (A named tuple:
    a text makes thousands of them, and a frozen dataclass is slower to build.)
    """

    text: str
    start: int
    end: int
    pos: int
    alias: bool = False


def tokenize(text: str) -> Iterator[Token]:
    """The words of a text, one position each (no aliases).

    An elided word starts after its elision, so a highlight falls on
    ``armée`` in ``l'armée``; an English possessive ends before its ``'s``.
    """
    yield from _word_tokens(*_word_lists(text))


def pieces(text: str) -> list[str]:
    """The stretches of text the tokenizer cuts words from (``l'armée``, ``porte-parole``,
    ``O.N.U.``), each of which gives the same tokens analyzed alone as inside the text."""
    return _PIECE_RE.findall(text)


def piece_matches(text: str) -> Iterator[re.Match[str]]:
    """:func:`pieces` with where each one is."""
    return _PIECE_RE.finditer(text)


def grouped_numbers(text: str) -> Iterator[tuple[str, int, int]]:
    """Numbers and times that may span several words (``1 000``, ``12 h 30``):
    (normalized text, start, end)."""
    for match, normalize in _grouped_number_matches(text):
        yield normalize(match), match.start(), match.end()


def _grouped_number_matches(text: str) -> Iterator[tuple[re.Match[str], Any]]:
    for regex, normalize in ((_NUMBER_RE, _number_text), (_TIME_RE, _time_text)):
        for match in regex.finditer(text):
            yield match, normalize


def analyze(text: str) -> list[Token]:
    """Every token of a text, words and aliases, in position order."""
    words, starts, ends = _word_lists(text)
    tokens = _word_tokens(words, starts, ends)
    aliases = _aliases(text, words, starts, ends)
    if not aliases:
        return tokens
    # After the word at its position, in start order (as _aliases gives them).
    merged: list[Token] = []
    done = 0
    for alias in aliases:
        merged += tokens[done : alias.pos + 1]
        merged.append(alias)
        done = alias.pos + 1
    merged += tokens[done:]
    return merged


def _word_tokens(words: list[str], starts: list[int], ends: list[int]) -> list[Token]:
    """The words as tokens, made with ``map`` (``Token(...)`` is a Python call a word)."""
    return list(map(_new_token, zip(words, starts, ends, count(), repeat(False))))


_new_token = partial(tuple.__new__, Token)


_MatchKey = tuple[str | None, str | None, str | None]
_Parts = tuple[tuple[str, int, int], ...]
MATCH_CACHE_SIZE = 200_000
_MATCH_PARTS: BoundedDict = BoundedDict(MATCH_CACHE_SIZE)  # words of a token match


def _word_lists(text: str) -> tuple[list[str], list[int], list[int]]:
    """The words of a text (what :func:`tokenize` yields) as three lists: texts, starts, ends.

    Most matches of the token pattern are plain words (its ``plain`` group): a word is
    the match itself, so the three lists are read from the matches without a Python
    step per word (``map`` over the match methods). The other matches are then replaced
    by their words: a match is fully described by its groups (elision, acronym, words),
    so the words it gives, with their offsets from the match's start, are computed once
    per distinct match and cached (:func:`_match_parts`). Lists, not ``Token`` objects:
    indexing needs the texts, and the offsets only where an alias may start.
    """
    matches = list(_TOKEN_RE.finditer(text))
    words: list[str] = list(map(_PLAIN_GROUP, matches))
    starts = list(map(_MATCH_START, matches))
    ends = list(map(_MATCH_END, matches))
    if None in words:
        _expand_matches(matches, words, starts, ends)
    return words, starts, ends


_PLAIN_GROUP = itemgetter(1)
_MATCH_START = re.Match.start
_MATCH_END = re.Match.end


def _expand_matches(
    matches: list[re.Match[str]], words: list[str], starts: list[int], ends: list[int]
) -> None:
    """Replace, in the three lists, each match that is not a plain word by its words."""
    others = []
    index = words.index(None)  # type: ignore[arg-type]
    try:
        while True:
            others.append(index)
            index = words.index(None, index + 1)  # type: ignore[arg-type]
    except ValueError:
        pass
    known = _MATCH_PARTS.get
    for index in reversed(others):  # from the end: the indexes before stay right
        match = matches[index]
        key = match.groups()[1:]
        parts = known(key)
        if parts is None:
            parts = _match_parts(key)
        offset = match.start()
        words[index : index + 1] = [word for word, _, _ in parts]
        starts[index : index + 1] = [offset + start for _, start, _ in parts]
        ends[index : index + 1] = [offset + end for _, _, end in parts]


def _match_parts(key: _MatchKey) -> _Parts:
    """The words of one match, with offsets from its start; cached (bounded)."""
    elision, acronym, text = key
    cursor = len(elision) if elision else 0
    if acronym is not None:
        found = [(acronym.replace(".", ""), cursor, cursor + len(acronym))]
    else:
        assert text is not None
        found = []
        for part in _HYPHEN_RE.split(text) if _HYPHEN_RE.search(text) else [text]:
            end = cursor + len(part)
            if len(part) > 3 and part[-2] in APOSTROPHES and part[-1] in "sS":  # Morocco's
                part = part[:-2]
            found.append((part, cursor, cursor + len(part)))
            cursor = end + 1
    # A lone tatweel folds to nothing: not a word.
    parts = tuple(item for item in found if item[0].isascii() or fold(item[0]))
    _MATCH_PARTS[key] = parts
    return parts


def _aliases(text: str, words: list[str], starts: list[int], ends: list[int]) -> list[Token]:
    """The alias tokens of a text, in the order :func:`analyze` puts them (position, start)."""
    aliases = _hyphen_aliases(text, words, starts, ends) + _number_aliases(text, starts, ends)
    aliases.sort(key=lambda token: (token.pos, token.start))
    return aliases


def _hyphen_aliases(
    text: str, words: list[str], starts: list[int], ends: list[int]
) -> list[Token]:
    """``porte-parole`` -> ``porteparole`` at the first part's position.

    Not for numbers alone (``2022-2023``), nor when a part is a stop word:
    nobody writes ``peuton`` or ``cessezlefeu``, and French questions are full
    of ``peut-on``, ``a-t-il``, whose joined form would only add weight.
    """
    aliases: list[Token] = []
    joins = _hyphen_joins(text, starts, ends)
    for first, last in _runs(joins):
        group = words[first : last + 2]
        if _joinable(group):
            aliases.append(Token("".join(group), starts[first], ends[last + 1], first, True))
    return aliases


def _hyphen_joins(text: str, starts: list[int], ends: list[int]) -> list[int]:
    """The positions of the words followed by a hyphen and, right after it, the next word.

    Found from the hyphens of the text (a few), not by looking between every two words.
    """
    joins = []
    for match in _HYPHEN_RE.finditer(text):
        after = match.end()
        pos = bisect_left(starts, after)
        if 0 < pos < len(starts) and starts[pos] == after and ends[pos - 1] == after - 1:
            joins.append(pos - 1)
    return joins


def _runs(numbers: list[int]) -> Iterator[tuple[int, int]]:
    """(first, last) of each run of consecutive integers of a sorted list."""
    if not numbers:
        return
    first = previous = numbers[0]
    for number in numbers[1:]:
        if number != previous + 1:
            yield first, previous
            first = number
        previous = number
    yield first, previous


def _joinable(parts: list[str]) -> bool:
    has_letter = any(char.isalpha() for part in parts for char in part)
    return has_letter and not any(is_stopword(part, _JOIN_STOP_LANGUAGES) for part in parts)


def _number_aliases(text: str, starts: list[int], ends: list[int]) -> list[Token]:
    """Numbers and times written over several words, as one normalized word."""
    aliases = []
    for match, normalize in _grouped_number_matches(text):
        start, end = match.span()
        pos = bisect_left(starts, start)
        if pos < len(starts) and starts[pos] == start and ends[pos] < end:
            aliases.append(Token(normalize(match), start, end, pos, True))
    return aliases


def _number_text(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group("int"))
    return digits + ("." + match.group("dec") if match.group("dec") else "")


def _time_text(match: re.Match[str]) -> str:
    return f"{int(match.group('h'))}h{match.group('m')}"


Result = TypeVar("Result")


class CacheInfo(NamedTuple):
    """What a word cache holds: entries now, its bound, and the calls it computed."""

    currsize: int
    maxsize: int
    misses: int


def _word_cache(max_words: int) -> Callable[[Callable[..., Result]], Any]:
    """Keep a word function's results in a :class:`BoundedDict` of ``max_words`` entries.

    Not ``functools.lru_cache``, whose bound is fixed once made: the bounds here suit
    indexing speed (200,000-500,000 words), and a server lowers them
    (:func:`limit_caches`) so that a full cache drops its oldest words a few at a time
    instead of being emptied whole (which made the server's heap swing). A hit is a
    Python call and a dict lookup: a search makes ~80 (cProfile), nothing measurable.
    """

    def decorate(function: Callable[..., Result]) -> Any:
        table: BoundedDict = BoundedDict(max_words)
        get = table.get
        missed = [0]

        if function.__code__.co_argcount == 1:
            def cached(word: Any) -> Result:
                found = get(word, _MISSING)
                if found is _MISSING:
                    missed[0] += 1
                    found = table[word] = function(word)
                return found  # type: ignore[return-value]
        else:
            def cached(*args: Any) -> Result:  # type: ignore[misc]
                found = get(args, _MISSING)
                if found is _MISSING:
                    missed[0] += 1
                    found = table[args] = function(*args)
                return found  # type: ignore[return-value]

        spread = cached if function.__code__.co_argcount == 1 else lambda key: cached(*key)

        def many(keys: Iterable[Any]) -> list[Result]:
            """The value of each key (a word, or a tuple of the arguments), the cached ones
            looked up in one pass (``map``, no Python step a word): what the indexing of a
            text asks for, thousands at a time. A cached None is asked for again (a call)."""
            keys = list(keys)
            found = list(map(get, keys))
            if None in found:
                found = [
                    value if value is not None else spread(key)
                    for key, value in zip(keys, found, strict=True)
                ]
            return found

        def cache_clear() -> None:
            table.clear()
            missed[0] = 0

        cached.many = many  # type: ignore[attr-defined]
        cached.table = table  # type: ignore[attr-defined]
        cached.cache_clear = cache_clear  # type: ignore[attr-defined]
        cached.cache_info = lambda: CacheInfo(len(table), table.max_entries,  # type: ignore[attr-defined]
                                              missed[0])
        return wraps(function)(cached)

    return decorate


_MISSING = object()


@_word_cache(200_000)
def lower_form(word: str) -> str:
    """A word as written, made comparable: NFKC, one apostrophe, no invisible marks, lowercase."""
    return unicodedata.normalize("NFKC", word.translate(_APOSTROPHE_MAP)).lower()


@_word_cache(200_000)
def fold(word: str) -> str:
    """The folded form: accents and ligatures stripped from Latin letters only.

    unidecode is right for Latin script but turns Arabic into Latin garbage
    and deletes Tifinagh, so other scripts keep their letters (Arabic loses
    its optional vowel marks and tatweel, and its letter variants are
    unified); decimal digits of any script become ASCII digits.
    """
    lowered = lower_form(word)
    if lowered.isascii():
        return lowered
    folded = "".join(_fold_char(char) for char in lowered)
    return _COMBINING.sub("", folded).translate(_ARABIC_LETTERS)


def _fold_char(char: str) -> str:
    if char.isascii():
        return char
    if char.isdecimal():
        return str(unicodedata.decimal(char))
    if not unicodedata.name(char, "").startswith("LATIN"):
        return char
    return unidecode(char).lower() or char


def exact_form(word: str) -> str | None:
    """The exact form of a word as written (folded form, separator, lowercased word).

    None when the word is written the way it folds (``election``): then its
    folded form is its exact form, and is not indexed twice.
    """
    lowered = lower_form(word)
    folded = fold(word)
    return None if lowered == folded else folded + EXACT_SEPARATOR + lowered


def keeps_accents(typed: str, written: str) -> bool:
    """True when ``written`` keeps every accented letter of ``typed`` (both lowercased).

    Users leave accents out far more often than they add wrong ones, so for
    the query ``côte`` the word ``côté`` (it has the typed ``ô``) is a closer
    match than ``cote``. Letters are compared in place when the lengths agree.
    """
    if len(typed) == len(written):
        return all(t == w or fold(t) == t for t, w in zip(typed, written, strict=True))
    accented = Counter(char for char in typed if fold(char) != char)
    return not accented - Counter(written)


def _load_stopwords(lang: str) -> frozenset[str]:
    path = DATA_DIR / f"stopwords-{lang}.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(
        lower_form(line.strip()) for line in lines if line.strip() and not line.startswith("#")
    )


@cache
def stopwords(lang: str) -> frozenset[str]:
    """The reviewed stop list of a language, as written (accents kept); empty if none."""
    if (DATA_DIR / f"stopwords-{lang}.txt").exists():
        return _load_stopwords(lang)
    return frozenset()


@cache
def _folded_stopwords(lang: str) -> frozenset[str]:
    return frozenset(fold(word) for word in stopwords(lang))


def _is_stop(word: str, lang: str) -> bool:
    """A stop word as written (``à``, ``été``) or typed without accents (``etait``).

    ``maïs`` is not ``mais``: an accent the writer typed keeps a word out of
    the list when the list does not have it with that accent.
    """
    lowered = lower_form(word)
    if lowered in stopwords(lang):
        return True
    return lowered == fold(word) and lowered in _folded_stopwords(lang)


def is_stopword(word: str, langs: tuple[str, ...]) -> bool:
    """True when a word is a stop word in any of the languages."""
    return any(_is_stop(word, lang) for lang in langs)


def is_query_stopword(word: str, langs: tuple[str, ...], previous: str | None = None) -> bool:
    """A stop word of a query, given the word before it (None for the first word).

    A capital letter after a word is the letter (``vitamine A``, ``plan B``),
    not the verb that starts ``A quelle date``; ``été`` after a form of avoir
    is the participle (``a été élu``), not the summer (``été 2023``).
    """
    if previous is not None and len(word) == 1 and word.isupper():
        return False
    if previous is not None and "fr" in langs and fold(word) == "ete":
        return fold(previous) in _AVOIR
    return is_stopword(word, langs) or _is_question_word(word, langs, previous is None)


# Question words the index keeps (they are not in the stop lists, so articles index them) but a
# query drops: a question's « quand » or « combien » says what kind of answer is wanted, and an
# article that happens to contain the word is no better an answer. Measured on the dev
# collections (bench/RESULTS.md, ## Relevance): PIAF MRR@10 +0.005, SQuAD +0.0015,
# service-public +0.014, CISI unchanged; « quoi » (« sur quoi », « à quoi »: 122 of 3,784 PIAF
# questions) PIAF +0.0004. A word in capitals stays (WHO, the organization).
_QUESTION_WORDS = {
    "fr": frozenset("quel quelle quels quelles quand combien pourquoi lequel laquelle "
                    "lesquels lesquelles quoi".split()),
    "en": frozenset({"who", "whose"}),
}
# Question words that are also content words of another language: dropped only where a
# question puts them, first (« Comment obtenir un passeport ? », but "public comment").
_LEADING_QUESTION_WORDS = {"fr": frozenset({"comment"})}


def _is_question_word(word: str, langs: tuple[str, ...], first: bool) -> bool:
    if len(word) > 1 and word.isupper():
        return False
    folded = fold(word)
    return any(
        folded in _QUESTION_WORDS.get(lang, ())
        or (first and folded in _LEADING_QUESTION_WORDS.get(lang, ()))
        for lang in langs
    )


_AVOIR = frozenset(
    "a ai as avons avez ont avait avais avaient avions aviez aura aurai auras aurons aurez "
    "auront aurait aurais auraient aurions auriez avoir ayant eut eu aie ait aient".split()
)


@cache
def _stemmer(lang: str) -> Any:
    _import_nltk_stemmers()
    if lang == "ar":
        from nltk.stem.isri import ISRIStemmer

        return ISRIStemmer()
    from nltk.stem.snowball import SnowballStemmer

    names = {"fr": "french", "en": "english", "es": "spanish"}
    return SnowballStemmer(names[lang])


_nltk_lock = threading.Lock()


def _import_nltk_stemmers() -> None:
    """Import NLTK's stemmers without scipy.

    ``import nltk`` imports its collocation statistics, which import
    ``scipy.stats`` when it is installed (it falls back to nothing without),
    which the stemmers never use. Measured in a web process: the first
    stemmed word cost +76 MB RSS and 2-3 s, +16 MB with scipy kept out.
    ``scipy`` (or ``scipy.stats``) is blocked only for the time of that
    import, and only if nobody imported it before; no Kiosque module
    imports scipy, and it imports normally afterwards.
    """
    with _nltk_lock:
        if "nltk.stem.snowball" in sys.modules and "nltk.stem.isri" in sys.modules:
            return
        blocked = next((name for name in ("scipy", "scipy.stats") if name not in sys.modules), None)
        if blocked:
            sys.modules[blocked] = None  # type: ignore[assignment]
        try:
            import nltk.stem.isri  # noqa: F401
            import nltk.stem.snowball  # noqa: F401
        finally:
            if blocked and sys.modules.get(blocked, False) is None:
                del sys.modules[blocked]


@_word_cache(400_000)
def stem(lang: str, folded: str) -> str:
    """The stem of a folded word in a language with a stemmer; cached (NLTK costs 10 µs a word)."""
    return _stemmer(lang).stem(folded)


def stem_form(lang: str, word: str) -> str | None:
    """The stemmed form of a word (stem of its folded form, tagged with the language).

    The stemmer must fit the word's script: a Latin word is stemmed in the
    article's language (fr, en, es), an Arabic word always with ISRI, even
    in a French article. None for a stop word, a word without letters, or a
    word no stemmer fits (Tifinagh, Cyrillic...).
    """
    lang = _stemming_language(word, lang)
    if lang is None or _is_stop(word, lang):
        return None
    folded = fold(word)
    return lang + STEM_SEPARATOR + stem(lang, lemma(lang, folded))


def load_stemmers() -> None:
    """Load every stemmer and lemma table now (NLTK's import, the lemma table's file: about
    a second; deriving the table the first time on a machine: seconds), so that a process
    about to fork shares them with its children instead of each paying for them."""
    for lang in STEMMED_LANGUAGES:
        stem(lang, "kiosque")
        lemma_table(lang)


def lemma(lang: str, folded: str) -> str:
    """The folded word to stem for a folded word: its lemma when the language's table
    (:mod:`search.lemmas`: « naquit » -> « naitre ») has one."""
    return lemma_table(lang).get(folded, folded)


def _stemming_language(word: str, lang: str) -> str | None:
    script = script_of(word)
    if script == "arabic":
        return "ar"
    if script == "latin" and lang in STEMMED_LANGUAGES and lang != "ar":
        return lang
    return None


@_word_cache(200_000)
def script_of(word: str) -> str | None:
    """``latin``, ``arabic`` or ``other`` after the letters of a word; None when it has none."""
    letters = [char for char in fold(word) if char.isalpha()]
    if not letters:
        return None
    if all(char.isascii() or unicodedata.name(char, "").startswith("LATIN") for char in letters):
        return "latin"
    if any(unicodedata.name(char, "").startswith("ARABIC") for char in letters):
        return "arabic"
    return "other"


@_word_cache(500_000)
def token_forms(word: str, lang: str) -> tuple[str, ...]:
    """Every indexed form of one word of an article in language ``lang``; cached."""
    forms = [fold(word)]
    exact = exact_form(word)
    if exact:
        forms.append(exact)
    stemmed = stem_form(lang, word)
    if stemmed:
        forms.append(stemmed)
    return tuple(forms)


WORD_CACHES = (lower_form, fold, stem, script_of, token_forms)


def limit_caches(max_words: int) -> None:
    """Hold the word caches and their token-match table to ``max_words`` entries each.

    Their own bounds (200,000-500,000 words) are chosen for indexing speed. A
    server that analyzes the stored text of every hit would fill them, in the
    long run, with the whole vocabulary of the corpus, at about 0.9 KB a
    distinct word across the five caches (measured): ~165 MB for the 26,000-
    article corpus. A server calls this to keep them bounded; once full, each
    drops its oldest words as new ones come (see :class:`BoundedDict`).
    """
    for table in (*(cached.table for cached in WORD_CACHES), _MATCH_PARTS):
        if table.max_entries != max_words:
            table.max_entries = max_words
            table.trim(max_words)


class IndexedText(NamedTuple):
    """:func:`index_terms` of a text with the words and aliases it was made of.

    ``words[pos]`` is the word at position ``pos``; ``aliases`` are in position
    order. (The near-duplicate hash reads the first words in order: taking them
    from here costs nothing, putting them back in order from the postings did.)
    """

    postings: dict[str, list[int]]
    words: list[str]
    aliases: list[Token]


def index_terms(text: str, lang: str) -> dict[str, list[int]]:
    """Every form of every token of a text, with the positions where it occurs.

    Forms appear in the order a walk through the tokens (:func:`analyze`)
    first meets them, and each form's positions are increasing. The walk is
    done a distinct word at a time, not a token at a time: a word's forms
    are looked up once and share one positions list (most words of an article
    occur more than once, and every word has up to three forms).
    """
    return indexed_text(text, lang).postings


def indexed_text(text: str, lang: str) -> IndexedText:
    """:func:`index_terms` with the words and aliases of the text (see :class:`IndexedText`)."""
    words, starts, ends = _word_lists(text)
    occurrences = _occurrences(words)
    pairs = list(zip(_token_forms_of(occurrences, lang), occurrences.values(), strict=True))
    aliases = _aliases(text, words, starts, ends)
    postings: dict[str, list[int]] = {}
    if not aliases:
        _add_forms(postings, pairs)
        return IndexedText(postings, words, aliases)
    # An alias comes after the words first met at or before its position.
    firsts = [positions[0] for positions in occurrences.values()]
    done = 0
    for alias in aliases:
        until = bisect_right(firsts, alias.pos)
        _add_forms(postings, pairs[done:until])
        _add_forms(postings, [(token_forms(alias.text, lang), [alias.pos])])
        done = until
    _add_forms(postings, pairs[done:])
    return IndexedText(postings, words, aliases)


def _occurrences(words: list[str]) -> dict[str, list[int]]:
    """The positions of each distinct word, in the order the words are first met.

    (The lists are filled by ``map`` over ``list.append``, without a Python step per word.)
    """
    occurrences: dict[str, list[int]] = {word: [] for word in dict.fromkeys(words)}
    any(map(list.append, map(occurrences.__getitem__, words), range(len(words))))  # all None
    return occurrences


def _token_forms_of(words: Iterable[str], lang: str) -> list[tuple[str, ...]]:
    """:func:`token_forms` of each word, the cached ones looked up in one pass."""
    return token_forms.many(zip(words, repeat(lang)))  # type: ignore[no-any-return]


def folded_words(words: Iterable[str]) -> list[str]:
    """:func:`fold` of each word, the cached ones looked up in one pass."""
    return fold.many(words)  # type: ignore[no-any-return]


def _add_forms(
    postings: dict[str, list[int]], pairs: Iterable[tuple[tuple[str, ...], list[int]]]
) -> None:
    """Add each (forms, positions) pair: positions to each form (the lists are shared by the
    forms of a word, so never changed in place)."""
    setdefault = postings.setdefault
    for forms, positions in pairs:
        for form in forms:
            known = setdefault(form, positions)
            if known is positions:  # a new form (a word's forms are distinct)
                continue
            if known[-1] < positions[0]:
                postings[form] = known + positions
            else:
                postings[form] = sorted(set(known).union(positions))


def is_latin(word: str) -> bool:
    """True when a word has no letter outside the Latin script (digits count as Latin)."""
    return script_of(word) in ("latin", None)


def query_languages(word: str, langs: tuple[str, ...]) -> tuple[str, ...]:
    """The stemming languages whose stems a query word may match.

    A Latin word: every chosen language with a Latin stemmer (French and
    English together unless the user filtered). An Arabic word: ``ar``,
    since Arabic words are stemmed with ISRI in articles of any language.
    """
    script = script_of(word)
    if script == "arabic":
        return ("ar",)
    if script == "latin":
        return tuple(lang for lang in langs if lang != "ar")
    return ()
