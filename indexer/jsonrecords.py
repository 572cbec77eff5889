"""JSON and JSONL records into articles; every bad record becomes a rejection.

A JSON document is one record or an array of records; JSONL is one record
a line, blank lines skipped, each bad line rejected with its number while
the others are still read. JSONL streams are read line by line, so a file
may be of any size, but a single line longer than MAX_LINE_BYTES is
rejected without being held in memory.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from search.records import Article, RecordError

from .decoding import DecodeError, decode_bytes, normalise_text

MB = 1024 * 1024
MAX_LINE_BYTES = 50 * MB
_READ_CHUNK = MB


@dataclass(frozen=True)
class Rejected:
    """Something that could not become an article, and why.

    ``path`` is the file (or stream name) as given or found; ``line`` the
    line number in a JSONL file, when there is one.
    """

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.reason}"


def megabytes(size: int) -> str:
    return f"{size / MB:.1f} MB"


def record_to_article(
    value: Any, name: str, line: int | None = None, item: str = ""
) -> Article | Rejected:
    """Article.from_dict, with a RecordError as a rejection (``item`` prefixes its reason)."""
    try:
        return Article.from_dict(value)
    except (RecordError, ValueError, TypeError) as error:
        return Rejected(name, f"{item}{error}", line)


def parse_json_text(text: str, name: str) -> list[Article | Rejected]:
    """One JSON record, a JSON array of records, or JSONL text.

    Text that is not one JSON document but whose first line is a JSON value
    by itself is read as JSONL, each line on its own.
    """
    stripped = text.strip()
    if not stripped:
        return [Rejected(name, "empty file")]
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as error:
        if _looks_like_jsonl(stripped):
            return list(_jsonl_lines(text.split("\n"), name))
        return [Rejected(name, f"invalid JSON ({error.msg})", error.lineno)]
    except (ValueError, RecursionError) as error:
        return [Rejected(name, f"invalid JSON ({_short(error)})")]
    return _records_from_value(value, name)


def iter_jsonl_stream(
    stream: IO[bytes], name: str, empty_reason: str = "empty file"
) -> Iterator[Article | Rejected]:
    """Articles and rejections from a binary JSONL stream, line by line.

    Read errors (a truncated gzip member, an I/O error) end the stream with a
    rejection; the records read before it are kept.
    """
    seen_record = False
    for number, raw in _raw_lines(stream, name):
        if isinstance(raw, Rejected):
            yield raw
            return
        if raw is None:
            yield Rejected(name, f"line too long (over {megabytes(MAX_LINE_BYTES)})", number)
            continue
        if number == 1 and raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            yield Rejected(name, "UTF-16 JSONL is not supported (convert it to UTF-8)")
            return
        if number == 1 and b"\x00" in raw:
            yield Rejected(name, "binary file")
            return
        if not raw.strip():
            continue
        seen_record = True
        yield _parse_line_bytes(raw, name, number)
    if not seen_record:
        yield Rejected(name, empty_reason)


def _raw_lines(stream: IO[bytes], name: str) -> Iterator[tuple[int, bytes | None | Rejected]]:
    """(number, bytes) for each line; None for a line over the limit (skipped unread)."""
    number = 0
    try:
        while True:
            raw = stream.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                _skip_rest_of_line(stream)
                yield number, None
                continue
            yield number, raw
    except (OSError, EOFError, zlib.error) as error:
        yield number + 1, Rejected(name, f"read error after line {number} ({_short(error)})")


def _skip_rest_of_line(stream: IO[bytes]) -> None:
    while chunk := stream.readline(_READ_CHUNK):
        if chunk.endswith(b"\n"):
            return


def _parse_line_bytes(raw: bytes, name: str, number: int) -> Article | Rejected:
    if number == 1:
        raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = decode_bytes(raw)
        except DecodeError:
            return Rejected(name, "line is not UTF-8 or a known legacy encoding", number)
    return _parse_line(normalise_text(text), name, number)


def _jsonl_lines(lines: list[str], name: str) -> Iterator[Article | Rejected]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield _parse_line(line, name, number)


def _parse_line(line: str, name: str, number: int) -> Article | Rejected:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        return Rejected(name, f"invalid JSON ({error.msg})", number)
    except (ValueError, RecursionError) as error:
        return Rejected(name, f"invalid JSON ({_short(error)})", number)
    return record_to_article(value, name, number)


def _records_from_value(value: Any, name: str) -> list[Article | Rejected]:
    if isinstance(value, dict):
        return [record_to_article(value, name)]
    if isinstance(value, list):
        if not value:
            return [Rejected(name, "empty array: no records")]
        return [
            record_to_article(item, name, item=f"record {number}: ")
            for number, item in enumerate(value, 1)
        ]
    kind = type(value).__name__
    return [Rejected(name, f"a JSON document must be a record or an array, not {kind}")]


def _looks_like_jsonl(text: str) -> bool:
    """More than one line, and the first one is a JSON value by itself."""
    first, newline, _ = text.partition("\n")
    if not newline:
        return False
    try:
        json.loads(first)
    except (ValueError, RecursionError):
        return False
    return True


def _short(error: BaseException) -> str:
    message = str(error) or type(error).__name__
    return message if len(message) <= 120 else message[:117] + "..."
