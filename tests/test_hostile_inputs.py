"""Hostile files: each is indexed correctly or rejected with a reason, and nothing else is lost.

The fixtures (tests/fixtures/hostile/, written by make_hostile_fixtures.py)
say what must become of each file; the 50 MB single line is made here.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import load_articles

from indexer import BuildReport, add_documents, build_index
from indexer.readers import SAMPLE_CORPUS_DIR, read_file
from search import Article, SearchEngine
from web.cli import main

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
EXPECTED: dict[str, dict[str, Any]] = json.loads(
    (HOSTILE / ".expected.json").read_text(encoding="utf-8")
)
FOUND = [(name, item) for name, entry in sorted(EXPECTED.items()) for item in entry["find"]]
SEED_PAGE = SAMPLE_CORPUS_DIR / "maghress-seed-page.txt"
SEED_TITLE = "Antony Blinken attendu au Maroc pour réunion de la coalition anti-Daech"
MB = 1024 * 1024


def expected_total() -> int:
    return sum(entry["indexed"] for entry in EXPECTED.values())


def assert_failures_match(report: BuildReport, root: Path) -> None:
    """Every expected rejection is reported with its reason, and no other."""
    failures = list(report.failures)
    for name, entry in EXPECTED.items():
        path = str(root / name)
        for rejection in entry["rejected"]:
            line = rejection["line"]
            match = [
                (where, reason)
                for where, reason in failures
                if (where == f"{path}:{line}" if line else where.split(":")[0] == path)
                and rejection["reason"] in reason
            ]
            assert match, (name, rejection, [f for f in failures if f[0].startswith(path)])
            failures.remove(match[0])
    assert failures == [], f"unexpected rejections: {failures}"


def control_characters(text: str) -> list[str]:
    """Control characters other than tab and newline, and lone surrogates."""
    return [
        char
        for char in text
        if (unicodedata.category(char) == "Cc" and char not in "\t\n")
        or unicodedata.category(char) == "Cs"
    ]


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildReport, Path]:
    """The whole hostile folder indexed in one run."""
    index_dir = tmp_path_factory.mktemp("hostile-index")
    return build_index([HOSTILE], index_dir, workers=1), index_dir


@pytest.fixture(scope="module")
def hostile_engine(hostile_build: tuple[BuildReport, Path]) -> SearchEngine:
    return SearchEngine(hostile_build[1])


def test_every_file_is_indexed_or_rejected_with_its_reason(
    hostile_build: tuple[BuildReport, Path], hostile_engine: SearchEngine
) -> None:
    report, _ = hostile_build
    assert report.indexed == expected_total(), report.to_dict()
    assert report.duplicates == 0
    assert_failures_match(report, HOSTILE)
    assert hostile_engine.document_count() == expected_total()


@pytest.mark.parametrize(("name", "item"), FOUND, ids=[f"{n}:{i['query']}" for n, i in FOUND])
def test_every_indexed_article_is_found_as_written(
    hostile_engine: SearchEngine, name: str, item: dict[str, str]
) -> None:
    page = hostile_engine.search(item["query"], expand_stories=True)
    assert [hit.title for hit in page.hits] == [item["title"]], name
    hit = page.hits[0]
    entry = EXPECTED[name]
    if "source" in entry:
        assert hit.source == entry["source"]
        assert hit.date == (dt.date.fromisoformat(entry["date"]) if entry["date"] else None)
    if "lang" in entry:
        assert hit.lang == entry["lang"]
    assert "<mark>" in hit.snippet_html or "<mark>" in hit.title_html


def test_no_control_character_reaches_the_index(hostile_engine: SearchEngine) -> None:
    searcher = hostile_engine.searcher()
    stored = list(searcher.all_stored_fields())
    assert len(stored) == expected_total()
    for fields in stored:
        for name in ("id", "title", "body", "source", "url"):
            assert not control_characters(fields.get(name, "")), (name, fields.get(name, "")[:80])


def test_bidi_marks_and_emoji_are_kept(hostile_engine: SearchEngine) -> None:
    for doc_id in EXPECTED["emoji.jsonl"]["ids"]:
        article = hostile_engine.get(doc_id)
        assert article is not None, doc_id
    assert hostile_engine.get("emoji-only").title == "\U0001f525\U0001f525\U0001f525"
    assert "\u200d" in hostile_engine.get("emoji-1").title  # the ZWJ family stays whole
    assert "\u202e" in hostile_engine.get("bidi-1").title  # shown as written, never removed
    assert hostile_engine.get("ar-1").lang == "ar"


def test_adding_hostile_files_loses_nothing_already_indexed(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    articles = load_articles()
    assert add_documents(articles, index_dir, workers=1).indexed == len(articles)
    report = add_documents([HOSTILE], index_dir, workers=1)
    assert report.indexed == expected_total()
    assert_failures_match(report, HOSTILE)
    engine = SearchEngine(index_dir)
    assert engine.document_count() == len(articles) + expected_total()
    assert all(engine.get(article.id) is not None for article in articles)
    assert engine.search("sainorvel").hits and engine.search("Kyrgyzstan").hits


def test_the_cli_names_each_rejection_and_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["index", "build", str(HOSTILE), "--index-dir", str(tmp_path / "index")]
    )
    assert result.exit_code == 1, result.output
    rejected = [line for line in result.output.splitlines() if line.startswith("rejected: ")]
    assert len(rejected) == sum(len(entry["rejected"]) for entry in EXPECTED.values())
    for name, entry in EXPECTED.items():
        if entry["rejected"]:
            assert any(str(HOSTILE / name) in line for line in rejected), name
    assert f"{expected_total()} indexed" in result.output


# -- the bundled seed page, each part removed in turn ------------------------------------


def seed_parts() -> dict[str, list[int]]:
    """Line numbers of each part of the bundled aggregator page."""
    lines = SEED_PAGE.read_text(encoding="utf-8").split("\n")
    byline = next(i for i, line in enumerate(lines) if line.startswith("Publié dans "))
    parts: dict[str, list[int]] = {"ticker": [0], "title": [byline - 1], "byline": [byline]}
    starts = {
        "thanks": "Merci d'avoir signalé",
        "warning": "Cette image sera",
        "cross-link": "Lire aussi",
        "closing": "Cliquez ici pour lire",
    }
    for name, start in starts.items():
        parts[name] = [i for i, line in enumerate(lines) if line.startswith(start)]
    taken = {i for numbers in parts.values() for i in numbers}
    parts["body"] = [
        i for i, line in enumerate(lines) if i > byline and line.strip() and i not in taken
    ]
    assert all(parts.values()), parts
    return parts


@pytest.mark.parametrize("missing", list(seed_parts()))
def test_the_seed_page_without_one_part(tmp_path: Path, missing: str) -> None:
    lines = SEED_PAGE.read_text(encoding="utf-8").split("\n")
    dropped = set(seed_parts()[missing])
    page = tmp_path / f"seed-without-{missing}.txt"
    page.write_text("\n".join(line for i, line in enumerate(lines) if i not in dropped), "utf-8")
    items = read_file(page)
    assert len(items) == 1
    item = items[0]
    if missing in ("title", "body"):
        assert not isinstance(item, Article)
        assert f"no {missing}" in item.reason
        return
    assert isinstance(item, Article), item
    assert item.title == SEED_TITLE
    expected = ("", None) if missing == "byline" else ("Maroc Diplomatique", dt.date(2022, 4, 20))
    assert (item.source, item.date) == expected
    assert "Blinken assistera au Maroc" in item.body and item.lang == "fr"
    for foreign in ("Kamaz", "Niamey", "Merci d'avoir", "Cette image", "Lire aussi", "Cliquez"):
        assert foreign not in item.body, foreign


# -- a single 50 MB line -------------------------------------------------------------------


def test_a_50_mb_single_line_is_rejected_quickly_and_nothing_else_is_lost(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    shutil.copy(HOSTILE / "good.jsonl", inputs / "good.jsonl")
    words = "Le gouvernement marocain annonce un plan pour l'election a Rabat. " * 800_000
    prefix = '{"title": "Une ligne geante", "body": "'
    line = prefix + words[: 50 * MB - len(prefix) - 3] + '"}\n'
    (inputs / "line.jsonl").write_text(line, encoding="ascii")
    (inputs / "line.txt").write_text(words[: 50 * MB - 1000], encoding="ascii")
    assert (inputs / "line.jsonl").stat().st_size <= 50 * MB  # within the per-line limit
    started = time.perf_counter()
    report = build_index([inputs], tmp_path / "index", workers=1)
    elapsed = time.perf_counter() - started
    reasons = dict(report.failures)
    assert "article too long" in reasons[f"{inputs / 'line.jsonl'}:1"]
    assert "page too long" in reasons[str(inputs / "line.txt")]
    assert report.indexed == EXPECTED["good.jsonl"]["indexed"] and len(reasons) == 2
    engine = SearchEngine(tmp_path / "index")
    for item in EXPECTED["good.jsonl"]["find"]:
        assert [hit.title for hit in engine.search(item["query"]).hits] == [item["title"]]
    assert elapsed < 60, f"{elapsed:.1f} s"  # before the length checks: minutes
