"""SearchEngine on a real index of committed Wikinews articles."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from indexer import add_documents, build_index, delete_documents
from search import Article, IndexNotFound, SearchEngine, SearchError, lemmas, store
from search.analysis import stopwords


def ids(page) -> list[str]:
    return [hit.id for hit in page.hits]


def marked_words(html: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", html)


@pytest.mark.parametrize("query", ["élections", "elections", "election", "élection"])
def test_accented_and_plain_queries_find_both_languages(engine, query):
    page = engine.search(query, per_page=50, recency=False)
    langs = {hit.lang for hit in page.hits}
    assert langs == {"fr", "en"}
    marks = [
        w.lower() for hit in page.hits for w in marked_words(hit.title_html + hit.snippet_html)
    ]
    assert any(w.startswith("élection") for w in marks)
    assert any(w.startswith("election") for w in marks)


def test_highlight_shows_the_word_as_written(engine):
    hit = engine.search("election presidentielle", lang="fr").hits[0]
    assert "<mark>élection</mark>" in hit.title_html.lower() or "<mark>élection" in (
        hit.snippet_html.lower()
    )


def test_total_is_exact_and_pages_partition_results(engine):
    first = engine.search("the", per_page=5, recency=False)
    everything = engine.search("the", per_page=100, recency=False)
    assert first.total == everything.total == len(everything.hits)
    pages = [engine.search("the", page=p, per_page=5, recency=False) for p in range(1, 4)]
    seen = [hit_id for page in pages for hit_id in ids(page)]
    assert len(seen) == len(set(seen))
    assert seen == ids(everything)[: len(seen)]


def test_per_page_is_capped_at_100(engine):
    assert engine.search("a", per_page=1000).per_page == 100


@pytest.mark.parametrize(
    "kwargs",
    [
        {"page": 0},
        {"page": "x"},
        {"per_page": 0},
        {"sort": "random"},
        {"date_from": "2022-13-45"},
        {"date_to": "yesterday"},
    ],
)
def test_bad_parameters_raise_search_error(engine, kwargs):
    with pytest.raises(SearchError):
        engine.search("maroc", **kwargs)


def test_language_and_source_filters(engine):
    french = engine.search("élection", lang="fr", per_page=50)
    assert french.hits and {hit.lang for hit in french.hits} == {"fr"}
    both = engine.search("élection", lang=["fr", "en"], per_page=50)
    assert both.total > french.total
    assert engine.search("élection", source="Wikinews").total == both.total
    assert engine.search("élection", source="Le Monde").total == 0


def test_facets_follow_the_query_and_the_other_filters(engine):
    page = engine.search("élection", lang="fr", per_page=50)
    # the language facet ignores the language filter, so the user can switch
    assert page.facets["lang"]["fr"] == page.total
    assert page.facets["lang"]["en"] > 0
    # the year facet follows the language filter
    assert sum(page.facets["year"].values()) == page.total
    assert "2005" not in page.facets["year"]


def test_date_range_and_sorting(engine):
    page = engine.search(
        "", date_from="2016-01-01", date_to="2016-12-31", sort="newest", per_page=100
    )
    dates = [hit.date for hit in page.hits]
    assert dates and all(dt.date(2016, 1, 1) <= d <= dt.date(2016, 12, 31) for d in dates)
    assert dates == sorted(dates, reverse=True)
    oldest = engine.search(
        "", date_from=dt.date(2016, 1, 1), date_to="2016-12-31", sort="oldest", per_page=100
    )
    assert [hit.date for hit in oldest.hits] == sorted(dates)


def test_query_language(engine):
    assert engine.search('"Union africaine"').hits[0].id == "2017_01_31-002"
    assert engine.search("« Union africaine »").hits[0].id == "2017_01_31-002"
    kyrgyz = set(ids(engine.search("Kyrgyz", per_page=50)))
    without = set(ids(engine.search("Kyrgyz -probe", per_page=50)))
    assert "enwn-6071" in kyrgyz and "enwn-6071" not in without and without < kyrgyz
    assert set(ids(engine.search("Kyrgyz NOT probe", per_page=50))) == without
    assert set(ids(engine.search("Kyrgyz SAUF probe", per_page=50))) == without
    both = set(ids(engine.search("Kyrgyz AND lightning", per_page=50)))
    assert both == {"enwn-6530"}
    assert set(ids(engine.search("Kyrgyz ET lightning", per_page=50))) == both
    either = set(ids(engine.search("Gabon OR Kyrgyzstan", per_page=50)))
    assert "2016_09_01-003" in either and "enwn-6028" in either
    assert {h.lang for h in engine.search("lang:en election", per_page=50).hits} == {"en"}
    titled = set(ids(engine.search("title:Maroc", per_page=50)))
    assert titled == {"2017_01_31-002", "2016_08_23-003"}
    assert len(ids(engine.search("Maroc", per_page=50))) > len(titled)


def test_dates_in_the_query(engine):
    for query in ("date:2016-08 France", "date:2016-08-01..2016-08-31 France"):
        page = engine.search(query, per_page=50)
        assert page.hits and all(
            h.date and h.date.strftime("%Y-%m") == "2016-08" for h in page.hits
        )
    later = engine.search("date:>2016 élection", per_page=50)
    assert later.hits and all(h.date.year >= 2017 for h in later.hits)


def test_prefix_and_fuzzy(engine):
    assert "enwn-6028" in ids(engine.search("Kyrgyz*", per_page=50))
    assert "enwn-6028" in ids(engine.search("Kyrgyzstn~", per_page=50))
    # ~3 and above mean ~2 (they used to be searched as the text "Kyrgyzstn~3": nothing);
    # ~0 means the word as written
    assert ids(engine.search("Kyrgyztn~3", per_page=50)) == ids(
        engine.search("Kyrgyztn~2", per_page=50)
    )
    assert "enwn-6028" in ids(engine.search("Kyrgyztn~3", per_page=50))
    assert ids(engine.search("Kyrgyzstan~0", per_page=50)) == ids(
        engine.search("Kyrgyzstan", per_page=50)
    )
    hit = engine.search("Kyrgyzst*").hits[0]
    assert any(
        w.lower().startswith("kyrgyzst") for w in marked_words(hit.snippet_html + hit.title_html)
    )


NASTY = [
    "",
    " ",
    "*",
    "?",
    "???",
    "a*",
    "*a*",
    "~",
    "~~2",
    '"',
    '"unterminated',
    "«",
    "»",
    "OR",
    "AND",
    "NOT",
    "-",
    "--x",
    "title:",
    "date:",
    "date:2022-99",
    "date:>",
    "lang:",
    "source:",
    "(x",
    "x)",
    "[a TO b]",
    "x^2",
    "\\",
    "'",
    "l'",
    "jusqu'",
    "<script>alert(1)</script>",
    "a" * 5000,
    " ".join(["mot"] * 2000),
    "\x00\x01",
    "ﷺ",
    "🙂",
    "مرحبا",
    "SELECT * FROM articles;",
    "date:2022-04-01..",
    "..2022",
]


@pytest.mark.parametrize("query", NASTY)
def test_any_query_gives_results_or_an_empty_page(engine, query):
    page = engine.search(query)
    assert page.total >= 0
    for hit in page.hits:
        assert "<script>" not in hit.title_html + hit.snippet_html


def test_snippets_escape_and_highlight(tmp_path):
    body = "Intro. <script>alert('x')</script> Le porte-parole a parlé de l'armée & des élections."
    add_documents([Article(id="x1", title="Essai <b>gras</b>", body=body, lang="fr")], tmp_path)
    hit = SearchEngine(tmp_path).search("armee elections").hits[0]
    assert "<script>" not in hit.snippet_html and "&lt;script&gt;" in hit.snippet_html
    assert "<mark>armée</mark>" in hit.snippet_html and "l&#x27;<mark>" in hit.snippet_html
    assert "<mark>élections</mark>" in hit.snippet_html
    assert hit.title_html == "Essai &lt;b&gt;gras&lt;/b&gt;"


def test_only_title_matched_gives_the_lead(tmp_path):
    body = "Premier paragraphe sans rapport. " * 20
    add_documents(
        [Article(id="t1", title="Tempête sur Casablanca", body=body, lang="fr")], tmp_path
    )
    hit = SearchEngine(tmp_path).search("Casablanca").hits[0]
    assert hit.title_html == "Tempête sur <mark>Casablanca</mark>"
    assert hit.snippet_html.startswith("Premier paragraphe")
    assert 160 <= len(hit.snippet_html) <= 260


def test_match_past_40000_characters_is_found_and_shown(tmp_path):
    filler = "Le conseil municipal a débattu du budget de la ville pendant des heures. " * 700
    body = filler + "Enfin, le maire a évoqué la zellige de Fès restaurée."
    assert len(filler) > 40_000
    add_documents([Article(id="long", title="Conseil municipal", body=body, lang="fr")], tmp_path)
    hit = SearchEngine(tmp_path).search("zellige").hits[0]
    assert "<mark>zellige</mark>" in hit.snippet_html and hit.snippet_html.startswith("…")
    assert len(hit.snippet_html) < 400


def test_phrase_highlights_the_phrase_not_each_word(tmp_path):
    body = (
        "La coupe est pleine, a dit le ministre. Le monde entier regarde. "
        "La coupe du monde commence demain."
    )
    add_documents([Article(id="p1", title="Sport", body=body, lang="fr")], tmp_path)
    hit = SearchEngine(tmp_path).search('"coupe du monde"').hits[0]
    assert marked_words(hit.snippet_html) == ["coupe du monde"]


def test_get_returns_every_record_field(engine, engine_articles):
    original = engine_articles[0]
    article = engine.get(original.id)
    assert article == original
    assert engine.get("no-such-id") is None


def test_more_like_finds_the_same_subject(engine):
    related = engine.more_like("enwn-6028", limit=3)
    assert related and "enwn-6028" not in ids_of(related)
    assert any(hit.id in {"enwn-6071", "enwn-6155", "enwn-6530"} for hit in related)
    assert engine.more_like("no-such-id") == []


def ids_of(hits) -> list[str]:
    return [hit.id for hit in hits]


def test_suggest_completes_from_the_index(engine):
    completions = engine.suggest("kyrg")
    assert completions and all(c.lower().startswith("kyrg") for c in completions)
    assert engine.suggest("électi")[0].lower().startswith("électi")
    assert engine.suggest("") == []


def test_did_you_mean_only_for_unknown_words(engine):
    assert engine.search("Kyrgystan").suggestion == "Kyrgyzstan"
    assert engine.search("eletions").suggestion in {"elections", "élections"}
    assert engine.search("Marakech OR Kyrgyzstan").suggestion == "Marrakech OR Kyrgyzstan"
    assert engine.search("Zzyzzogram").suggestion is None  # nothing close to it
    assert engine.search("Kyrgyzstan").suggestion is None


def test_words_of_deleted_articles_are_neither_suggested_nor_corrections(tmp_path):
    """A deleted article's words stay in the vocabulary until a merge: never offer them."""
    articles = [
        Article(id="keep", title="Le marché de Marrakech", body="Le marché ouvre tôt à "
                "Marrakech, disent les commerçants de la médina.", lang="fr"),
        Article(id="gone", title="Zorglubissime à Fès", body="Un zorglubissime a été vu "
                "hier soir à Fès, disent les témoins.", lang="fr"),
    ]
    build_index([], tmp_path)
    add_documents(articles, tmp_path, workers=1)
    engine = SearchEngine(tmp_path)
    assert engine.suggest("zorglu") == ["zorglubissime"]
    assert engine.search("zorglubisime").suggestion == "zorglubissime"
    delete_documents(["gone"], tmp_path)
    assert engine.suggest("zorglu") == []
    assert engine.search("zorglubisime").suggestion is None
    assert engine.search("zorglubissime").total == 0
    assert engine.suggest("marra") == ["marrakech"]


