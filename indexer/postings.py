"""A segment writer that keeps its postings in memory and writes them in one pass.

Whoosh's ``SegmentWriter`` sends every posting through a ``PostingPool`` (a
5-tuple per posting, one sort of all of them, marshalled runs on disk past
``limitmb``), then through ``FieldWriter.add_postings`` (a few method calls
per posting and a dozen per term). A Kiosque segment has about three postings
per word of text and, at 2,000 articles, one unique term for every four
postings, so this bookkeeping cost more than the analysis.

:class:`MemorySegmentWriter` is a ``SegmentWriter`` whose ``add_document``
appends each posting to its term's list (documents arrive in docnum order,
so each list is already sorted) and whose ``_flush_segment`` writes the terms
in sorted order straight into the W3 codec's files. The bytes written are
the ones Whoosh's own path writes, block for block (the term index, the
postings blocks and their statistics): ``bench/index_identity.py`` compares
them. Only what a Kiosque build uses is supported: new documents, no
deletions, no term vectors, no separate spelling fields (``add_document``
raises on a schema that needs them).
"""

from __future__ import annotations

import zlib
from array import array
from hashlib import md5
from pickle import dumps
from struct import Struct
from typing import Any

from whoosh.codec import whoosh3
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

_TERMINFO = whoosh3.W3TermInfo._struct  # flags, weight, df, min/max length byte, max weight, ids
_LENGTHS = Struct("!ii")  # the hash file's (key length, value length) row header
_NO_ID = 0xFFFFFFFF


def _md5_hash(key: bytes) -> int:
    """``whoosh.filedb.filetables.md5_hash`` without the hex round trip (the same value)."""
    return int.from_bytes(md5(key, usedforsecurity=False).digest()[12:], "big")


class MemorySegmentWriter(SegmentWriter):
    """A ``SegmentWriter`` for new documents whose postings stay in memory until the flush."""

    def __init__(self, index: Any, **kwargs: Any) -> None:
        super().__init__(index, **kwargs)
        if self.segments:
            self._close_segment()
            self._finish()
            raise ValueError("MemorySegmentWriter writes new indexes only (this one has segments)")
        self._terms: dict[str, dict[bytes, list[Any]]] = {}
        self._doc_lengths: dict[str, dict[int, int]] = {}
        self.held = 0  # postings in memory, so a caller can start a new segment in time
        for name, field in self.schema.items():
            if field.vector or field.separate_spelling():
                raise ValueError(f"field {name!r}: vectors and spelling fields are not supported")

    def add_reader(self, reader: Any) -> None:
        """Merging goes through Whoosh's pool, which this writer does not flush."""
        raise NotImplementedError("MemorySegmentWriter cannot merge segments")

    def add_document(self, **fields: Any) -> None:
        """``SegmentWriter.add_document``, with postings appended to per-term lists."""
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    boost = self._field_boost(fields, fieldname, docboost)
                    length = self._add_postings(fieldname, field, value, docnum, boost)
                custom = fields.get(f"_stored_{fieldname}", value)
                perdocwriter.add_field(fieldname, field, custom if field.stored else None, length)
                column = field.column_type
                if column and custom is not None:
                    perdocwriter.add_column_value(fieldname, column, field.to_column_value(custom))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def _add_postings(
        self, fieldname: str, field: Any, value: Any, docnum: int, boost: float
    ) -> int:
        """Append a field's postings of one document; returns its length (0 if not scorable)."""
        terms = self._terms.get(fieldname)
        if terms is None:
            terms = self._terms[fieldname] = {}
        length = 0
        for tbytes, freq, weight, vbytes in field.index(value):
            postings = terms.get(tbytes)
            if postings is None:
                terms[tbytes] = [docnum, weight * boost, vbytes]
            else:
                postings += (docnum, weight * boost, vbytes)
            length += freq
            self.held += 1
        if not field.scorable:
            return 0
        if length:
            lengths = self._doc_lengths.get(fieldname)
            if lengths is None:
                lengths = self._doc_lengths[fieldname] = {}
            lengths[docnum] = byte_to_length(length_to_byte(length))
        return length

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        fieldwriter = self.fieldwriter
        if not isinstance(fieldwriter, whoosh3.W3FieldWriter):
            raise TypeError(f"needs the W3 codec, not {type(fieldwriter).__name__}")
        for fieldname in sorted(self._terms):
            terms = self._terms.pop(fieldname)
            if terms:
                writer = _FieldPostings(fieldwriter, self.codec, fieldname, self.schema[fieldname])
                writer.write(terms, self._doc_lengths.pop(fieldname, {}))
        fieldwriter.close()


