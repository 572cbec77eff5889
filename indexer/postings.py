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
in sorted order straight into the W3 codec's files: the same term index,
postings blocks and statistics as Whoosh's own path (``bench/index_identity.py``
compares them), except that postings are pickled with protocol 4, not 2.
Protocol 2 writes each encoded positions value (a ``bytes``) as a call to
``_codecs.encode``: ten times slower to pickle and to unpickle, and twice
the size after zlib. Whoosh reads blocks with ``pickle.loads``, which reads
every protocol. Only what a Kiosque build uses is supported: new documents, no
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

from whoosh import formats
from whoosh.analysis import IDTokenizer
from whoosh.codec import whoosh3
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from search.schema import COUNT_ONE, SINGLE_PICKLES, encode_positions

_TERMINFO = whoosh3.W3TermInfo._struct  # flags, weight, df, min/max length byte, max weight, ids
_LENGTHS = Struct("!ii")  # the hash file's (key length, value length) row header
_POINTER = Struct("!Iq")  # a hash table slot: (hash, position)
POSTINGS_PROTOCOL = 4  # pickle protocol of postings (see the module docstring)
INDEX_CACHE_SIZE = 50_000  # remembered (field, value) analyses of presence-only fields


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
        self._index_cache: dict[tuple[str, Any], tuple[Any, ...]] = {}
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
        if isinstance(value, dict) and boost == 1.0:
            length, count = _add_analyzed(terms, value, docnum)
            self.held += count
        else:
            length = 0
            for tbytes, freq, weight, vbytes in self._indexed(fieldname, field, value):
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

    def _indexed(self, fieldname: str, field: Any, value: Any) -> Any:
        """``field.index(value)``, remembered for fields that only record presence.

        Most of their values repeat (a language, a source, a year, a file), and
        Whoosh's analysis of one costs a tokenizer, a token and a set; an ``ID``
        field's value is its one term (most are unique: id, fingerprint). Their
        encoded values are the one empty bytes object, so sharing them between
        documents changes no byte written.
        """
        if not isinstance(field.format, formats.Existence) or not isinstance(value, (str, int)):
            return field.index(value)
        if type(field.analyzer) is IDTokenizer and isinstance(value, str):
            # The whole value, one term: what IDTokenizer and Existence give, without the calls.
            return ((value.encode("utf-8"), 1, field.format.field_boost, b""),)
        key = (fieldname, value)
        found = self._index_cache.get(key)
        if found is None:
            if len(self._index_cache) >= INDEX_CACHE_SIZE:
                self._index_cache.clear()
            found = self._index_cache[key] = tuple(field.index(value))
        return found

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        fieldwriter = self.fieldwriter
        if not isinstance(fieldwriter, whoosh3.W3FieldWriter):
            raise TypeError(f"needs the W3 codec, not {type(fieldwriter).__name__}")
        for fieldname in sorted(self._terms):
            terms = self._terms.pop(fieldname)
            if terms:
                writer = _FieldPostings(fieldwriter, self.codec, fieldname, self.schema[fieldname])
                writer.write(terms, self._doc_lengths.pop(fieldname, {}), self.docnum)
        tindex = fieldwriter._tindex
        tindex._write_hashes = lambda: _write_hashes(tindex)  # same bytes, one write per table
        fieldwriter.close()


