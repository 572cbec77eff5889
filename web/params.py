"""Search parameters from a query string, validated once for the API and the pages alike.

Every bad value raises ApiError(400, "invalid_parameter") naming the parameter;
nothing here lets a bad value reach the engine as a 500.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from .errors import ApiError

MAX_PER_PAGE = 100
MAX_PAGE = 1000
MAX_FILTER_VALUES = 20
MAX_FILTER_CHARS = 200
SORTS = ("relevance", "newest", "oldest")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class SearchParams:
    """One search request: the query, paging, filters, order and the two options."""

    q: str = ""
    page: int = 1
    per_page: int = 10
    lang: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "relevance"
    recency: bool = True
    expand: bool = False

    def engine_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``SearchEngine.search``."""
        return {
            "page": self.page,
            "per_page": self.per_page,
            "lang": list(self.lang) or None,
            "source": list(self.source) or None,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "sort": self.sort,
            "recency": self.recency,
            "expand_stories": self.expand,
        }

    def has_filters(self) -> bool:
        return bool(self.lang or self.source or self.date_from or self.date_to)

    def pairs(self, default_per_page: int = 10) -> list[tuple[str, str]]:
        """The non-default parameters as query-string pairs, in a stable order."""
        pairs: list[tuple[str, str]] = [("q", self.q)] if self.q else []
        pairs += [("lang", value) for value in self.lang]
        pairs += [("source", value) for value in self.source]
        if self.date_from:
            pairs.append(("from", self.date_from.isoformat()))
        if self.date_to:
            pairs.append(("to", self.date_to.isoformat()))
        if self.sort != "relevance":
            pairs.append(("sort", self.sort))
        if self.per_page != default_per_page:
            pairs.append(("per_page", str(self.per_page)))
        if not self.recency:
            pairs.append(("recency", "0"))
        if self.expand:
            pairs.append(("expand", "1"))
        if self.page != 1:
            pairs.append(("page", str(self.page)))
        return pairs

    def url(self, default_per_page: int = 10, **changes: Any) -> str:
        """The search page URL of these parameters with ``changes`` (page resets to 1)."""
        changed = replace(self, **{"page": 1, **changes})
        query = urlencode(changed.pairs(default_per_page))
        return "/?" + query if query else "/"


def invalid(name: str, message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", f"{name}: {message}")


def parse_int(
    args: MultiDict[str, str], name: str, default: int, low: int, high: int | None = None
) -> int:
    """A whole number between ``low`` and ``high`` (no bound: None); empty means ``default``."""
    raw = args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, f"{raw[:20]!r} is not a whole number") from None
    if high is None and value < low:
        raise invalid(name, f"must be at least {low}")
    if high is not None and not low <= value <= high:
        raise invalid(name, f"must be between {low} and {high}")
    return value


def parse_per_page(args: MultiDict[str, str], default: int) -> int:
    """Results per page, clamped to MAX_PER_PAGE (larger values are not an error)."""
    return min(parse_int(args, "per_page", default, 1), MAX_PER_PAGE)


def parse_list(args: MultiDict[str, str], name: str) -> tuple[str, ...]:
    """A repeatable, comma-separated parameter (``lang=fr&lang=en`` or ``lang=fr,en``)."""
    values: list[str] = []
    for raw in args.getlist(name):
        values += [part.strip() for part in raw.split(",") if part.strip()]
    if len(values) > MAX_FILTER_VALUES:
        raise invalid(name, f"at most {MAX_FILTER_VALUES} values")
    for value in values:
        if len(value) > MAX_FILTER_CHARS or not value.isprintable():
            raise invalid(name, "values must be printable and at most "
                                f"{MAX_FILTER_CHARS} characters")
    return tuple(dict.fromkeys(values))


def parse_date(args: MultiDict[str, str], name: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` date; empty means none."""
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise invalid(name, f"{raw[:30]!r} is not a date, use YYYY-MM-DD") from None


def parse_flag(args: MultiDict[str, str], name: str, default: bool) -> bool:
    """A yes/no parameter: 1/0, true/false, yes/no, on/off; empty means ``default``."""
    raw = args.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise invalid(name, "use 1 or 0")


def parse_query_text(args: MultiDict[str, str], max_chars: int) -> str:
    """The query text, at most ``max_chars`` characters (longer is a 400, not a truncation)."""
    text = args.get("q", "")
    if len(text) > max_chars:
        raise ApiError(400, "query_too_long", f"q: at most {max_chars} characters")
    return text.strip()


def parse_search(args: MultiDict[str, str], max_chars: int = 1000,
                 default_per_page: int = 10) -> SearchParams:
    """All search parameters. Raises ApiError (400) naming the first bad one."""
    sort = args.get("sort", "").strip() or "relevance"
    if sort not in SORTS:
        raise invalid("sort", f"must be one of {', '.join(SORTS)}")
    params = SearchParams(
        q=parse_query_text(args, max_chars),
        page=parse_int(args, "page", 1, 1, MAX_PAGE),
        per_page=parse_per_page(args, default_per_page),
        lang=tuple(value.lower() for value in parse_list(args, "lang")),
        source=parse_list(args, "source"),
        date_from=parse_date(args, "from"),
        date_to=parse_date(args, "to"),
        sort=sort,
        recency=parse_flag(args, "recency", True),
        expand=parse_flag(args, "expand", False),
    )
    if params.date_from and params.date_to and params.date_from > params.date_to:
        raise invalid("from", "must not be after to")
    return params
