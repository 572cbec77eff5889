"""JSON and JSONL records into articles; every bad record becomes a rejection.

A JSON document is one record or an array of records; JSONL is one record
a line, blank lines skipped, each bad line rejected with its number while
the others are still read. JSONL streams are read line by line, so a file
may be of any size, but a single line longer than MAX_LINE_BYTES is
rejected without being held in memory.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from search.records import Article, RecordError

from .decoding import DecodeError, decode_bytes, normalise_text

MB = 1024 * 1024
MAX_LINE_BYTES = 50 * MB
MAX_ARTICLE_CHARS = 1_000_000  # title and body; a longer "article" would take minutes to analyze
_READ_CHUNK = MB
# Terminal escape sequences (CSI and two-character ESC sequences), control characters other
# than tab and newline, and lone surrogates (``"\ud800"`` in JSON), which cannot be encoded.
_TERMINAL_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_BREAK = re.compile("\r\n?|[\x0b\x0c]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ID_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


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
    """Article.from_dict, with a RecordError as a rejection (``item`` prefixes its reason).

    Text fields lose terminal escapes and control characters (lone surrogates
    become U+FFFD); an id with control characters, or a title and body longer
    than MAX_ARTICLE_CHARS together, is rejected.
    """
    try:
        return Article.from_dict(_cleaned(value))
    except (RecordError, ValueError, TypeError) as error:
        return Rejected(name, f"{item}{error}", line)


def clean_text(text: str) -> str:
    """``text`` without terminal escapes or control characters (tab and newline kept)."""
    text = _BREAK.sub("\n", _SURROGATE.sub("\ufffd", text))
    return _CONTROL.sub("", _TERMINAL_ESCAPE.sub("", text))


def _cleaned(value: Any) -> Any:
    """A record's string fields cleaned; raises RecordError for a bad id or an oversized article."""
    if not isinstance(value, dict):
        return value
    size = sum(len(value[key]) for key in ("title", "body") if isinstance(value.get(key), str))
    if size > MAX_ARTICLE_CHARS:
        raise RecordError(
            f"article too long ({size:,} characters of title and body, "
            f"at most {MAX_ARTICLE_CHARS:,})"
        )
    doc_id = value.get("id")
    if isinstance(doc_id, str) and _ID_CONTROL.search(doc_id):
        raise RecordError("id must not contain control characters")
    return {key: clean_text(item) if isinstance(item, str) else item for key, item in value.items()}


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
