"""The index schema and how an article becomes a Whoosh document."""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterator, Mapping
from typing import Any

from whoosh import fields
from whoosh.system import pack_uint

from .analysis import fold, index_terms
from .records import Article

SCHEMA_VERSION = 3  # 3: French stems are stemmed from the word's lemma (analysis.lemma)


COUNT_ONE = pack_uint(1)  # an encoded positions list of one position: this, then its pickle
SINGLE_PICKLES = [pickle.dumps([position], 2) for position in range(4096)]


def encode_positions(positions: list[int]) -> bytes:
    """The bytes ``whoosh.formats.Positions.encode`` makes of a positions list, faster.

    A count, then the pickled deltas. Most postings of a document have one
    position, whose pickle is taken from a table (and copied by the
    concatenation: equal values stay distinct objects, as Whoosh's are, so the
    pickled postings blocks are byte for byte the same).
    """
    if len(positions) == 1:
        position = positions[0]
        if 0 <= position < 4096:
            return COUNT_ONE + SINGLE_PICKLES[position]
        return COUNT_ONE + pickle.dumps(positions, 2)
    deltas = [b - a for a, b in zip([0, *positions], positions, strict=False)]
    return pack_uint(len(deltas)) + pickle.dumps(deltas, 2)


class AnalyzedText(fields.TEXT):
    """A text field whose value arrives already analyzed.

    The value is ``{form: [positions]}`` from :func:`search.analysis.index_terms`,
    so the analysis can run in worker processes and in the article's own
    language; a plain string is analyzed here without stemming.
    """

    def __init__(self) -> None:
        super().__init__(phrase=True, stored=True)

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        postings = value if isinstance(value, dict) else index_terms(str(value), "")
        for form, positions in postings.items():
            count = len(positions)
            yield form.encode("utf-8"), count, float(count), encode_positions(positions)


def build_schema() -> fields.Schema:
    """The schema of a Kiosque index (version :data:`SCHEMA_VERSION`)."""
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=AnalyzedText(),
        body=AnalyzedText(),
        lang=fields.ID(stored=True, sortable=True),
        source=fields.ID(stored=True, sortable=True),
        source_key=fields.ID(),
        date=fields.STORED(),
        day=fields.NUMERIC(int, bits=32, sortable=True, signed=False),
        year=fields.ID(sortable=True),
        month=fields.ID(sortable=True),
        url=fields.STORED(),
        story=fields.ID(stored=True, sortable=True),
        url_key=fields.ID(),
        fingerprint=fields.ID(),
        simhash=fields.STORED(),
        simbands=fields.KEYWORD(),
        origin=fields.ID(stored=True),
    )


def analyzed_fields(
    article: Article, body: dict[str, list[int]] | None = None
) -> dict[str, dict[str, list[int]]]:
    """The analyzed title and body of an article, in its language (picklable, for workers).

    ``body``: the body's ``index_terms`` when the caller has them already.
    """
    return {
        "title": index_terms(article.title, article.lang),
        "body": body if body is not None else index_terms(article.body, article.lang),
    }


def to_document(
    article: Article, analyzed: Mapping[str, Any] | None = None, fingerprint: str | None = None
) -> dict[str, Any]:
    """The Whoosh document of an article: analyzed fields plus stored originals.

    ``fingerprint``: its :func:`content_fingerprint` when the caller has it already.
    """
    analyzed = analyzed if analyzed is not None else analyzed_fields(article)
    doc: dict[str, Any] = {
        "id": article.id,
        "title": analyzed["title"],
        "_stored_title": article.title,
        "body": analyzed["body"],
        "_stored_body": article.body,
        "lang": article.lang or "",
        "source": article.source or "",
        "source_key": source_key(article.source),
        "url": article.url,
        "story": article.story or article.id,
        "fingerprint": fingerprint or content_fingerprint(article),
    }
    if article.url.strip():
        doc["url_key"] = article.url.strip()
    if article.date:
        doc.update(
            date=article.date.isoformat(),
            day=int(article.date.strftime("%Y%m%d")),
            year=f"{article.date.year:04d}",
            month=article.date.strftime("%Y-%m"),
        )
    return doc


def content_fingerprint(article: Article) -> str:
    """A hash of the normalized title and body: the same article saved twice has the same one."""
    text = (
        " ".join(article.title.casefold().split())
        + "\n"
        + " ".join(article.body.casefold().split())
    )
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def source_key(source: str) -> str:
    """A source name folded for matching: ``Le Matin`` and ``le matin`` are one source."""
    return " ".join(fold(source).split())
