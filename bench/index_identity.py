"""Do two index builds hold the same index? Every term, posting, position, length and stored field.

A change to the writing path must leave what the search code reads
unchanged. ``dump`` builds an index of a corpus with the tree on
``PYTHONPATH`` and writes a canonical description of it: per field, every
term with its document frequency, total weight and postings (document id ->
positions, or weight for fields without positions); per document (by id),
its stored fields, field lengths and column values; per segment, its
document count and per-term statistics (min/max length, max weight). Document
numbers are mapped to ids, so the comparison does not depend on the order of
the documents inside a segment. ``compare`` reports every difference, and
says apart whether the segment files hold the same bytes (the same content
can be written in other bytes: postings pickled with another protocol).

    PYTHONPATH=/tree/before python bench/index_identity.py dump CORPUS before.pickle
    PYTHONPATH=/tree/after  python bench/index_identity.py dump CORPUS after.pickle
    python -m bench.index_identity compare before.pickle after.pickle [--any-segments]

``--any-segments`` leaves out the per-segment statistics, for two builds that
spread the same documents over their segments differently.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

from whoosh import formats


def _postings(reader: Any, fieldname: str, term: bytes, ids: list[str]) -> Any:
    fmt = reader.schema[fieldname].format
    matcher = reader.postings(fieldname, term)
    items = []
    while matcher.is_active():
        docid = ids[matcher.id()]
        if isinstance(fmt, formats.Positions):
            items.append((docid, tuple(matcher.value_as("positions"))))
        else:
            items.append((docid, matcher.weight()))
        matcher.next()
    return tuple(sorted(items))


def _iter_field(reader: Any, fieldname: str) -> Any:
    """(term, info) of a field (``iter_field`` cannot start a numeric field at "")."""
    for name, term in reader.all_terms():
        if name == fieldname:
            yield term, reader.term_info(name, term)


def _field_terms(reader: Any, fieldname: str, ids: list[str]) -> dict[bytes, Any]:
    terms = {}
    for term, info in _iter_field(reader, fieldname):
        terms[term] = (
            info.doc_frequency(),
            info.weight(),
            _postings(reader, fieldname, term, ids),
        )
    return terms


def _segment_files(segment_reader: Any) -> dict[str, str]:
    """A digest of each file of a segment by extension (names carry a random segment id)."""
    segment = segment_reader.segment()
    storage = segment_reader.storage()
    if segment.is_compound():
        storage = segment.open_compound_file(storage)
    prefix = segment.make_filename("")
    digests = {}
    for name in storage.list():
        if name.startswith(prefix):
            with storage.open_file(name) as handle:
                data = handle.read()
            digests[name[len(prefix) :]] = hashlib.sha1(data).hexdigest()
    return digests


def _segment_stats(segment_reader: Any) -> dict[str, Any]:
    """Per-term statistics of one segment (the reader's own, not the merged ones)."""
    stats: dict[str, Any] = {
        "doc_count": segment_reader.doc_count_all(),
        "files": _segment_files(segment_reader),
    }
    for fieldname in segment_reader.indexed_field_names():
        stats[fieldname] = {
            term: (
                info.doc_frequency(),
                info.weight(),
                info.min_length(),
                info.max_length(),
                info.max_weight(),
            )
            for term, info in _iter_field(segment_reader, fieldname)
        }
    for fieldname in segment_reader.schema.scorable_names():
        stats[f"{fieldname} length"] = (
            segment_reader.field_length(fieldname),
            segment_reader.min_field_length(fieldname),
            segment_reader.max_field_length(fieldname),
        )
    return stats


def _documents(reader: Any, ids: list[str]) -> dict[str, Any]:
    schema = reader.schema
    scored = [name for name in schema.names() if schema[name].scorable]
    sortable = [name for name in schema.names() if reader.has_column(name)]
    columns = {name: reader.column_reader(name) for name in sortable}
    docs = {}
    for docnum, docid in enumerate(ids):
        docs[docid] = {
            "stored": reader.stored_fields(docnum),
            "lengths": {name: reader.doc_field_length(docnum, name) for name in scored},
            "columns": {name: columns[name][docnum] for name in sortable},
        }
    return docs


def describe(index_dir: Path) -> dict[str, Any]:
    """The canonical description of the live index of ``index_dir``."""
    from search import store

    index = store.open_index(index_dir)
    with index.reader() as reader:
        ids = [reader.stored_fields(n)["id"] for n in range(reader.doc_count_all())]
        assert len(set(ids)) == len(ids), "duplicate ids"
        segments = [segment_reader for segment_reader, _ in reader.leaf_readers()]
        return {
            "doc_count": reader.doc_count(),
            "fields": {
                name: _field_terms(reader, name, ids) for name in reader.indexed_field_names()
            },
            "lengths": {
                name: reader.field_length(name)
                for name in reader.schema.names()
                if reader.schema[name].scorable
            },
            "documents": _documents(reader, ids),
            "segments": sorted(
                (_segment_stats(s) for s in segments), key=lambda s: repr(sorted(s.items()))
            ),
        }


def dump(corpus: list[str], out: Path, workers: int | None, index_dir: Path | None) -> None:
    """Build an index of ``corpus`` (in ``index_dir``, or a temporary one) and describe it."""
    from indexer.build import build_index

    with tempfile.TemporaryDirectory(prefix="kiosque-identity-") as tmp:
        target = index_dir or Path(tmp)
        report = build_index(corpus, target, workers=workers)
        description = describe(target)
    out.write_bytes(pickle.dumps(description))
    print(f"{report.indexed} documents, {len(description['segments'])} segments -> {out}")


def differences(left: Any, right: Any, path: str = "", limit: int = 20) -> list[str]:
    """Where two descriptions differ (at most ``limit`` places)."""
    found: list[str] = []
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right), key=repr):
            if len(found) >= limit:
                break
            if key not in left or key not in right:
                found.append(f"{path}/{key!r}: only in {'right' if key not in left else 'left'}")
            else:
                found += differences(left[key], right[key], f"{path}/{key!r}", limit - len(found))
    elif isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        for number, (a, b) in enumerate(zip(left, right, strict=True)):
            if len(found) >= limit:
                break
            found += differences(a, b, f"{path}[{number}]", limit - len(found))
    elif left != right:
        found.append(f"{path}: {left!r:.200} != {right!r:.200}")
    return found


