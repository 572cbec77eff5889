"""Shared fixtures: real temporary indexes built from committed real articles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer import build_index
from search import Article, SearchEngine

FIXTURES = Path(__file__).parent / "fixtures"
ENGINE_ARTICLES = FIXTURES / "wikinews-engine.jsonl"
SHARED = Path(__file__).resolve().parents[2] / "shared"


def load_articles(path: Path = ENGINE_ARTICLES) -> list[Article]:
    """The committed Wikinews articles (CC BY 2.5) as Article objects."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Article.from_dict(json.loads(line)) for line in lines if line.strip()]


@pytest.fixture(scope="session")
def engine_articles() -> list[Article]:
    return load_articles()


@pytest.fixture(scope="session")
def engine_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the committed Wikinews sample, built once through the real file reader."""
    index_dir = tmp_path_factory.mktemp("engine-index")
    report = build_index([ENGINE_ARTICLES], index_dir, workers=1)
    assert report.indexed > 20 and not report.failures
    return index_dir


@pytest.fixture(scope="session")
def engine(engine_index: Path) -> SearchEngine:
    return SearchEngine(engine_index)
