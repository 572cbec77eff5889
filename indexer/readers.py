"""Input files into articles: find the files, pick a reader by suffix, never raise.

Every problem with an input (a missing file, a bad encoding, a malformed
record) becomes a ``Rejected`` naming the file, the line when there is one,
and the reason; everything else is still read. Every article returned
carries a language: the record's own, else the detected one.

Suffixes: ``.json`` (a record or an array), ``.jsonl`` and ``.jsonl.gz``
(one record a line), ``.txt`` (an aggregator page or a plain article),
``.html`` and ``.htm`` (a saved article page).
"""

from __future__ import annotations

import dataclasses
import errno
import gzip
import os
import stat
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO

from search.records import Article

from . import aggregator, htmlpage
from .decoding import DecodeError, decode_document, normalise_text
from .jsonrecords import (
    MAX_ARTICLE_CHARS,
    MB,
    Rejected,
    iter_jsonl_stream,
    megabytes,
    parse_json_text,
    record_to_article,
)
from .language import article_language

__all__ = [
    "MAX_FILE_BYTES",
    "SAMPLE_CORPUS_DIR",
    "SUPPORTED_SUFFIXES",
    "Rejected",
    "list_files",
    "parse_records",
    "read_file",
    "read_stream",
]

SAMPLE_CORPUS_DIR = Path(__file__).parent / "sample_corpus"
MAX_FILE_BYTES = 50 * MB
MAX_PAGE_CHARS = 2 * MAX_ARTICLE_CHARS  # a text page: one article, its ticker and boilerplate
SUPPORTED_SUFFIXES = (".json", ".jsonl", ".jsonl.gz", ".txt", ".html", ".htm")

Reader = Callable[[Path, str], list[Article | Rejected]]


def list_files(paths: Sequence[str | Path]) -> Iterator[Path | Rejected]:
    """The readable input files under ``paths``, in a deterministic order.

    Directories are walked recursively in name order, keeping only files
    with a supported suffix and skipping hidden entries (names starting with
    "."); a file reached twice through symlinks is listed once. An explicit
    path with another suffix, a missing path, a symlink loop or an unreadable
    directory gives a Rejected instead.
    """
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        problem = _stat_problem(path)
        if problem:
            yield Rejected(str(path), problem)
        elif path.is_dir():
            yield from _walk(path, seen, ancestors=frozenset())
        elif not path.is_file():
            yield Rejected(str(path), "not a regular file")
        elif suffix_of(path) not in SUPPORTED_SUFFIXES:
            yield Rejected(str(path), f"unsupported file type ({suffix_of(path) or 'no suffix'})")
        elif _first_visit(path, seen):
            yield path


def read_file(path: Path) -> list[Article | Rejected]:
    """Every article in one file, and a Rejected for each problem; never raises for bad input."""
    reader = _READERS.get(suffix_of(path))
    name = str(path)
    if reader is None:
        return [Rejected(name, f"unsupported file type ({suffix_of(path) or 'no suffix'})")]
    try:
        return [_finish(item) for item in reader(path, name)]
    except OSError as error:
        return [Rejected(name, _os_reason(error))]


def read_stream(stream: IO[bytes], name: str = "<stdin>") -> Iterator[Article | Rejected]:
    """Articles and rejections from a JSONL byte stream, read line by line."""
    for item in iter_jsonl_stream(stream, name, empty_reason="empty input"):
        yield _finish(item)


def parse_records(data: bytes | str, name: str) -> list[Article | Rejected]:
    """A JSON record, a JSON array of records, or JSONL, from bytes or text (e.g. a POST body)."""
    if isinstance(data, bytes):
        try:
            text = decode_document(data)
        except DecodeError as error:
            return [Rejected(name, str(error))]
    else:
        text = normalise_text(data)
    return [_finish(item) for item in parse_json_text(text, name)]


def suffix_of(path: Path) -> str:
    """The lower-cased suffix that picks a reader (".jsonl.gz" counts as one)."""
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes[-2:] == [".jsonl", ".gz"]:
        return ".jsonl.gz"
    return suffixes[-1] if suffixes else ""