def test_a_long_pasted_text_searches_its_words_not_its_stop_words(engine):
    """Stop words do not use up the query's clause budget: the last word still counts."""
    stop_words = " ".join(sorted(stopwords("fr"))[:60])
    page = engine.search(stop_words + " Kyrgyzstan")
    alone = engine.search("Kyrgyzstan")
    assert alone.total > 0
    assert [hit.id for hit in page.hits] == [hit.id for hit in alone.hits]


def test_a_new_commit_is_visible_to_the_next_query(tmp_path, engine_articles):
    build_index([], tmp_path)
    engine = SearchEngine(tmp_path)
    assert engine.search("Kyrgyzstan").total == 0
    add_documents(engine_articles, tmp_path)
    assert engine.search("Kyrgyzstan").total > 0
    delete_documents(["enwn-6028"], tmp_path)
    assert "enwn-6028" not in ids(engine.search("Kyrgyzstan", per_page=50))


def test_a_rebuild_is_visible_without_reopening(tmp_path, engine_articles):
    build_index([], tmp_path)
    engine = SearchEngine(tmp_path)
    assert engine.document_count() == 0
    jsonl = tmp_path.parent / "articles.jsonl"
    jsonl.write_text("\n".join(json.dumps(a.to_dict()) for a in engine_articles[:5]))
    build_index([jsonl], tmp_path)
    assert engine.document_count() == 5


