"""Fixes of whoosh-reloaded 2.7.5 bugs, in one place, and the codec Kiosque writes with.

Applied by :func:`apply` (idempotent; called on import of this module):

* ``W3PostingsWriter.finish_postings`` calls ``terminfo.set_inline``, but the
  method is named ``set_inlined``: any ``W3Codec(inlinelimit > 1)`` raised
  ``AttributeError`` at commit. The alias makes inlined postings work (the
  reading side was already right: ``W3TermInfo.from_bytes`` and
  ``W3Codec.postings_reader`` handle them).
* ``SegmentWriter._flush_segment`` looks up each posting's field length in
  the lengths column it has just written, one small file read per posting
  (a quarter of commit time). :class:`_MemoryLengths` reads each column once.
* ``MultiReader.column_reader`` skips the segments without a column file for
  the field (a segment where no document had a date has no ``year`` column),
  so its document offsets no longer match: values are read from the wrong
  segment, and when no segment has the column, every lookup raises
  ``IndexError``. Each segment's own ``column_reader`` already returns the
  default value for a missing column: it is used for every segment.

* Merging reads each posting's value back with ``matcher.value()``: a
  ``ListMatcher`` (inlined postings, enabled by the alias above) answers
  ``''`` for a term without values (``ID`` fields), and ``PostingPool.add``
  asserts ``bytes`` or ``None``: every merge of small segments raised
  ``AssertionError: vbytes=''``, so ``kiosque index add`` failed from about
  its fifth commit on an index. :func:`_add_postings_to_pool` reads ``''``
  as ``None``, what a postings block answers for the same term.

The codec (:func:`codec`): postings lists of at most ``INLINE_LIMIT - 1``
documents are stored inside the term index instead of as a separate block in
the postings file. Most terms of a news index are rare (each word has up to
three forms), and a separate block costs a pickle, a zlib call and a header
per term: measured in ``bench/RESULTS.md`` (## Profile).
"""

from __future__ import annotations

from typing import Any

from whoosh import columns, reading, writing
from whoosh.codec import whoosh3
from whoosh.util.numeric import byte_to_length

INLINE_LIMIT = 4  # postings lists shorter than this are inlined into the term index
COMPRESSION = 3  # zlib level of postings blocks (Whoosh's default)


_LENGTHS = [byte_to_length(byte) if byte else None for byte in range(256)]


class _MemoryLengths:
    """A per-document reader's field lengths, each column read into memory once."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.columns: dict[str, Any] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: Any = 0) -> Any:
        column = self.columns.get(fieldname)
        if column is None:
            column = self.columns[fieldname] = self._load(fieldname)
        if column is False:
            return default
        if docnum < len(column):
            return _LENGTHS[column[docnum]]
        return self.reader.doc_field_length(docnum, fieldname, default)

    def _load(self, fieldname: str) -> Any:
        name = whoosh3._lenfield(fieldname)
        if not self.reader.has_column(name):
            return False
        return self.reader.column_reader(name, whoosh3.LENGTHS_COLUMN).load()


def _flush_segment(self: writing.SegmentWriter) -> None:
    self.perdocwriter.close()
    pdr = self.per_document_reader() if self.codec.length_stats else None
    lengths = _MemoryLengths(pdr) if isinstance(pdr, whoosh3.W3PerDocReader) else pdr
    self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
    self.fieldwriter.close()
    if pdr:
        pdr.close()


def _multi_column_reader(
    self: reading.MultiReader,
    fieldname: str,
    column: Any = None,
    reverse: bool = False,
    translate: bool = True,
) -> columns.MultiColumnReader:
    readers = [
        reader.column_reader(fieldname, column=column, reverse=reverse, translate=translate)
        for reader in self.readers
    ]
    return columns.MultiColumnReader(readers, list(self.doc_offsets))


def _add_postings_to_pool(self: writing.SegmentWriter, reader: Any, startdoc: int,
                          docmap: Any) -> None:
    add_post = self.pool.add
    for fieldname, text, docnum, weight, value in self._process_posts(
            reader.iter_postings(), startdoc, docmap):
        add_post((fieldname, text, docnum, weight, None if isinstance(value, str) else value))


def apply() -> None:
    """Patch whoosh-reloaded in this process (idempotent)."""
    terminfo = whoosh3.W3TermInfo
    if not hasattr(terminfo, "set_inline"):
        terminfo.set_inline = terminfo.set_inlined  # type: ignore[attr-defined]
    writing.SegmentWriter._flush_segment = _flush_segment  # type: ignore[method-assign]
    reading.MultiReader.column_reader = _multi_column_reader  # type: ignore[method-assign]
    writing.SegmentWriter.add_postings_to_pool = _add_postings_to_pool  # type: ignore[method-assign]


def codec() -> whoosh3.W3Codec:
    """The codec Kiosque's writers use (readers need nothing: segments record their codec)."""
    return whoosh3.W3Codec(compression=COMPRESSION, inlinelimit=INLINE_LIMIT)


apply()
