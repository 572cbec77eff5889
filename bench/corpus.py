"""Benchmark corpora: Wikinews fr + en and Reuters-21578, and a scaled corpus derived from them.

The news live in ``../shared/data/news`` (``$KIOSQUE_NEWS_DIR`` overrides):

* ``wikinews-fr.jsonl.gz`` (1,291 articles), ``wikinews-en.jsonl.gz`` (5,808);
* ``reuters21578-research-only/reut2-*.sgm.gz`` (21,578 SGML documents, of which
  about 21,000 have a title or a body). Reuters is for research only: it is read
  here for benchmarks and written only under ``bench/out/`` (git-ignored);
  nothing derived from it is ever committed.

``base`` is every usable article (about 28,600: Wikinews first, then Reuters in
NEWID order). ``scaled(n)`` is a deterministic corpus of ``n`` articles: the
base articles first, then *variants*. Variant ``k`` (k = 1, 2, ...) of base
article ``i`` keeps article ``i``'s title, language and source, rotates its
paragraphs (or sentences) by ``k``, appends the first paragraph of another
article of the same language (``(i * 7919 + k * 104729) mod size``), gets the
id ``<id>~k``, its own url and a date shifted by ``k`` years. Variants are
therefore neither exact duplicates (other fingerprint and url) nor, mostly,
near duplicates, and they use the real vocabulary; what they lack is new
vocabulary (a real 100k corpus would have more unique words, so Whoosh's
per-term cost is a little underestimated at 100k).

Command line: ``python -m bench.corpus --size N`` writes the folder
``bench/out/corpus-N/`` (files of 1,000 articles; ``--size 0`` = the base
corpus) and prints its path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import html
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEWS_DIR = Path(os.environ.get("KIOSQUE_NEWS_DIR", ROOT.parent / "shared" / "data" / "news"))
OUT_DIR = Path(os.environ.get("KIOSQUE_BENCH_DIR", ROOT / "bench" / "out"))
REUTERS_DIR = "reuters21578-research-only"


@dataclass(frozen=True)
class Record:
    """One benchmark article, in the JSONL record shape Kiosque reads."""

    id: str
    title: str
    body: str
    date: str
    url: str
    lang: str
    source: str

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False)


def wikinews(lang: str) -> list[Record]:
    """The Wikinews articles of one language (``fr`` or ``en``)."""
    path = NEWS_DIR / f"wikinews-{lang}.jsonl.gz"
    records = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            data = json.loads(line)
            records.append(
                Record(
                    id=f"wn{lang}-{data['id']}",
                    title=data.get("title") or "",
                    body=data.get("body") or "",
                    date=data.get("date") or "",
                    url=data.get("url") or "",
                    lang=data.get("lang") or lang,
                    source=data.get("source") or "Wikinews",
                )
            )
    return records


_REUTERS_RE = re.compile(r"<REUTERS[^>]*NEWID=\"(\d+)\"[^>]*>(.*?)</REUTERS>", re.S)
_TAG_RE = {name: re.compile(rf"<{name}>(.*?)</{name}>", re.S) for name in ("TITLE", "BODY", "DATE")}
_MONTHS = {m: i for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}


def _tag(name: str, text: str) -> str:
    found = _TAG_RE[name].search(text)
    return html.unescape(found.group(1)).strip() if found else ""


def _reuters_date(raw: str) -> str:
    match = re.match(r"\s*(\d{1,2})-([A-Z]{3})-(\d{4})", raw)
    if not match:
        return ""
    try:
        return dt.date(int(match[3]), _MONTHS[match[2]], int(match[1])).isoformat()
    except (KeyError, ValueError):
        return ""


def reuters() -> list[Record]:
    """The Reuters-21578 documents that have a title or a body (research use only)."""
    records = []
    for path in sorted((NEWS_DIR / REUTERS_DIR).glob("reut2-*.sgm.gz")):
        with gzip.open(path, "rt", encoding="latin-1") as handle:
            text = handle.read()
        for newid, inner in _REUTERS_RE.findall(text):
            title, body = _tag("TITLE", inner), _tag("BODY", inner).removesuffix("Reuter").strip()
            if not title and not body:
                continue
            body = re.sub(r"\n {3,}", "\n\n", body)  # paragraphs start with indented lines
            records.append(
                Record(
                    id=f"reuters-{newid}",
                    title=title.title() if title.isupper() else title,
                    body=body,
                    date=_reuters_date(_tag("DATE", inner)),
                    url=f"reuters21578://{newid}",
                    lang="en",
                    source="Reuters",
                )
            )
    return records


def base(include_reuters: bool = True) -> list[Record]:
    """Every usable article: Wikinews fr, Wikinews en, then Reuters (about 28,600)."""
    records = wikinews("fr") + wikinews("en")
    return records + reuters() if include_reuters else records


def _paragraphs(body: str) -> list[str]:
    parts = [p for p in re.split(r"\n\s*\n", body) if p.strip()]
    if len(parts) < 3:
        parts = [s for s in re.split(r"(?<=[.!?])\s+", body) if s.strip()]
    return parts or [body]


def _shift_year(date: str, years: int) -> str:
    if not date:
        return ""
    day = dt.date.fromisoformat(date)
    try:
        return day.replace(year=day.year - years).isoformat()
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28).isoformat()


def variant(records: list[Record], i: int, k: int, by_lang: dict[str, list[int]]) -> Record:
    """Variant ``k`` of article ``i`` (see the module docstring)."""
    record = records[i]
    parts = _paragraphs(record.body)
    shift = k % len(parts)
    rotated = parts[shift:] + parts[:shift]
    same = by_lang.get(record.lang) or list(range(len(records)))
    other = records[same[(i * 7919 + k * 104729) % len(same)]]
    body = "\n\n".join(rotated + _paragraphs(other.body)[:1])
    url = f"{record.url}#v{k}" if record.url else f"bench://{record.id}/{k}"
    return Record(
        f"{record.id}~{k}",
        record.title,
        body,
        _shift_year(record.date, k),
        url,
        record.lang,
        record.source,
    )


def scaled(size: int, records: list[Record] | None = None) -> Iterator[Record]:
    """``size`` articles: the base corpus (cut at ``size``), then variants 1, 2, ..."""
    records = records if records is not None else base()
    by_lang: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        by_lang.setdefault(record.lang, []).append(index)
    produced = 0
    k = 0
    while produced < size:
        for i in range(len(records)):
            if produced >= size:
                return
            yield records[i] if k == 0 else variant(records, i, k, by_lang)
            produced += 1
        k += 1


PART_ARTICLES = 1000


def write_corpus(size: int, wikinews_only: bool = False) -> Path:
    """Write the corpus of ``size`` articles (0: the whole base); reused if present.

    A folder of ``part-NNNN.jsonl.gz`` files of ``PART_ARTICLES`` articles
    each, as news usually arrive (many files): Kiosque reads files in its
    worker processes, so one huge file would serialize the reading.
    """
    records = base(include_reuters=not wikinews_only)
    size = size or len(records)
    tag = "wikinews" if wikinews_only else "corpus"
    folder = OUT_DIR / f"{tag}-{size}"
    if (folder / "done").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    out = None
    for number, record in enumerate(scaled(size, records)):
        if number % PART_ARTICLES == 0:
            if out:
                out.close()
            name = folder / f"part-{number // PART_ARTICLES:04d}.jsonl.gz"
            out = gzip.open(name, "wt", encoding="utf-8", compresslevel=1)
        out.write(record.to_json() + "\n")
    if out:
        out.close()
    (folder / "done").touch()
    return folder


def corpus_files(path: Path) -> list[Path]:
    """The JSONL.gz files of a corpus (a folder written by :func:`write_corpus`, or one file)."""
    return sorted(path.glob("*.jsonl.gz")) if path.is_dir() else [path]


def read_corpus(path: Path) -> list[Record]:
    """The records of a corpus written by :func:`write_corpus`."""
    records = []
    for name in corpus_files(path):
        with gzip.open(name, "rt", encoding="utf-8") as lines:
            records.extend(Record(**json.loads(line)) for line in lines)
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=0, help="articles (0: the base corpus)")
    parser.add_argument("--wikinews-only", action="store_true")
    args = parser.parse_args()
    print(write_corpus(args.size, wikinews_only=args.wikinews_only))


if __name__ == "__main__":
    main()
