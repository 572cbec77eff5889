"""What a search returns: frozen values that the JSON API serializes as they are."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


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
            "facets": self.facets,
        }