def test_missing_or_outdated_index_says_how_to_build(tmp_path):
    with pytest.raises(IndexNotFound, match="kiosque index build"):
        SearchEngine(tmp_path / "nothing")
    build_index([], tmp_path)
    meta = store.current_generation(tmp_path) / store.META_FILE
    meta.write_text(json.dumps({"schema_version": 0}))
    with pytest.raises(IndexNotFound, match="rebuild the index with: kiosque index build"):
        SearchEngine(tmp_path)


def test_the_index_records_its_lemma_table_and_refuses_another(tmp_path):
    build_index([], tmp_path)
    meta_file = store.current_generation(tmp_path) / store.META_FILE
    meta = json.loads(meta_file.read_text())
    assert meta["lemmas"] == lemmas.identity() and meta["lemmas"]["fr"]
    assert meta["simplemma"] == lemmas.source_version()
    meta_file.write_text(json.dumps({**meta, "lemmas": {"fr": "0" * 16}, "simplemma": "1.0"}))
    with pytest.raises(IndexNotFound, match=r"simplemma 1\.0.*rebuild the index with: kiosque"):
        SearchEngine(tmp_path)
    del meta["lemmas"]  # built before tables were recorded: taken as it is
    meta_file.write_text(json.dumps(meta))
    assert SearchEngine(tmp_path).document_count() == 0


