"""The article record: one news article as the indexer produces it and the APIs return it."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

RECORD_FIELDS = ("id", "title", "body", "date", "source", "url", "lang")


class RecordError(ValueError):
    """A record that cannot become an article (missing title or body, bad date...)."""


@dataclass(frozen=True)
class Article:
    """One article. ``date`` is a ``datetime.date`` or None; ``lang`` an ISO 639-1 code or ""."""

    id: str
    title: str
    body: str
    date: dt.date | None = None
    source: str = ""
    url: str = ""
    lang: str = ""
    story: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (date as ``YYYY-MM-DD`` or null)."""
        data = asdict(self)
        data["date"] = self.date.isoformat() if self.date else None
        data["story"] = self.story or self.id
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Article:
        """Build an article from a JSON record, validating it.

        Raises RecordError when the record is not an object, lacks a title or a
        body, or has fields of the wrong type or a date that does not parse.
        """
        if not isinstance(data, dict):
            raise RecordError(f"a record must be a JSON object, not {type(data).__name__}")
        values = {name: _text_field(data, name) for name in RECORD_FIELDS if name != "date"}
        if not values["title"].strip():
            raise RecordError("record has no title")
        if not values["body"].strip():
            raise RecordError("record has no body")
        date = parse_date(data.get("date"))
        article_id = values["id"].strip() or make_id(
            values["url"], values["source"], values["title"], date
        )
        return cls(
            id=article_id,
            title=values["title"].strip(),
            body=values["body"].strip(),
            date=date,
            source=values["source"].strip(),
            url=values["url"].strip(),
            lang=values["lang"].strip().lower(),
        )


def _text_field(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and name == "id":
        return str(value)
    if not isinstance(value, str):
        raise RecordError(f"field {name!r} must be a string, not {type(value).__name__}")
    return value


def parse_date(value: Any) -> dt.date | None:
    """Parse ``YYYY-MM-DD`` or an ISO 8601 datetime into a date; None stays None.

    Raises RecordError for anything else.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise RecordError(f"date must be a string, not {type(value).__name__}")
    text = value.strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise RecordError(f"date {value!r} is not YYYY-MM-DD or ISO 8601") from None


def make_id(url: str, source: str, title: str, date: dt.date | None) -> str:
    """A stable id: a hash of the url, else of source, title and date."""
    key = url.strip() or "\x1f".join(
        [source.strip(), title.strip(), date.isoformat() if date else ""]
    )
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
