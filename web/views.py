"""What the search page shows, computed from a ResultPage: facet entries, pages, links."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

from search import ResultPage

from .i18n import language_name
from .params import MAX_PAGE, SearchParams

MAX_SOURCES_SHOWN = 15
PAGE_WINDOW = 2
SAFE_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class FacetEntry:
    """One value of a facet: its label, count, whether it is selected, and its link."""

    value: str
    label: str
    count: int
    selected: bool
    url: str


@dataclass(frozen=True)
class PageLink:
    """One item of the pagination: a page number (with its link) or a gap (number 0)."""

    number: int
    url: str
    current: bool


def safe_url(url: str | None) -> str | None:
    """An http(s) URL as given, or None (a ``javascript:`` link never reaches a page)."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in SAFE_SCHEMES else None


def toggled(values: tuple[str, ...], value: str) -> tuple[str, ...]:
    """``values`` with ``value`` removed if present, else added."""
    return tuple(v for v in values if v != value) if value in values else values + (value,)


def lang_facet(page: ResultPage, params: SearchParams, ui: str,
               per_page: int) -> list[FacetEntry]:
    counts = _with_selected(page.facets.get("lang", {}), params.lang)
    return [FacetEntry(code, language_name(code, ui), count, code in params.lang,
                       params.url(per_page, lang=toggled(params.lang, code)))
            for code, count in counts.items()]


def source_facet(page: ResultPage, params: SearchParams, per_page: int) -> list[FacetEntry]:
    counts = _with_selected(page.facets.get("source", {}), params.source)
    shown = list(counts.items())[:MAX_SOURCES_SHOWN]
    shown += [(s, counts[s]) for s in params.source if s not in dict(shown)]
    return [FacetEntry(name, name, count, name in params.source,
                       params.url(per_page, source=toggled(params.source, name)))
            for name, count in shown]


def year_facet(page: ResultPage, params: SearchParams, per_page: int) -> list[FacetEntry]:
    """Years, newest first; choosing one sets from/to to that year, choosing it again clears."""
    years = sorted(((str(y), n) for y, n in page.facets.get("year", {}).items()), reverse=True)
    entries = []
    for year, count in years:
        if not year.isdigit():
            continue
        start, end = dt.date(int(year), 1, 1), dt.date(int(year), 12, 31)
        selected = params.date_from == start and params.date_to == end
        changes = {"date_from": None, "date_to": None} if selected else {
            "date_from": start, "date_to": end}
        entries.append(FacetEntry(year, year, count, selected, params.url(per_page, **changes)))
    return entries


def _with_selected(counts: dict[str, int], selected: tuple[str, ...]) -> dict[str, int]:
    """The facet counts, plus the selected values that no longer match anything (count 0)."""
    merged = {str(key): value for key, value in counts.items()}
    for value in selected:
        merged.setdefault(value, 0)
    return merged


def pagination(page: ResultPage, params: SearchParams, per_page: int) -> list[PageLink]:
    """Page 1, the pages around the current one, the last page, and gaps (number 0) between."""
    last = min(page.pages, MAX_PAGE)
    if last <= 1:
        return []
    current = params.page
    numbers = {1, last} | set(range(max(1, current - PAGE_WINDOW),
                                    min(last, current + PAGE_WINDOW) + 1))
    links: list[PageLink] = []
    previous = 0
    for number in sorted(numbers):
        if number - previous > 1:
            links.append(PageLink(0, "", False))
        links.append(PageLink(number, page_url(params, per_page, number), number == current))
        previous = number
    return links


def page_url(params: SearchParams, per_page: int, number: int) -> str:
    """The URL of page ``number`` of the same search."""
    return params.url(per_page, page=number)