def test_the_lemma_digest_follows_the_table():
    table = lemmas.lemma_table("fr")
    assert len(table) > 40_000
    changed = {**table, "naquit": "naquit"}
    assert lemmas._digest(changed) != lemmas._digest(table) == lemmas.identity()["fr"]


def test_stories_collapse_into_one_hit(tmp_path: Path):
    body = (
        "Le roi Mohammed VI a inauguré mardi à Tanger un nouveau port de commerce, "
        "destiné à accueillir les plus grands porte-conteneurs du monde et à créer "
        "plusieurs milliers d'emplois dans la région du nord du royaume, selon le "
        "ministère de l'Équipement qui a présenté le projet aux investisseurs étrangers."
    )
    articles = [
        Article(
            id="a",
            title="Tanger inaugure son port",
            body=body,
            source="Le Matin",
            lang="fr",
            date=dt.date(2022, 5, 1),
        ),
        Article(
            id="b",
            title="Un nouveau port à Tanger",
            body=body + " (MAP)",
            source="Hespress",
            lang="fr",
            date=dt.date(2022, 5, 2),
        ),
        Article(
            id="c",
            title="Tanger: le port",
            body="Sans rapport avec le reste, le port de Tanger a connu une grève.",
            source="L'Opinion",
            lang="fr",
        ),
    ]
    report = add_documents(articles, tmp_path)
    assert report.grouped == 1
    engine = SearchEngine(tmp_path)
    page = engine.search("port Tanger")
    assert page.total == 2 and len(page.hits) == 2
    grouped = next(hit for hit in page.hits if hit.story)
    assert {grouped.id, grouped.story[0].id} == {"a", "b"}
    expanded = engine.search("port Tanger", expand_stories=True)
    assert expanded.total == 3 and all(not hit.story for hit in expanded.hits)


def test_months_are_counted_inside_one_year(engine):
    page = engine.search("", date_from="2016-01-01", date_to="2016-12-31", per_page=1)
    months = page.facets["month"]
    assert months and all(month.startswith("2016-") for month in months)
    assert sum(months.values()) == page.total
    assert "month" not in engine.search("", date_from="2016-01-01", per_page=1).facets
