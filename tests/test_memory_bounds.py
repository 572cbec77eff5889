"""A long-running server keeps its analysis caches bounded."""

from __future__ import annotations

import pytest

from search import SearchEngine, analysis
from search import engine as engine_module


def _fill(count: int) -> None:
    for number in range(count):
        analysis.token_forms(f"motinconnu{number}é", "fr")


def _sizes() -> list[int]:
    return [cached.cache_info().currsize for cached in analysis.WORD_CACHES]


def test_trim_caches_empties_them_only_beyond_the_limit() -> None:
    analysis.trim_caches(0)
    _fill(20)
    assert min(_sizes()) >= 20
    assert analysis.trim_caches(1_000) is False and min(_sizes()) >= 20
    assert analysis.trim_caches(10) is True and _sizes() == [0] * len(analysis.WORD_CACHES)
    assert analysis.token_forms("élections", "fr") == ("elections", "elections\x1félections",
                                                        "fr:elect")


def test_every_request_keeps_the_caches_bounded(
    engine: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "SERVING_CACHE_WORDS", 10)
    _fill(20)
    assert engine.suggest("mar") is not None
    assert max(_sizes()) <= 10
    page = engine.search("élections Maroc")
    assert page.hits and "<mark>" in page.hits[0].title_html + page.hits[0].snippet_html
