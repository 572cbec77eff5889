"""The demo corpus's spacing repair (bench/make_sample_corpus.py), and the corpus made with it."""

from __future__ import annotations

import gzip
import json

import pytest

from bench.make_sample_corpus import repair_spacing
from indexer.readers import SAMPLE_CORPUS_DIR


@pytest.mark.parametrize("text, repaired", [
    ("le 30 décembre , et le 17 novembre .\n\nDans", "le 30 décembre, et le 17 novembre.\n\nDans"),
    ("à Saumur ( Maine-et-Loire ) , privilégiant", "à Saumur (Maine-et-Loire), privilégiant"),
    ("3,5 millions , soit 12 % .", "3,5 millions, soit 12 %."),
    ("« Gilets jaunes » : lundi", "« Gilets jaunes » : lundi"),
])  # fmt: skip
def test_french_loses_the_spaces_of_its_tokenizer(text: str, repaired: str) -> None:
    assert repair_spacing(text, "fr") == repaired


@pytest.mark.parametrize("text, repaired", [
    ("Iran ian representatives", "Iranian representatives"),
    ("The British -Iraq i careworker", "The British-Iraqi careworker"),
    ("suicide bomber s from the West Bank", "suicide bombers from the West Bank"),
    ("the government 's Congressional", "the government's Congressional"),
    ("Australia n troops, Japan ese aid, Israel i.", "Australian troops, Japanese aid, Israeli."),
    # words, not trails: left alone
    ("the Prawo i Sprawiedliwość party", "the Prawo i Sprawiedliwość party"),
    ("Dar es Salaam, a ese, do i", "Dar es Salaam, a ese, do i"),
    ("India Today, Iran International", "India Today, Iran International"),
])  # fmt: skip
def test_english_joins_the_link_trails_its_extraction_split(text: str, repaired: str) -> None:
    assert repair_spacing(text, "en") == repaired


def test_other_languages_are_left_as_they_are() -> None:
    assert repair_spacing("Madrid , España .", "es") == "Madrid , España ."


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_bundled_corpus_is_repaired(lang: str) -> None:
    """The committed files are the script's output: repairing them again changes nothing."""
    path = SAMPLE_CORPUS_DIR / f"wikinews-{lang}.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        records = [json.loads(line) for line in stream]
    unrepaired = [r["id"] for r in records
                  if repair_spacing(r["body"], lang) != r["body"]
                  or repair_spacing(r["title"], lang) != r["title"]]  # fmt: skip
    assert unrepaired == []
