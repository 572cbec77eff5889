"""Property-based tests of the query language and of every search parameter (hypothesis).

Whatever a person types, and whatever a client puts in the query string:
SearchEngine.search raises nothing but SearchError (for a bad page, sort
or date parameter), the API answers 200 with the search shape or 400 with
the error shape, never a 5xx, and no query takes 2 seconds on the test
corpus. Examples are derandomized, so CI runs the same ones every time.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from web_helpers import assert_error

from search import SearchEngine, SearchError

pytest_plugins = ("web_fixtures",)

MAX_SECONDS = 2.0
FUZZ = settings(
    max_examples=150,
    deadline=None,  # timed by hand below, per query, against MAX_SECONDS
    derandomize=True,
    # no "explain" phase: it imports modules that warn, and warnings are errors here
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SEARCH_KEYS = {"query", "total", "page", "per_page", "suggestion", "hits", "facets"}
HIT_KEYS = {"id", "title", "title_html", "snippet_html", "source", "date", "lang", "url", "score"}
_MARKS = re.compile(r"</?mark>")

WORDS = st.sampled_from(
    [
        "élection", "elections", "Maroc", "football", "président", "Kyrgyzstan", "coupe",
        "monde", "the", "le", "l'État", "aujourd'hui", "e-mail", "1 000", "3,5", "Marrakech",
        "a", "é", "ONU", "œuvre", "x",
    ]
)  # fmt: skip
LETTERS = st.text(
    alphabet=st.characters(categories=["Ll", "Lu", "Lo", "Nd", "Mn"]), min_size=1, max_size=15
)
OPERATORS = st.sampled_from(
    ["AND", "OR", "NOT", "ET", "OU", "SAUF", "-", "−", "+", "(", ")", "&&", "||", "!", "^2",
     "[a TO b]", "{", "}", "\\", "/", ":", ";", ",", ".", "?", "¿"]
)  # fmt: skip
QUOTES = st.sampled_from(['"', "«", "»", "« ", " »", "“", "”", "'", "’", "‹", "›"])
FIELDS = st.sampled_from(
    ["title:", "titre:", "source:", "lang:", "langue:", "date:", "TITLE:", "url:", "Paris:",
     "http://", "-title:", "-lang:", "-source:", ":"]
)  # fmt: skip
DATES = st.one_of(
    st.sampled_from(
        ["2022", "2022-04", "2022-04-01..2022-05-15", ">2021", ">=2021", "<2020-06", "<=2020-06",
         ">9999-12-31", "<0001-01-01", "<0001", ">9999", "0000", "2022-13", "2022-02-30", "..",
         ">", "<", ">=", "2016..", "..2016", "9999-12-31..0001-01-01", "1-1-1", "２０２２"]
    ),
    st.dates(min_value=dt.date(1, 1, 1)).map(dt.date.isoformat),
    st.integers(min_value=-99999, max_value=99999).map(str),
)  # fmt: skip
WILDCARDS = st.builds(
    lambda word, mark: f"{word}{mark}", st.one_of(WORDS, LETTERS),
    st.sampled_from(["*", "**", "?", "*?", "~", "~1", "~2", "~3", "~0", "~~", "~9"]),
)  # fmt: skip
ANY_TEXT = st.text(max_size=40)  # any unicode: controls, emoji, right-to-left, combining marks
ATOM = st.one_of(
    WORDS,
    LETTERS,
    OPERATORS,
    QUOTES,
    st.builds(str.__add__, FIELDS, st.one_of(WORDS, DATES, QUOTES, LETTERS)),
    st.builds(str.__add__, st.just("date:"), DATES),
    WILDCARDS,
    ANY_TEXT,
)
QUERIES = st.one_of(
    st.lists(ATOM, max_size=40).map(" ".join),
    st.lists(ATOM, max_size=12).map("".join),
    st.text(max_size=300),
    st.builds(lambda atom, n: " ".join([atom] * n), ATOM, st.integers(1, 400)),  # huge
    st.text(min_size=1000, max_size=5000),
)
PARAM_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "0", "1", "-1", "10", "100", "101", "1000", "1001", "1e3", "1.5",
                     "٣", "1_000", "9" * 5000, "fr", "en", "fr,en", "FR", "xx", "Wikinews",
                     "relevance", "newest", "oldest", "true", "false", "yes", "on", "2022-04-20",
                     "2022-4-20", "9999-12-31", "0001-01-01", "\x00", "%00", "../../etc"]),
)  # fmt: skip


def timed(call: Any, *args: Any, **kwargs: Any) -> Any:
    """The call's result, after checking the CPU it took: a bound on the work a query may
    cause, which holds on a loaded machine too (wall-clock time there measures the load)."""
    started = time.thread_time()
    result = call(*args, **kwargs)
    elapsed = time.thread_time() - started
    assert elapsed < MAX_SECONDS, f"{elapsed:.2f} s of CPU for {args!r:.200} {kwargs!r:.200}"
    return result


def assert_highlights_are_escaped(fragment: str) -> None:
    """Only <mark> tags in highlighted HTML; everything else is escaped text."""
    bare = _MARKS.sub("", fragment)
    assert "<" not in bare and ">" not in bare, fragment[:200]
    html.unescape(bare)


def assert_page(page: Any, per_page: int) -> None:
    assert page.total >= len(page.hits) and len(page.hits) <= min(per_page, 100)
    assert set(page.facets) >= {"lang", "source", "year"}
    for hit in page.hits:
        assert isinstance(hit.id, str) and hit.id
        assert_highlights_are_escaped(hit.title_html)
        assert_highlights_are_escaped(hit.snippet_html)
        assert hit.date is None or isinstance(hit.date, dt.date)


# Queries that once failed or were slow, always tried first.
KNOWN_BAD = [
    "date:>9999-12-31",  # OverflowError, a 500 through the API
    "date:<0001",
    "a" * 990 + "~2",  # a Levenshtein automaton of 990 characters: 4 s
    " ".join(f"{w}~2" for w in "gouvernement président ministre économie".split() * 8),
    " ".join(f"{a}{b}*" for a in "abcdefgh" for b in "aeiou"),  # 40 prefix expansions
    "«" + "la " * 300 + "»",  # a 300-word phrase: 10 s on the bundled corpus
    " ".join(f"qzx{chr(97 + i % 26)}vkw{chr(97 + i // 26)}jr" for i in range(40)),  # unknown
    "\ud800 lone surrogate",
]


@FUZZ
@given(query=QUERIES)
@example(query=KNOWN_BAD[0])
@example(query=KNOWN_BAD[1])
@example(query=KNOWN_BAD[2])
@example(query=KNOWN_BAD[3])
@example(query=KNOWN_BAD[4])
@example(query=KNOWN_BAD[5])
@example(query=KNOWN_BAD[6])
@example(query=KNOWN_BAD[7])
def test_any_query_text_is_answered_quickly(engine: SearchEngine, query: str) -> None:
    page = timed(engine.search, query)
    assert_page(page, 10)
    assert page.suggestion is None or isinstance(page.suggestion, str)


@FUZZ
@given(
    query=QUERIES,
    page=st.one_of(st.integers(-5, 1005), PARAM_TEXT),
    per_page=st.one_of(st.integers(-5, 500), PARAM_TEXT),
    lang=st.one_of(st.none(), PARAM_TEXT, st.lists(PARAM_TEXT, max_size=5)),
    source=st.one_of(st.none(), PARAM_TEXT, st.lists(PARAM_TEXT, max_size=5)),
    date_from=st.one_of(st.none(), st.dates(), PARAM_TEXT, DATES),
    date_to=st.one_of(st.none(), st.dates(), PARAM_TEXT, DATES),
    sort=st.one_of(st.sampled_from(["relevance", "newest", "oldest"]), PARAM_TEXT),
    recency=st.booleans(),
    expand=st.booleans(),
)
def test_every_search_parameter_is_checked(
    engine: SearchEngine, query: str, page: Any, per_page: Any, lang: Any, source: Any,
    date_from: Any, date_to: Any, sort: Any, recency: bool, expand: bool,
) -> None:  # fmt: skip
    try:
        result = timed(
            engine.search, query, page=page, per_page=per_page, lang=lang, source=source,
            date_from=date_from, date_to=date_to, sort=sort, recency=recency,
            expand_stories=expand,
        )  # fmt: skip
    except SearchError as error:
        assert str(error)  # says which parameter
        return
    assert_page(result, int(per_page))


@FUZZ
@given(prefix=QUERIES, limit=st.integers(-3, 80))
def test_suggest_and_lookups_never_fail(engine: SearchEngine, prefix: str, limit: int) -> None:
    suggestions = timed(engine.suggest, prefix, limit)
    assert isinstance(suggestions, list) and len(suggestions) <= max(1, min(limit, 50))
    assert all(isinstance(s, str) and s for s in suggestions)
    assert timed(engine.get, prefix) is None or prefix
    timed(engine.more_like, prefix, limit)
    timed(engine.story, prefix)


# -- through the HTTP API ----------------------------------------------------------------

SEARCH_PARAMS = st.dictionaries(
    st.sampled_from(["q", "page", "per_page", "lang", "source", "from", "to", "sort", "recency",
                     "expand", "unknown", "q[]", ""]),
    st.one_of(PARAM_TEXT, QUERIES.filter(lambda q: len(q) <= 1200)),
    max_size=8,
)  # fmt: skip


def assert_api_answer(response: Any, ok_keys: set[str]) -> dict[str, Any]:
    assert response.status_code in (200, 400), (response.status_code, response.get_data()[:300])
    assert response.mimetype == "application/json"
    body = response.get_json()
    if response.status_code == 400:
        assert_error(body)
    else:
        assert set(body) == ok_keys, body.keys()
    return body


@FUZZ
@given(params=SEARCH_PARAMS, repeated=st.lists(st.tuples(st.just("lang"), PARAM_TEXT), max_size=3))
@example(params={"q": KNOWN_BAD[0]}, repeated=[])
@example(params={"q": KNOWN_BAD[6], "sort": "newest", "per_page": "100"}, repeated=[])
@example(params={"per_page": "9" * 5000, "page": "٣"}, repeated=[("lang", "\x00")])
def test_api_search_never_gives_a_5xx(
    web_app: Flask, params: dict[str, str], repeated: list[tuple[str, str]]
) -> None:
    client = web_app.test_client()
    query_string = list(params.items()) + repeated
    response = timed(client.get, "/api/search", query_string=query_string)
    body = assert_api_answer(response, SEARCH_KEYS)
    if response.status_code == 200:
        assert body["total"] >= len(body["hits"]) and len(body["hits"]) <= body["per_page"] <= 100
        for hit in body["hits"]:
            assert set(hit) == HIT_KEYS
            assert_highlights_are_escaped(hit["title_html"])
            assert_highlights_are_escaped(hit["snippet_html"])


@FUZZ
@given(q=st.one_of(PARAM_TEXT, QUERIES), limit=st.one_of(st.none(), PARAM_TEXT))
def test_api_suggest_never_gives_a_5xx(web_app: Flask, q: str, limit: str | None) -> None:
    client = web_app.test_client()
    params = {"q": q} if limit is None else {"q": q, "limit": limit}
    body = assert_api_answer(
        timed(client.get, "/api/suggest", query_string=params), {"query", "suggestions"}
    )
    if "suggestions" in body:
        assert all(isinstance(s, str) for s in body["suggestions"])


@FUZZ
@given(q=QUERIES.filter(lambda q: len(q) <= 1000), page=PARAM_TEXT)
def test_the_search_page_never_gives_a_5xx(web_app: Flask, q: str, page: str) -> None:
    client = web_app.test_client()
    response = timed(
        client.get, "/", query_string={"q": q, "page": page}, headers={"Accept": "text/html"}
    )
    assert response.status_code in (200, 400), response.status_code