def _finish(item: Article | Rejected) -> Article | Rejected:
    """NFC title and body (JSON escapes may spell decomposed accents) and a language."""
    if isinstance(item, Rejected):
        return item
    title = unicodedata.normalize("NFC", item.title)
    body = unicodedata.normalize("NFC", item.body)
    article = dataclasses.replace(item, title=title, body=body)
    return dataclasses.replace(article, lang=article_language(article))


def _read_text(path: Path, name: str) -> str | Rejected:
    """A file's text, decoded, or why it cannot be read (too large, undecodable)."""
    data = _read_limited(path)
    if isinstance(data, str):
        return Rejected(name, data)
    try:
        return decode_document(data)
    except DecodeError as error:
        return Rejected(name, str(error))


def _read_json(path: Path, name: str) -> list[Article | Rejected]:
    text = _read_text(path, name)
    if isinstance(text, Rejected):
        return [text]
    return parse_json_text(text, name)


def _read_jsonl(path: Path, name: str) -> list[Article | Rejected]:
    with path.open("rb") as stream:
        return list(iter_jsonl_stream(stream, name))


def _read_jsonl_gz(path: Path, name: str) -> list[Article | Rejected]:
    with path.open("rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as stream:
        return list(iter_jsonl_stream(stream, name))


def _read_text_page(path: Path, name: str) -> list[Article | Rejected]:
    text = _read_text(path, name)
    if isinstance(text, Rejected):
        return [text]
    if len(text) > MAX_PAGE_CHARS:  # checked before parsing: a 50 MB line took 40 s to parse
        size = f"{len(text):,} characters, at most {MAX_PAGE_CHARS:,}"
        return [Rejected(name, f"page too long for one article ({size})")]
    return [record_to_article(aggregator.parse_page(text), name)]


def _read_html(path: Path, name: str) -> list[Article | Rejected]:
    data = _read_limited(path)
    if isinstance(data, str):
        return [Rejected(name, data)]
    try:
        text = decode_document(data, declared=htmlpage.declared_charset(data))
        record = htmlpage.parse_html(text)
    except DecodeError as error:
        return [Rejected(name, str(error))]
    except RecursionError:
        return [Rejected(name, "HTML nested too deeply to read")]
    return [record_to_article(record, name)]


_READERS: dict[str, Reader] = {
    ".json": _read_json,
    ".jsonl": _read_jsonl,
    ".jsonl.gz": _read_jsonl_gz,
    ".txt": _read_text_page,
    ".html": _read_html,
    ".htm": _read_html,
}


def _read_limited(path: Path) -> bytes | str:
    """The file's bytes, or the reason it is too large (checked before reading)."""
    with path.open("rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > MAX_FILE_BYTES:
            return f"file too large ({megabytes(size)} > {megabytes(MAX_FILE_BYTES)})"
        data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:  # grew while we read it
        return f"file too large (over {megabytes(MAX_FILE_BYTES)})"
    return data


def _walk(
    directory: Path, seen: set[Path], ancestors: frozenset[Path]
) -> Iterator[Path | Rejected]:
    """Depth-first, name order; a directory that leads back to an ancestor is a symlink loop."""
    real = directory.resolve()
    if real in ancestors:
        yield Rejected(str(directory), "symlink loop")
        return
    if real in seen:
        return
    seen.add(real)
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError as error:
        yield Rejected(str(directory), _os_reason(error))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        problem = _stat_problem(path)
        if problem:
            yield Rejected(str(path), problem)
        elif path.is_dir():
            yield from _walk(path, seen, ancestors | {real})
        elif path.is_file() and suffix_of(path) in SUPPORTED_SUFFIXES and _first_visit(path, seen):
            yield path


def _stat_problem(path: Path) -> str | None:
    """Why a path cannot be used at all (missing, symlink loop, no permission), or None."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        return _os_reason(error)
    if stat.S_ISDIR(mode) and not os.access(path, os.R_OK | os.X_OK):
        return "permission denied"
    return None


def _first_visit(path: Path, seen: set[Path]) -> bool:
    real = path.resolve()
    if real in seen:
        return False
    seen.add(real)
    return True


_OS_REASONS = {
    errno.ENOENT: "no such file or directory",
    errno.ENOTDIR: "no such file or directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "symlink loop",
    errno.EISDIR: "is a directory",
    errno.ENAMETOOLONG: "file name too long",
}


def _os_reason(error: OSError) -> str:
    return _OS_REASONS.get(error.errno or 0, error.strerror or str(error))