class _FieldPostings:
    """Writes one field's terms and postings as ``W3FieldWriter`` + ``W3PostingsWriter`` do."""

    def __init__(self, fieldwriter: Any, codec: Any, fieldname: str, field: Any) -> None:
        fieldmap = fieldwriter._fieldmap
        if fieldname not in fieldmap:
            fieldmap[fieldname] = len(fieldmap)
        self.prefix = pack_ushort(fieldmap[fieldname])
        self.tindex = fieldwriter._tindex
        self.postfile = fieldwriter._postfile
        self.blocklimit = codec._blocklimit
        self.compression = codec._compression
        self.inlinelimit = codec._inlinelimit
        self.fixedsize = field.format.fixed_value_size()
        self.hashfn = _md5_hash if self.tindex.hashtype == 0 else self.tindex.hashfn

    def write(self, terms: dict[bytes, list[Any]], lengths: dict[int, int]) -> None:
        """Write every term in byte order: a term index row each, postings blocks if long."""
        tindex = self.tindex
        dbfile = tindex.dbfile
        buckets = tindex.buckets
        hashfn = self.hashfn
        prefix = self.prefix
        position = dbfile.tell()
        rows: list[bytes] = []
        offsets = []
        for btext in sorted(terms):
            key = prefix + btext
            if key <= tindex.lastkey:
                raise ValueError(f"Keys must increase: {tindex.lastkey!r}..{key!r}")
            tindex.lastkey = key
            value = self._terminfo(terms.pop(btext), lengths)
            offsets.append(position)
            keyhash = hashfn(key)
            buckets[keyhash & 255].append((keyhash, position))
            row = _LENGTHS.pack(len(key), len(value)) + key + value
            rows.append(row)
            position += len(row)
        dbfile.write(b"".join(rows))
        tindex.index.extend(offsets)

    def _terminfo(self, postings: list[Any], lengths: dict[int, int]) -> bytes:
        """The term's ``W3TermInfo`` bytes, its postings inlined or written as blocks."""
        ids = postings[0::3]
        weights = array("f", postings[1::3])
        values = postings[2::3]
        if not all(values):
            values = [value for value in values if value]
        if lengths:
            known = [lengths[docnum] for docnum in ids if docnum in lengths]
            minlength = min(known) if known else None
            maxlength = max(known) if known else 0
        else:
            minlength, maxlength = None, 0
        maxweight = max(postings[1::3])
        if not maxweight > 0:
            maxweight = 0
        count = len(ids)
        if count < self.inlinelimit:
            head = _TERMINFO.pack(
                True,
                sum(weights),
                count,
                0 if minlength is None else length_to_byte(minlength),
                length_to_byte(maxlength),
                maxweight,
                ids[0],
                ids[-1],
            )
            return head + dumps((tuple(ids), tuple(weights), tuple(values)), 2)
        offset, extent, stats = self._blocks(ids, postings, values, lengths)
        return _TERMINFO.pack(False, *stats) + pack_long(offset) + pack_int(extent)

    def _blocks(
        self, ids: list[int], postings: list[Any], values: list[bytes], lengths: dict[int, int]
    ) -> tuple[int, int, tuple[Any, ...]]:
        """Write a long postings list as blocks; returns its extent and the term's statistics."""
        postfile = self.postfile
        start = postfile.tell()
        chunks = [whoosh3.WHOOSH3_HEADER_MAGIC]
        limit = self.blocklimit
        comp = self.compression
        total = 0.0
        minlength: int | None = None
        maxlength = 0
        maxweight: Any = 0
        count = len(ids)
        for first in range(0, count, limit):
            block_ids = ids[first : first + limit]
            raw_weights = postings[3 * first + 1 : 3 * (first + limit) : 3]
            weights = array("f", raw_weights)
            known = [lengths[d] for d in block_ids if d in lengths] if lengths else []
            block_min = min(known) if known else None
            block_max = max(known) if known else 0
            block_weight = max(raw_weights)
            if not block_weight > 0:
                block_weight = 0
            total += sum(weights)
            minlength = block_min if minlength is None else min(minlength, block_min)
            maxlength = max(maxlength, block_max)
            maxweight = max(maxweight, block_weight)
            data = (
                tuple(_deltas(block_ids)),
                _mini_weights(weights),
                self._mini_values(values[first : first + limit]),
            )
            databytes = dumps(data, 2)
            if comp:
                databytes = zlib.compress(databytes, comp)
            info = dumps(
                (
                    len(block_ids),
                    block_ids[-1],
                    block_weight,
                    comp,
                    length_to_byte(block_min),
                    length_to_byte(block_max),
                ),
                2,
            )
            size = len(info) + len(databytes)
            last = first + limit >= count
            chunks += (pack_int(-size if last else size), info, databytes)
        blob = b"".join(chunks)
        postfile.write(blob)
        stats = (
            total,
            count,
            0 if minlength is None else length_to_byte(minlength),
            length_to_byte(maxlength),
            maxweight,
            ids[0] if ids else _NO_ID,
            ids[-1] if ids else _NO_ID,
        )
        return start, len(blob), stats

    def _mini_values(self, values: list[bytes]) -> Any:
        fixedsize = self.fixedsize
        if fixedsize is None or fixedsize < 0:
            return tuple(values)
        if fixedsize == 0:
            return None
        return b"".join(values)


def _deltas(ids: list[int]) -> list[int]:
    return [b - a for a, b in zip([0, *ids[:-1]], ids, strict=True)]


def _mini_weights(weights: array) -> Any:
    if all(w == 1.0 for w in weights):
        return None
    if all(w == weights[0] for w in weights):
        return weights[0]
    return tuple(weights)