def _pop_files(description: dict[str, Any]) -> list[dict[str, str]]:
    """Take the segment file digests out: the content can be the same in other bytes."""
    return [segment.pop("files") for segment in description["segments"]]


def _pop_segments(description: dict[str, Any]) -> list[int]:
    """Take the per-segment statistics out; the document count of each segment."""
    return sorted(segment["doc_count"] for segment in description.pop("segments"))


def compare(before: Path, after: Path, any_segments: bool = False) -> int:
    """Print the differences; 0 when there is none.

    ``any_segments``: leave out which segment holds which document (each
    segment's statistics): a build that spreads the same documents over its
    segments differently holds the same index for every search.
    """
    left = pickle.loads(before.read_bytes())
    right = pickle.loads(after.read_bytes())
    same_files = _pop_files(left) == _pop_files(right)
    if any_segments:
        sizes = _pop_segments(left), _pop_segments(right)
        print(f"documents by segment (not compared): {sizes[0]} and {sizes[1]}")
        left["segments"] = right["segments"] = []
    found = differences(left, right)
    terms = sum(len(terms) for terms in left["fields"].values())
    postings = sum(len(p) for terms in left["fields"].values() for _, _, p in terms.values())
    print(
        f"{left['doc_count']} documents, {terms} terms, {postings} postings, "
        f"{len(left['segments'])} segments compared"
    )
    for line in found:
        print(line)
    print("segment files: " + ("the same bytes" if same_files else "different bytes"))
    print("IDENTICAL" if not found else "DIFFERENT")
    return 0 if not found else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    dumping = commands.add_parser("dump")
    dumping.add_argument("corpus", nargs="+")
    dumping.add_argument("out", type=Path)
    dumping.add_argument("--workers", type=int, default=None)
    dumping.add_argument("--index-dir", type=Path, default=None, help="keep the index here")
    describing = commands.add_parser("describe", help="describe an existing index")
    describing.add_argument("index_dir", type=Path)
    describing.add_argument("out", type=Path)
    comparing = commands.add_parser("compare")
    comparing.add_argument("before", type=Path)
    comparing.add_argument("after", type=Path)
    comparing.add_argument(
        "--any-segments",
        action="store_true",
        help="do not compare which segment holds which document (per-segment statistics)",
    )
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.corpus, args.out, args.workers, args.index_dir)
    elif args.command == "describe":
        args.out.write_bytes(pickle.dumps(describe(args.index_dir)))
    else:
        sys.exit(compare(args.before, args.after, args.any_segments))


if __name__ == "__main__":
    main()
