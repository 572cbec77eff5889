"""Plain-text articles: the first non-empty line is the title, the rest the body.

Also the paragraph helpers the other page readers share: a body is plain
text whose paragraphs are separated by one blank line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n[ \t]*\n")


def clean_line(line: str) -> str:
    """A line with its runs of spaces (no-break spaces included) collapsed and trimmed."""
    return _SPACES.sub(" ", line).strip()


def join_paragraphs(paragraphs: Iterable[str]) -> str:
    """Paragraphs (already cleaned) joined by blank lines, empty ones dropped."""
    return "\n\n".join(text for text in (p.strip() for p in paragraphs) if text)


def body_paragraphs(text: str) -> list[str]:
    """Split a body into paragraphs.

    Text with blank lines between its blocks keeps each block as one
    paragraph (the line breaks inside a block are kept: they may be a
    hard wrap or a heading over its text, and joining would lose which);
    text without any blank line, the layout of pages saved from the
    aggregator, has one paragraph a line.
    """
    text = text.strip("\n")
    if _BLANK_LINES.search(text):
        blocks = _BLANK_LINES.split(text)
        return [_clean_block(block) for block in blocks if block.strip()]
    return [clean_line(line) for line in text.split("\n") if line.strip()]


def _clean_block(block: str) -> str:
    return "\n".join(clean_line(line) for line in block.split("\n") if line.strip())


def parse_plain_article(text: str) -> dict[str, Any]:
    """A record (title and body) from a plain-text article; missing parts stay empty."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.strip():
            body = "\n".join(lines[index + 1 :])
            return {"title": clean_line(line), "body": join_paragraphs(body_paragraphs(body))}
    return {"title": "", "body": ""}