def _add_analyzed(
    terms: dict[bytes, list[Any]], value: dict[str, list[int]], docnum: int
) -> tuple[int, int]:
    """Append a document's analyzed field (``{form: positions}``) to ``terms``;
    (field length, postings).

    What ``AnalyzedText.index`` gives, without its generator and tuples. The
    weight of a posting is its frequency, kept as an int until the segment is
    written (``AnalyzedText.index`` gives ``float(freq)``: the same value once
    written as a float). Forms sharing one positions list
    (:func:`search.analysis.index_terms` gives every form of a word the same
    list) share its encoding, which changes no byte written: a postings block
    holds one value per document of its term. A single position (most of
    them) is encoded inline, as ``encode_positions`` does (a new bytes object
    each time, as Whoosh's are: equal values shared in a block would pickle
    as references, other bytes).
    """
    encoded: dict[int, bytes] = {}
    singles = SINGLE_PICKLES
    known = terms.get
    length = 0
    for form, positions in value.items():
        freq = len(positions)
        length += freq
        if freq == 1 and 0 <= (first := positions[0]) < len(singles):
            encoding = COUNT_ONE + singles[first]
        else:
            key = id(positions)
            encoding = encoded.get(key)
            if encoding is None:
                encoding = encoded[key] = encode_positions(positions)
        term = form.encode("utf-8")
        postings = known(term)
        if postings is None:
            terms[term] = [docnum, freq, encoding]
        else:
            postings += (docnum, freq, encoding)
    return length, len(value)


def _write_hashes(tindex: Any) -> None:
    """``HashWriter._write_hashes``, the same bytes, each table packed and written at once."""
    dbfile = tindex.dbfile
    pack = _POINTER.pack
    empty = pack(0, 0)
    for entries in tindex.buckets:
        numslots = 2 * len(entries)
        tindex.directory.append((dbfile.tell(), numslots))
        table = [empty] * numslots
        used = [False] * numslots
        for hashval, position in entries:
            slot = (hashval >> 8) % numslots
            while used[slot]:
                slot = (slot + 1) % numslots
            used[slot] = True
            table[slot] = pack(hashval, position)
        dbfile.write(b"".join(table))


