"""Regenerate the demo corpus shipped in ``indexer/sample_corpus/`` from ``../shared``.

    python bench/make_sample_corpus.py [--shared ../shared]

Deterministic: the same inputs give byte-identical outputs (gzip with no
name and mtime 0, records in a fixed order, fixed JSON formatting).

Selection rule:

- ``wikinews-fr.jsonl.gz``: all French Wikinews articles, in (date, id) order.
- ``wikinews-en.jsonl.gz``: 2,000 English Wikinews articles spread over the
  years. Articles with bodies over 12,000 characters are left out (a few
  very long ones would take a large share of the size budget). Each year
  gets an equal quota of the 2,000; a year with fewer articles than its
  quota gives all of them and its unused share is split among the others,
  until the quotas settle. Within a year, the articles are sorted by
  (date, id) and taken at evenly spaced positions. Output in (date, id) order.
- ``maghress-seed-page.txt``: a byte copy of ``samples/maghress/seed-page.txt``.

Only the record fields (id, title, body, date, source, url, lang) are kept;
each article keeps its Wikinews url, as the CC BY 2.5 attribution asks.

Spacing repaired (``repair_spacing``), since snippets show it and searches
miss words split in two:

- French: the 2016-2018 texts were tokenized for entity tagging, with a space
  before every comma and full stop and inside parentheses ("30 décembre , et",
  "( Maine-et-Loire )"); the space goes.
- English: the extraction split wiki links from their trails ("[[Iran]]ian"
  became "Iran ian", "bomber s", "government 's", "British -Iraq i"). A trail
  that is not a word is joined back: "s" and "'s"; and after a capitalized
  name, "ian", "ians", "ese", "i", "n" and "ns" when a lowercase word or
  punctuation follows (so that "Prawo i Sprawiedliwość" stays). So is a
  hyphen split from a capitalized word.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import shutil
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "indexer" / "sample_corpus"
DEFAULT_SHARED = ROOT.parent / "shared"
ENGLISH_TARGET = 2000
MAX_BODY_CHARS = 12_000
MAX_OUTPUT_BYTES = 2 * 1024 * 1024
FIELDS = ("id", "title", "body", "date", "source", "url", "lang")

Record = dict[str, Any]

FRENCH_SPACING = (
    (re.compile(r"(?<=\S) +([,.)])(?=\s|$)", re.MULTILINE), r"\1"),
    (re.compile(r"\( +(?=\S)"), "("),
)
ENGLISH_SPACING = (
    (re.compile(r"(?<=[A-Za-z]) ('s|s)\b"), r"\1"),
    (re.compile(r"(?<=[a-z]) -(?=[A-Z][a-z])"), "-"),
    (re.compile(r"\b([A-Z][a-z]+) (ians?|ese|i|ns?)\b(?= [a-z]|[^\w\s]|$)", re.MULTILINE),
     r"\1\2"),
)
SPACING = {"fr": FRENCH_SPACING, "en": ENGLISH_SPACING}


def load(path: Path) -> list[Record]:
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        return [json.loads(line) for line in stream if line.strip()]


def order_key(record: Record) -> tuple[str, str]:
    return (record.get("date") or "", str(record["id"]))


def year_quotas(counts: dict[str, int], target: int) -> dict[str, int]:
    """Equal shares of ``target``; years short of their share give the rest to the others."""
    quotas: dict[str, int] = {}
    open_years = sorted(counts)
    remaining = target
    while open_years:
        share = remaining // len(open_years)
        small = [year for year in open_years if counts[year] <= share]
        if not small:
            extra = remaining - share * len(open_years)
            for index, year in enumerate(open_years):
                quotas[year] = share + (1 if index < extra else 0)
            return quotas
        for year in small:
            quotas[year] = counts[year]
            remaining -= counts[year]
            open_years.remove(year)
    return quotas


def evenly_spaced(records: list[Record], count: int) -> list[Record]:
    """``count`` records at evenly spaced positions of the sorted list."""
    if count >= len(records):
        return list(records)
    step = len(records) / count
    return [records[int(index * step)] for index in range(count)]


def select_english(records: list[Record], target: int = ENGLISH_TARGET) -> list[Record]:
    by_year: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        if len(record["body"]) <= MAX_BODY_CHARS:
            by_year[(record.get("date") or "")[:4]].append(record)
    quotas = year_quotas({year: len(items) for year, items in by_year.items()}, target)
    chosen: list[Record] = []
    for year, items in by_year.items():
        chosen += evenly_spaced(sorted(items, key=order_key), quotas[year])
    return sorted(chosen, key=order_key)


def repair_spacing(text: str, lang: str) -> str:
    """``text`` with the spacing of its corpus's extraction repaired (see the module's
    docstring); other languages unchanged."""
    for pattern, replacement in SPACING.get(lang, ()):
        text = pattern.sub(replacement, text)
    return text


def repaired(record: Record) -> Record:
    lang = record.get("lang") or ""
    return {**record, "title": repair_spacing(record.get("title") or "", lang),
            "body": repair_spacing(record.get("body") or "", lang)}


def write_jsonl_gz(records: list[Record], path: Path) -> int:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as stream:
        for record in records:
            line = json.dumps({key: record.get(key) for key in FIELDS}, ensure_ascii=False)
            stream.write(line.encode("utf-8") + b"\n")
    path.write_bytes(buffer.getvalue())
    return len(buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    args = parser.parse_args(argv)
    news = args.shared / "data" / "news"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    french = [repaired(r) for r in sorted(load(news / "wikinews-fr.jsonl.gz"), key=order_key)]
    english = [repaired(r) for r in select_english(load(news / "wikinews-en.jsonl.gz"))]
    for name, records in (("wikinews-fr.jsonl.gz", french), ("wikinews-en.jsonl.gz", english)):
        size = write_jsonl_gz(records, OUTPUT / name)
        print(f"{name}: {len(records)} articles, {size / 1024:.0f} KB")
        if size > MAX_OUTPUT_BYTES:
            print(f"{name} is over {MAX_OUTPUT_BYTES} bytes", file=sys.stderr)
            return 1
    shutil.copyfile(
        args.shared / "samples" / "maghress" / "seed-page.txt", OUTPUT / "maghress-seed-page.txt"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
