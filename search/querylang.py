"""The query language, parsed leniently into plain data.

Words, "phrases" and « guillemets », ``-word``, ``OR``/``OU``, ``AND``/``ET``,
``NOT``/``SAUF``, ``title:``, ``source:``, ``lang:``, ``date:`` (``2022``,
``2022-04``, ``2022-04-01..2022-05-15``, ``>2021``, ``<2020-06``),
``prefix*`` and ``fuzzy~``. Nothing here raises: what does not parse is
kept as words. Operators must be written in capitals, so a question that
contains "et" or "or" in lowercase stays a question.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from enum import Enum

MAX_QUERY_CHARS = 1000
MAX_CLAUSES = 200  # syntax only; search/querybuild.py bounds the words actually searched
MAX_EXPANDED_CLAUSES = 8  # prefix and fuzzy clauses; later ones are searched as plain words
MAX_FUZZY_CHARS = 32  # a longer word is not a typo: searched as written
MAX_FUZZY_DISTANCE = 2  # as Lucene: ~3 and more mean ~2 (more matches almost any short word)
MAX_PHRASE_WORDS = 16  # a longer phrase is searched for its first 16 words


class Occur(Enum):
    SHOULD = "should"
    MUST = "must"
    MUST_NOT = "must_not"


@dataclass(frozen=True)
class Clause:
    """One searchable part of a query.

    ``kind`` is ``word``, ``phrase``, ``prefix`` or ``fuzzy``; ``field`` is
    None (title and body) or ``title``.
    """

    kind: str
    text: str
    occur: Occur = Occur.SHOULD
    field: str | None = None
    distance: int = 1


@dataclass(frozen=True)
class ParsedQuery:
    """A query split into searchable clauses and filters."""

    clauses: tuple[Clause, ...] = ()
    langs: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    excluded_langs: tuple[str, ...] = ()
    excluded_sources: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @property
    def positive(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if c.occur is not Occur.MUST_NOT)


_TOKEN_RE = re.compile(
    r"""(?P<neg>[-−])?
        (?:(?P<field>[A-Za-z]+):)?
        (?:"(?P<dq>[^"]*)"?|«\s*(?P<gq>[^»]*)»?|“(?P<cq>[^”]*)”?|(?P<word>[^\s"«“]+))""",
    re.VERBOSE,
)
_OPERATORS = {"OR": "or", "OU": "or", "AND": "and", "ET": "and", "NOT": "not", "SAUF": "not"}
_FUZZY_RE = re.compile(r"^(?P<word>.+?)~(?P<dist>\d{1,3})?$")
_FIELDS = {"title", "titre", "source", "lang", "langue", "date"}


def parse_query(text: str) -> ParsedQuery:
    """Parse a query string; never raises."""
    builder = _Builder()
    for match in _TOKEN_RE.finditer(text[:MAX_QUERY_CHARS]):
        builder.add(match)
    return builder.result()


class _Builder:
    """Accumulates clauses while reading tokens left to right."""

    def __init__(self) -> None:
        self.clauses: list[Clause] = []
        self.expanded = 0
        self.pending_not = False
        self.pending_and = False
        self.filters: dict[str, list[str]] = {
            "langs": [],
            "sources": [],
            "excluded_langs": [],
            "excluded_sources": [],
        }
        self.date_from: dt.date | None = None
        self.date_to: dt.date | None = None

    def add(self, match: re.Match[str]) -> None:
        word = match.group("word")
        if word is not None and match.group("field") is None and not match.group("neg"):
            operator = _OPERATORS.get(word)
            if operator:
                self._operator(operator)
                return
        negated = bool(match.group("neg")) or self.pending_not
        self.pending_not = False
        fieldname = (match.group("field") or "").lower()
        phrase = next(
            (g for g in (match.group("dq"), match.group("gq"), match.group("cq")) if g is not None),
            None,
        )
        if fieldname and fieldname not in _FIELDS:
            # "Paris:" or "http://..." are words, not fields
            self._clause("word", match.group(0).lstrip("-−"), negated, None)
            return
        if fieldname in ("lang", "langue", "source", "date"):
            self._filter(fieldname, phrase if phrase is not None else word or "", negated)
            return
        target = "title" if fieldname in ("title", "titre") else None
        if phrase is not None:
            self._clause("phrase", phrase, negated, target)
        elif word:
            self._word(word, negated, target)

    def _operator(self, operator: str) -> None:
        if operator == "not":
            self.pending_not = True
        elif operator == "and":
            self.pending_and = True
            if self.clauses and self.clauses[-1].occur is Occur.SHOULD:
                last = self.clauses[-1]
                self.clauses[-1] = Clause(
                    last.kind, last.text, Occur.MUST, last.field, last.distance
                )
        # OR is the default combination: nothing to do

    def _word(self, word: str, negated: bool, target: str | None) -> None:
        expandable = self.expanded < MAX_EXPANDED_CLAUSES
        fuzzy = _FUZZY_RE.match(word)
        if fuzzy and any(ch.isalnum() for ch in fuzzy.group("word")):
            distance = min(int(fuzzy.group("dist") or 1), MAX_FUZZY_DISTANCE)
            if expandable and distance and len(fuzzy.group("word")) <= MAX_FUZZY_CHARS:
                self._clause("fuzzy", fuzzy.group("word"), negated, target, distance)
            else:
                self._clause("word", fuzzy.group("word"), negated, target)
        elif word.endswith("*") and len(word.rstrip("*")) >= 2:
            self._clause("prefix" if expandable else "word", word.rstrip("*"), negated, target)
        else:
            self._clause("word", word, negated, target)

    def _clause(
        self, kind: str, text: str, negated: bool, target: str | None, distance: int = 1
    ) -> None:
        text = text.strip().strip("*?~")
        if not any(ch.isalnum() for ch in text) or len(self.clauses) >= MAX_CLAUSES:
            return
        if kind == "phrase":
            text = " ".join(text.split()[:MAX_PHRASE_WORDS])
        if negated:
            occur = Occur.MUST_NOT
        elif self.pending_and:
            occur = Occur.MUST
        else:
            occur = Occur.SHOULD
        self.pending_and = False
        clause = Clause(kind, text, occur, target, distance)
        if clause in self.clauses:  # "x x x ..." costs as much as x alone
            return
        self.expanded += kind in ("prefix", "fuzzy")
        self.clauses.append(clause)

    def _filter(self, fieldname: str, value: str, negated: bool) -> None:
        value = value.strip()
        if not value:
            return
        if fieldname == "date":
            self._date(value)
        elif fieldname in ("lang", "langue"):
            key = "excluded_langs" if negated else "langs"
            self.filters[key].append(value.lower()[:8])
        else:
            key = "excluded_sources" if negated else "sources"
            self.filters[key].append(value)

    def _date(self, value: str) -> None:
        start, end = parse_date_range(value)
        if start is None and end is None:
            self._clause("word", value, False, None)
            return
        if start:
            self.date_from = max(start, self.date_from) if self.date_from else start
        if end:
            self.date_to = min(end, self.date_to) if self.date_to else end

    def result(self) -> ParsedQuery:
        return ParsedQuery(
            clauses=tuple(self.clauses),
            langs=tuple(self.filters["langs"]),
            sources=tuple(self.filters["sources"]),
            excluded_langs=tuple(self.filters["excluded_langs"]),
            excluded_sources=tuple(self.filters["excluded_sources"]),
            date_from=self.date_from,
            date_to=self.date_to,
        )


_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")


def partial_date_bounds(text: str) -> tuple[dt.date, dt.date] | None:
    """The first and last day of ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; None if invalid."""
    match = _PARTIAL_DATE.match(text.strip())
    if not match:
        return None
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    try:
        if month is None:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        if day is None:
            last = calendar.monthrange(year, month)[1]
            return dt.date(year, month, 1), dt.date(year, month, last)
        exact = dt.date(year, month, day)
    except ValueError:
        return None
    return exact, exact


def parse_date_range(value: str) -> tuple[dt.date | None, dt.date | None]:
    """Read ``2022``, ``2022-04``, ``a..b``, ``>2021``, ``>=2021``, ``<2020-06``, ``<=...``."""
    value = value.strip()
    if ".." in value:
        left, _, right = value.partition("..")
        low = partial_date_bounds(left) if left else None
        high = partial_date_bounds(right) if right else None
        return (low[0] if low else None), (high[1] if high else None)
    for prefix in (">=", "<=", ">", "<"):
        if value.startswith(prefix):
            bounds = partial_date_bounds(value[len(prefix) :])
            if bounds is None:
                return None, None
            try:
                if prefix == ">":
                    return bounds[1] + dt.timedelta(days=1), None
                if prefix == "<":
                    return None, bounds[0] - dt.timedelta(days=1)
            except OverflowError:  # after 9999-12-31 or before 0001-01-01: not a date
                return None, None
            if prefix == ">=":
                return bounds[0], None
            return None, bounds[1]
    bounds = partial_date_bounds(value)
    return bounds if bounds else (None, None)
