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

SCHEMA_VERSION = 2


_ONE = pack_uint(1)
_SINGLES = [pickle.dumps([position], 2) for position in range(4096)]


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
            return _ONE + _SINGLES[position]
        return _ONE + pickle.dumps(positions, 2)
    deltas = [b - a for a, b in zip([0, *positions], positions, strict=False)]
    return pack_uint(len(deltas)) + pickle.dumps(deltas, 2)


class PackedPostings(bytes):
    """A field's postings as :class:`AnalyzedText` indexes them, pickled once.

    Made in the worker that analyzed the article; the main process passes it
    on to a writer process as an opaque string, which costs a copy instead of
    unpickling and pickling again some 300 lists an article.
    """

    @classmethod
    def pack(cls, postings: dict[str, list[int]]) -> PackedPostings:
        """Pack ``{form: positions}``; forms sharing one positions list share its encoding.

        (:func:`search.analysis.index_terms` gives every form of a word the
        same list.) Shared bytes pickle once and unpickle as one object, which
        changes nothing downstream: a postings block holds one value per
        document of its term.
        """
        encoded: dict[int, bytes] = {}
        values = []
        for positions in postings.values():
            value = encoded.get(id(positions))
            if value is None:
                value = encoded[id(positions)] = encode_positions(positions)
            values.append(value)
        terms = tuple([form.encode("utf-8") for form in postings])
        freqs = tuple([len(positions) for positions in postings.values()])
        return cls(pickle.dumps((terms, freqs, tuple(values)), pickle.HIGHEST_PROTOCOL))

    def unpack(self) -> tuple[tuple[bytes, ...], tuple[int, ...], tuple[bytes, ...]]:
        """(term bytes, frequencies, encoded positions), in the order they were analyzed."""
        return pickle.loads(self)  # type: ignore[no-any-return]


class AnalyzedText(fields.TEXT):
    """A text field whose value arrives already analyzed.

    The value is ``{form: [positions]}`` from :func:`search.analysis.index_terms`
    or the same packed (:class:`PackedPostings`), so the analysis can run in
    worker processes and in the article's own language; a plain string is
    analyzed here without stemming.
    """

    def __init__(self) -> None:
        super().__init__(phrase=True, stored=True)

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        if isinstance(value, PackedPostings):
            terms, freqs, values = value.unpack()
            for term, freq, encoded in zip(terms, freqs, values, strict=True):
                yield term, freq, float(freq), encoded
            return
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


def packed_fields(analyzed: dict[str, dict[str, list[int]]]) -> dict[str, PackedPostings]:
    """The analyzed fields packed for another process (see :class:`PackedPostings`)."""
    return {name: PackedPostings.pack(postings) for name, postings in analyzed.items()}


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
