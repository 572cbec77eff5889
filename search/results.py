"""What a search returns: frozen values that the JSON API serializes as they are."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, NoReturn


@dataclass(frozen=True)
class StoryMember:
    """Another article of the same story, republished by another source."""

    id: str
    title: str
    source: str
    date: dt.date | None
    url: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "date": self.date.isoformat() if self.date else None,
            "url": self.url,
        }


@dataclass(frozen=True)
class Hit:
    """One ranked article, with its title and snippet highlighted for the query."""

    id: str
    title: str
    title_html: str
    snippet_html: str
    source: str
    date: dt.date | None
    lang: str
    url: str
    score: float
    story: tuple[StoryMember, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "title_html": self.title_html,
            "snippet_html": self.snippet_html,
            "source": self.source,
            "date": self.date.isoformat() if self.date else None,
            "lang": self.lang,
            "url": self.url,
            "score": round(self.score, 4),
            "story": [member.to_dict() for member in self.story],
        }


class ReadOnlyDict(dict):  # type: ignore[type-arg]
    """A dict that refuses changes: the facets of a page that may be shared (the engine's
    result cache hands the same page to every caller). Still a dict for JSON and templates."""

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("the facets of a result page are read-only; copy them with dict()")

    __setitem__ = __delitem__ = __ior__ = _refuse  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (ReadOnlyDict, (dict(self),))


def read_only(facets: dict[str, dict[str, int]]) -> ReadOnlyDict:
    """``facets`` (a dict of dicts) as read-only dicts, outer and inner."""
    if isinstance(facets, ReadOnlyDict):
        return facets
    return ReadOnlyDict({name: ReadOnlyDict(counts) for name, counts in facets.items()})


@dataclass(frozen=True)
class ResultPage:
    """One page of results, with the total, facets and a "did you mean"."""

    query: str
    total: int
    page: int
    per_page: int
    hits: tuple[Hit, ...]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    suggestion: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "facets", read_only(self.facets))

    @property
    def pages(self) -> int:
        """How many pages the total fills."""
        return max(1, -(-self.total // self.per_page))

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "suggestion": self.suggestion,
            "hits": [hit.to_dict() for hit in self.hits],
            "facets": {name: dict(counts) for name, counts in self.facets.items()},
        }

    def to_json(self) -> bytes:
        """``to_dict()`` as compact UTF-8 JSON ending in a newline: what ``GET /api/search``
        sends (Flask's ``jsonify`` with ``ensure_ascii=False``, unsorted keys).

        Made once and kept on the page (outside its fields: equality and
        ``replace`` ignore it). The result cache hands the same page to every
        request that repeats it, so a cache hit sends bytes already made, and
        they leave with the page; building and encoding the dict cost more
        than the rest of a hit.
        """
        data: bytes | None = self.__dict__.get(_JSON)
        if data is None:
            data = _json_line(self.to_dict())
            object.__setattr__(self, _JSON, data)  # the same bytes whichever thread wins
        return data


def _json_line(value: Any) -> bytes:
    """Compact UTF-8 JSON and a newline; a lone surrogate (only a Python caller's query
    text can hold one: stored text is cleaned) cannot be UTF-8, so that value is sent
    with ``\\u`` escapes instead, which decode to the same strings."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(value, separators=(",", ":")) + "\n").encode("ascii")


_JSON = "_json"