class _FieldPostings:
    """Writes one field's terms and postings as ``W3FieldWriter`` + ``W3PostingsWriter`` do."""

    def __init__(self, fieldwriter: Any, codec: Any, fieldname: str, field: Any) -> None:
        fieldmap = fieldwriter._fieldmap
        if fieldname not in fieldmap:
            fieldmap[fieldname] = len(fieldmap)
        self.prefix = pack_ushort(fieldmap[fieldname])
        self.tindex = fieldwriter._tindex
        self.postfile = fieldwriter._postfile
        # Where the next postings blocks go: counted here, as a file's tell() is a system
        # call (an lseek) and was 1% of a build's CPU at one call a long postings list.
        self.postings_at = self.postfile.tell()
        self.blocklimit = codec._blocklimit
        self.compression = codec._compression
        self.inlinelimit = codec._inlinelimit
        self.fixedsize = field.format.fixed_value_size()
        self.hashfn = _md5_hash if self.tindex.hashtype == 0 else self.tindex.hashfn

    def write(self, terms: dict[bytes, list[Any]], lengths: dict[int, int], docs: int) -> None:
        """Write every term in byte order: a term index row each, postings blocks if long.

        ``docs``: how many documents the segment has (every posting's number is below it).
        """
        tindex = self.tindex
        dbfile = tindex.dbfile
        buckets = tindex.buckets
        hashfn = self.hashfn
        prefix = self.prefix
        terminfo = self._terminfo
        pack_lengths = _LENGTHS.pack
        by_doc = _length_bytes(lengths, docs)
        position = dbfile.tell()
        rows: list[bytes] = []
        offsets = []
        ordered = sorted(terms.items())  # distinct keys: increasing once prefixed
        terms.clear()
        first = prefix + ordered[0][0]
        if first <= tindex.lastkey:
            raise ValueError(f"Keys must increase: {tindex.lastkey!r}..{first!r}")
        for btext, postings in ordered:
            key = prefix + btext
            value = terminfo(postings, by_doc)
            offsets.append(position)
            keyhash = hashfn(key)
            buckets[keyhash & 255].append((keyhash, position))
            row = pack_lengths(len(key), len(value)) + key + value
            rows.append(row)
            position += len(row)
        tindex.lastkey = prefix + ordered[-1][0]
        dbfile.write(b"".join(rows))
        tindex.index.extend(offsets)

    def _terminfo(self, postings: list[Any], by_doc: bytes) -> bytes:
        """The term's ``W3TermInfo`` bytes, its postings inlined or written as blocks.

        ``postings`` is flat: document number, weight (an int frequency or a
        float), encoded value, for each document in order.
        """
        ids = postings[0::3]
        count = len(ids)
        if count >= self.inlinelimit:
            offset, extent, stats = self._blocks(ids, postings, by_doc)
            return _TERMINFO.pack(False, *stats) + pack_long(offset) + pack_int(extent)
        raw = postings[1::3]
        weights = tuple(array("f", raw))
        values = postings[2::3]
        if not all(values):
            values = [value for value in values if value]
        minlength, maxlength = _min_max_length(ids, by_doc)
        maxweight = max(raw)
        head = _TERMINFO.pack(
            True,
            sum(weights),
            count,
            minlength,
            maxlength,
            maxweight if maxweight > 0 else 0,
            ids[0],
            ids[-1],
        )
        return head + dumps((tuple(ids), weights, tuple(values)), POSTINGS_PROTOCOL)

    def _blocks(
        self, ids: list[int], postings: list[Any], by_doc: bytes
    ) -> tuple[int, int, tuple[Any, ...]]:
        """Write a long postings list as blocks; returns its extent and the term's statistics."""
        start = self.postings_at
        chunks = [whoosh3.WHOOSH3_HEADER_MAGIC]
        limit = self.blocklimit
        comp = self.compression
        total = 0.0
        minlength = 0
        maxlength = 0
        maxweight: Any = 0
        count = len(ids)
        for first in range(0, count, limit):
            block_ids = ids[first : first + limit]
            raw_weights = postings[3 * first + 1 : 3 * (first + limit) : 3]
            weights = array("f", raw_weights)
            block_min, block_max = _min_max_length(block_ids, by_doc)
            block_weight = max(raw_weights)
            block_weight = float(block_weight) if block_weight > 0 else 0
            total += sum(weights)
            if block_min and (not minlength or block_min < minlength):
                minlength = block_min
            maxlength = max(maxlength, block_max)
            maxweight = max(maxweight, block_weight)
            values = postings[3 * first + 2 : 3 * (first + limit) : 3]
            if not all(values):
                values = [value for value in values if value]
            data = (tuple(_deltas(block_ids)), _mini_weights(weights), self._mini_values(values))
            databytes = dumps(data, POSTINGS_PROTOCOL)
            if comp:
                databytes = zlib.compress(databytes, comp)
            info = (len(block_ids), block_ids[-1], block_weight, comp, block_min, block_max)
            info = dumps(info, 2)
            size = len(info) + len(databytes)
            last = first + limit >= count
            chunks += (pack_int(-size if last else size), info, databytes)
        blob = b"".join(chunks)
        self.postfile.write(blob)
        self.postings_at += len(blob)
        stats = (total, count, minlength, maxlength, maxweight, ids[0], ids[-1])
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


def _length_bytes(lengths: dict[int, int], docs: int) -> bytes:
    """Each document's field length as Whoosh's length byte, by document number (0: none).

    A length byte orders as the length it stands for, so the smallest byte of
    a postings list is the byte of its smallest length. Every document of the
    segment has a byte, so a postings list's bytes are read without a bounds check.
    """
    if not lengths:
        return b""
    by_doc = bytearray(max(docs, max(lengths) + 1))
    for docnum, length in lengths.items():
        by_doc[docnum] = length_to_byte(length)
    return bytes(by_doc)


def _min_max_length(ids: list[int], by_doc: bytes) -> tuple[int, int]:
    """The smallest and largest length byte of these documents (0 for those without one)."""
    if not by_doc:
        return 0, 0
    known = bytes(map(by_doc.__getitem__, ids))
    if 0 in known:
        known = known.replace(b"\0", b"") or b"\0"
    return min(known), max(known)


def _mini_weights(weights: array) -> Any:
    if all(w == 1.0 for w in weights):
        return None
    if all(w == weights[0] for w in weights):
        return weights[0]
    return tuple(weights)
