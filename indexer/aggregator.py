"""Pages saved from the news aggregator (maghress and its sister sites), as text.

The layout, from ``shared/samples/maghress/seed-page.txt``::

    <ticker: other articles' headlines, separated by 4 spaces or 4 no-break spaces>
    Merci d'avoir signalé!
    Cette image sera automatiquement bloquée après qu'elle soit signalée par ...
    <title>
    Publié dans <source> le DD - MM - YYYY
    <body: one paragraph or subheading a line, with "Lire aussi: ..." cross-links>
    Cliquez ici pour lire l'article depuis sa source.

The ticker's headlines belong to other articles: they must never reach the
title or the body. A page without the "Publié dans" line is read as a plain
article, after dropping the ticker and the boilerplate above its title.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .plaintext import clean_line, join_paragraphs, parse_plain_article

MIN_TICKER_ITEMS = 3

_TICKER_SEPARATOR = re.compile(r"[ \u00a0]{4,}")
_BYLINE = re.compile(
    r"^Publi[ée] dans (?P<source>.+?) le "
    r"(?P<day>\d{1,2}) ?[-/.] ?(?P<month>\d{1,2}) ?[-/.] ?(?P<year>\d{4})$",
    re.IGNORECASE,
)
_BOILERPLATE = re.compile(
    r"^(?:Merci d['’]avoir signalé ?!?|Cette image sera automatiquement bloquée\b.*)$",
    re.IGNORECASE,
)
_CLOSING = re.compile(r"^Cliquez ici pour lire l['’]article depuis sa source\b", re.IGNORECASE)
_CROSS_LINK = re.compile(
    r"^(?:(?:[àa] )?(?:lire|lisez) (?:aussi|également)(?: ?:|\b)|(?:read also|see also) ?:)",
    re.IGNORECASE,
)


def ticker_items(line: str) -> list[str]:
    """The headlines of a ticker line (items with letters between runs of 4+ spaces)."""
    items = (clean_line(item) for item in _TICKER_SEPARATOR.split(line))
    return [item for item in items if any(char.isalpha() for char in item)]


def is_ticker_line(line: str) -> bool:
    """A line of at least three items separated by four (no-break) spaces."""
    return len(ticker_items(line)) >= MIN_TICKER_ITEMS


def parse_page(text: str) -> dict[str, Any]:
    """A record (title, body, source, date) from a saved ``.txt`` page.

    Pages with a "Publié dans" line are read in the aggregator's layout;
    others as plain articles, without the ticker and boilerplate lines.
    """
    raw_lines = _until_closing(text.split("\n"))
    for index, raw in enumerate(raw_lines):
        byline = _BYLINE.match(clean_line(raw))
        if byline:
            return _parse_with_byline(raw_lines, index, byline)
    return _parse_without_byline(raw_lines)


def _parse_with_byline(lines: list[str], index: int, byline: re.Match[str]) -> dict[str, Any]:
    body = (clean_line(raw) for raw in lines[index + 1 :] if not _is_noise(raw))
    return {
        "title": _title_before(lines, index),
        "body": join_paragraphs(body),
        "source": byline["source"].strip(),
        "date": _date(byline),
    }


def _parse_without_byline(lines: list[str]) -> dict[str, Any]:
    """A plain article once the leading ticker and the boilerplate are gone."""
    kept: list[str] = []
    at_top = True
    for raw in lines:
        line = clean_line(raw)
        if _BOILERPLATE.match(line) or _CROSS_LINK.match(line) or (at_top and is_ticker_line(raw)):
            continue
        at_top = at_top and not line
        kept.append(raw)
    return parse_plain_article("\n".join(kept))


def _title_before(lines: list[str], index: int) -> str:
    """The nearest non-empty line above the byline, unless it is ticker or boilerplate."""
    for raw in reversed(lines[:index]):
        line = clean_line(raw)
        if line:
            return "" if _BOILERPLATE.match(line) or is_ticker_line(raw) else line
    return ""


def _is_noise(raw: str) -> bool:
    """Boilerplate, a cross-link or a ticker line (tested on the raw line: its separators count)."""
    line = clean_line(raw)
    return bool(_BOILERPLATE.match(line) or _CROSS_LINK.match(line)) or is_ticker_line(raw)


def _until_closing(lines: list[str]) -> list[str]:
    """The lines before the closing "Cliquez ici..." line (what follows is the site's footer)."""
    for index, line in enumerate(lines):
        if _CLOSING.match(clean_line(line)):
            return lines[:index]
    return lines


def _date(byline: re.Match[str]) -> dt.date | None:
    try:
        return dt.date(int(byline["year"]), int(byline["month"]), int(byline["day"]))
    except ValueError:
        return None
