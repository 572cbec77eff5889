"""The analysis table (issue 4): (query, text, expectation) cases run on a real index.

Each row of ``analysis_cases.tsv`` says that a query must find a text, must
not find it, or must rank it above another text. Every text of the table is
one article of a single index, built once through ``indexer.add_documents``
and searched through ``SearchEngine.search``, so the whole chain is tested:
tokenization, folding, stop words, stemming, the query builder, variants and
ranking.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

import indexer
import search

TABLE = Path(__file__).parent / "analysis_cases.tsv"
EXPECTATIONS = ("match", "no-match", "above")
POINTS = ("nfc", "apostrophe", "elision", "hyphen", "acronym", "number", "single", "fold",
          "script", "stop", "stem", "order", "rank", "qlang", "variant")
MIN_CASES = 150


@dataclass(frozen=True)
class Text:
    id: str
    lang: str
    text: str


@dataclass(frozen=True)
class Case:
    point: str
    query: str
    expect: str
    text: str
    other: str = ""
    lang: str = ""

    def __str__(self) -> str:
        other = f" over {self.other}" if self.other else ""
        where = f" [lang={self.lang}]" if self.lang else ""
        return f"{self.point}: {self.query!r} {self.expect} {self.text}{other}{where}"


def _unescape(value: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), value)


def load_table(path: Path = TABLE) -> tuple[dict[str, Text], list[Case]]:
    """The texts (by id) and the cases of the table file."""
    texts: dict[str, Text] = {}
    cases: list[Case] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, *fields = [_unescape(field) for field in line.split("\t")]
        if kind == "text":
            text_id, lang, text = fields
            assert text_id not in texts, f"text id {text_id} defined twice"
            texts[text_id] = Text(text_id, lang, text)
        else:
            assert kind == "case", line
            cases.append(Case(*fields))
    return texts, cases


TEXTS, CASES = load_table()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> search.SearchEngine:
    """One index of every text of the table (title and body are the text)."""
    index_dir = tmp_path_factory.mktemp("analysis-table")
    articles = [search.Article(id=t.id, title=t.text, body=t.text, lang=t.lang)
                for t in TEXTS.values()]
    report = indexer.add_documents(articles, index_dir)
    assert report.indexed == len(articles) and not report.failures and not report.duplicates
    return search.SearchEngine(index_dir)


def ranked_ids(engine: search.SearchEngine, case: Case) -> list[str]:
    page = engine.search(case.query, per_page=100, recency=False, lang=case.lang or None)
    return [hit.id for hit in page.hits]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_case(engine: search.SearchEngine, case: Case) -> None:
    ids = ranked_ids(engine, case)
    if case.expect == "match":
        assert case.text in ids, f"{case.query!r} does not find {TEXTS[case.text].text!r}"
    elif case.expect == "no-match":
        assert case.text not in ids, f"{case.query!r} finds {TEXTS[case.text].text!r}"
    else:
        assert case.text in ids and case.other in ids, f"{case.query!r}: both must match: {ids}"
        assert ids.index(case.text) < ids.index(case.other), (
            f"{case.query!r} ranks {TEXTS[case.other].text!r} above {TEXTS[case.text].text!r}"
        )


def test_table_is_well_formed() -> None:
    assert len(CASES) >= MIN_CASES
    for case in CASES:
        assert case.expect in EXPECTATIONS, case
        assert case.point in POINTS, case
        assert case.text in TEXTS, case
        assert (case.expect == "above") == bool(case.other), case
        assert not case.other or case.other in TEXTS, case
    for text in TEXTS.values():
        assert len(list(search.analysis.tokenize(text.text))) < 25, text  # no story grouping


def test_table_covers_every_point_in_both_languages() -> None:
    points = Counter(case.point for case in CASES)
    assert set(points) == set(POINTS), set(POINTS) - set(points)
    assert all(count >= 3 for count in points.values()), points
    langs = Counter(TEXTS[case.text].lang for case in CASES)
    assert langs["fr"] >= 100 and langs["en"] >= 25, langs
    expectations = Counter(case.expect for case in CASES)
    assert all(expectations[e] >= 15 for e in EXPECTATIONS), expectations
