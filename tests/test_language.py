"""Language detection on real samples: Wikinews, the aggregator pages, written samples."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.language import article_language, detect_language, language_tag
from indexer.readers import SAMPLE_CORPUS_DIR
from search.records import Article

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = Path(__file__).parent / "fixtures" / "language" / "samples.tsv"
SHARED = Path(__file__).resolve().parents[2] / "shared"
TICKER_EXCERPTS = SHARED / "samples" / "maghress" / "ticker-excerpts"


def wikinews(lang: str, count: int) -> list[dict[str, str]]:
    with gzip.open(SAMPLE_CORPUS_DIR / f"wikinews-{lang}.jsonl.gz", "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    return records[:: len(records) // count][:count]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_wikinews_articles(lang: str) -> None:
    records = wikinews(lang, 300)
    wrong = [r["id"] for r in records if detect_language(r["title"], r["body"]) != lang]
    assert wrong == []


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_wikinews_titles_alone(lang: str) -> None:
    records = wikinews(lang, 600)
    right = sum(detect_language(r["title"], "") == lang for r in records)
    assert right >= 0.98 * len(records)


def written_samples() -> list[tuple[str, str, str]]:
    lines = SAMPLES.read_text(encoding="utf-8").splitlines()[1:]
    return [tuple(line.split("\t")) for line in lines if line.strip()]  # type: ignore[misc]


@pytest.mark.parametrize(("lang", "kind", "text"), written_samples())
def test_other_common_languages_are_reported(lang: str, kind: str, text: str) -> None:
    assert detect_language(text, "") == lang


def test_seed_page_is_french() -> None:
    page = (SAMPLE_CORPUS_DIR / "maghress-seed-page.txt").read_text(encoding="utf-8")
    assert detect_language("", page[page.index("Antony Blinken attendu") :]) == "fr"


@pytest.mark.skipif(not TICKER_EXCERPTS.is_dir(), reason="../shared ticker excerpts absent")
def test_arabic_ticker_headlines() -> None:
    headlines: list[str] = []
    for path in sorted(TICKER_EXCERPTS.glob("0*_ar_*.txt")):
        items = re.split(r"[ \u00a0]{4,}", path.read_text(encoding="utf-8"))
        headlines += [item for item in items[:-1] if item.strip()]  # the last one is cut
    assert len(headlines) > 40
    assert [h for h in headlines if detect_language(h, "") != "ar"] == []


@pytest.mark.parametrize("text", ["", "   ", "2022 - 04 - 20", "... !!! 123"])
def test_no_letters_no_language(text: str) -> None:
    assert detect_language(text, text) == ""


def test_the_record_language_wins() -> None:
    english_text = Article("1", "The government", "The government announced a budget.", lang="fr")
    assert article_language(english_text) == "fr"
    assert article_language(Article("2", "Le gouvernement", "Le budget est voté.")) == "fr"
    undetermined = Article("3", "Le gouvernement", "Le budget est voté.", lang="und")
    assert article_language(undetermined) == "fr"


@pytest.mark.parametrize(
    ("tag", "code"),
    [("fr-FR", "fr"), ("EN_us", "en"), ("ary", "ar"), ("und", ""), ("français", ""), ("", "")],
)
def test_language_tags(tag: str, code: str) -> None:
    assert language_tag(tag) == code


def test_model_is_loaded_lazily() -> None:
    code = "import indexer.language as l, sys; sys.exit(l._identifier is not None)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
