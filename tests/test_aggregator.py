"""Aggregator pages (.txt): every field of every fixture, and no ticker text anywhere."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from indexer.aggregator import is_ticker_line, parse_page, ticker_items
from indexer.readers import SAMPLE_CORPUS_DIR, read_file
from search.records import Article, make_id

FIXTURES = Path(__file__).parent / "fixtures" / "aggregator"
EXPECTED: dict[str, dict[str, Any]] = json.loads(
    (FIXTURES / "expected.json").read_text(encoding="utf-8")
)
SHARED = Path(__file__).resolve().parents[2] / "shared"
TICKER_EXCERPTS = SHARED / "samples" / "maghress" / "ticker-excerpts"
BOILERPLATE = (
    "Merci d'avoir signalé",
    "Cette image sera",
    "Cliquez ici",
    "Lire aussi",
    "LIRE AUSSI",
)


def read_one(path: Path) -> Article:
    [item] = read_file(path)
    assert isinstance(item, Article), item
    return item


def assert_no_page_noise(article: Article, expected: dict[str, Any]) -> None:
    text = f"{article.title}\n{article.body}"
    for item in expected["ticker"] + expected["cross_links"]:
        assert item not in text
    for word in expected["made_up_words"]:
        assert word.lower() not in text.lower()
    for phrase in BOILERPLATE:
        assert phrase not in text


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_field_of_every_fixture_page(name: str) -> None:
    expected = EXPECTED[name]
    article = read_one(FIXTURES / name)
    date = dt.date.fromisoformat(expected["date"]) if expected["date"] else None
    assert article.title == expected["title"]
    assert article.source == expected["source"]
    assert article.date == date
    assert article.lang == expected["lang"]
    assert article.url == ""
    assert article.id == make_id("", expected["source"], expected["title"], date)
    paragraphs = article.body.split("\n\n")
    assert paragraphs[0] == expected["paragraphs"][0]
    assert paragraphs[-1] == expected["paragraphs"][-1]
    assert expected["subheading"] in paragraphs
    assert paragraphs == expected["paragraphs"]
    assert_no_page_noise(article, expected)


def test_fixtures_cover_the_variants() -> None:
    raw = {name: (FIXTURES / name).read_bytes() for name in EXPECTED}
    assert any(b"\r\n" in data for data in raw.values())
    assert any(data.startswith(b"\xef\xbb\xbf") for data in raw.values())
    assert any("\u00a0".encode() * 4 in data for data in raw.values())
    assert any(b"    " in data.split(b"\n")[0] for data in raw.values())
    assert {page["encoding"] for page in EXPECTED.values()} >= {"utf-8", "cp1252", "latin-1"}
    assert {page["lang"] for page in EXPECTED.values()} == {"fr", "en"}
    assert any(len(page["cross_links"]) > 1 for page in EXPECTED.values())
    assert any(b"Publi" not in data for data in raw.values())
    assert any(b"Merci d'avoir" not in data for data in raw.values())


def test_bundled_seed_page() -> None:
    article = read_one(SAMPLE_CORPUS_DIR / "maghress-seed-page.txt")
    assert (
        article.title == "Antony Blinken attendu au Maroc pour réunion de la coalition anti-Daech"
    )
    assert article.source == "Maroc Diplomatique"
    assert article.date == dt.date(2022, 4, 20)
    assert article.lang == "fr"
    paragraphs = article.body.split("\n\n")
    assert paragraphs[0].startswith("Le secrétaire d'Etat américain Antony Blinken est attendu")
    assert paragraphs[-1].endswith("résolu début 2022.")
    assert "La coalition s'accorde sur plusieurs domaines de tâches" in paragraphs  # a subheading
    page = (SAMPLE_CORPUS_DIR / "maghress-seed-page.txt").read_text(encoding="utf-8")
    ticker = ticker_items(page.split("\n")[0])
    assert len(ticker) == 48
    text = f"{article.title}\n{article.body}"
    for headline in ticker:
        assert headline not in text
    for phrase in BOILERPLATE:
        assert phrase not in text


@pytest.mark.parametrize(
    "line",
    [
        "Un    Deux titres    Trois titres",
        "Un\u00a0\u00a0\u00a0\u00a0Deux\u00a0\u00a0\u00a0\u00a0Trois\u00a0\u00a0\u00a0\u00a0",
        "Un \u00a0 \u00a0Deux    Trois",  # mixed separators
    ],
)
def test_ticker_lines(line: str) -> None:
    assert is_ticker_line(line)


@pytest.mark.parametrize(
    "line",
    ["Une phrase ordinaire, avec  deux espaces.", "Deux    titres", "12    34    56", ""],
)
def test_not_ticker_lines(line: str) -> None:
    assert not is_ticker_line(line)


def test_byline_with_le_in_the_source_name() -> None:
    record = parse_page("Titre\nPublié dans Le Temps le 03 - 11 - 2019\n\nCorps.")
    assert (record["title"], record["source"], record["date"]) == (
        "Titre",
        "Le Temps",
        dt.date(2019, 11, 3),
    )


def test_impossible_date_is_left_empty() -> None:
    record = parse_page("Titre\nPublié dans X le 31 - 02 - 2019\n\nCorps.")
    assert record["date"] is None and record["source"] == "X"


def test_footer_after_the_closing_line_is_dropped() -> None:
    page = (
        "Titre\nPublié dans X le 01 - 01 - 2020\n\nPremier.\nDernier.\n\n"
        "Cliquez ici pour lire l'article depuis sa source.\nMentions légales du site\n"
    )
    assert parse_page(page)["body"] == "Premier.\n\nDernier."


def test_ticker_lines_inside_the_body_are_dropped() -> None:
    page = "Titre\nPublié dans X le 01 - 01 - 2020\n\nPremier.\nA un    B deux    C trois\nFin."
    assert parse_page(page)["body"] == "Premier.\n\nFin."


@pytest.mark.parametrize(
    "link",
    ["Lire aussi: x", "Lire aussi : x", "LIRE AUSSI x", "À lire aussi: x", "Lire également: x"],
)
def test_cross_link_variants(link: str) -> None:
    page = f"Titre\nPublié dans X le 01 - 01 - 2020\n\nPremier.\n{link}\nFin."
    assert parse_page(page)["body"] == "Premier.\n\nFin."


def test_title_missing_above_the_byline() -> None:
    page = "A un    B deux    C trois\nPublié dans X le 01 - 01 - 2020\n\nCorps."
    assert parse_page(page)["title"] == ""


def excerpt_paths() -> list[Path]:
    return sorted(TICKER_EXCERPTS.glob("0*.txt")) if TICKER_EXCERPTS.is_dir() else []


def excerpt_item_counts() -> dict[str, int]:
    lines = (TICKER_EXCERPTS / "index.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:]]
    return {row["file"]: int(row["n_ticker_items_in_excerpt"]) for row in rows}


needs_shared = pytest.mark.skipif(not excerpt_paths(), reason="../shared ticker excerpts absent")


@needs_shared
@pytest.mark.parametrize("path", excerpt_paths(), ids=lambda path: path.name)
def test_shared_ticker_excerpts_are_recognised(path: Path) -> None:
    excerpt = path.read_text(encoding="utf-8")
    assert is_ticker_line(excerpt)
    assert len(ticker_items(excerpt)) == excerpt_item_counts()[path.name]


@needs_shared
@pytest.mark.parametrize("byline", [True, False], ids=["with-byline", "without-byline"])
@pytest.mark.parametrize("path", excerpt_paths(), ids=lambda path: path.name)
def test_shared_ticker_never_reaches_title_or_body(
    path: Path, byline: bool, tmp_path: Path
) -> None:
    excerpt = path.read_text(encoding="utf-8")
    lines = ["Le titre de l'article", "Premier paragraphe de l'article.", "Dernier paragraphe."]
    if byline:
        lines.insert(1, "Publié dans Le Journal le 05 - 06 - 2021")
    page = tmp_path / "page.txt"
    page.write_text(excerpt + "\n\n\n" + "\n".join(lines), encoding="utf-8")
    article = read_one(page)
    assert article.title == "Le titre de l'article"
    assert article.body == "Premier paragraphe de l'article.\n\nDernier paragraphe."
    for headline in ticker_items(excerpt):
        assert headline not in article.title and headline not in article.body
