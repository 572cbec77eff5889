"""The HTML pages through the test client: search without JavaScript, article, languages, safety."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from web_helpers import XSS_ID, Html, assert_inert

pytest_plugins = ("web_fixtures",)

FR = {"Accept-Language": "fr-FR,fr;q=0.9", "Accept": "text/html"}
EN = {"Accept-Language": "en-US,en;q=0.9", "Accept": "text/html"}


def page(web_client: FlaskClient, url: str, status: int = 200,
         headers: dict[str, str] | None = None, **kwargs: Any) -> str:
    response = web_client.get(url, headers=headers or FR, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert_inert(text)
    return text


def test_home_page_is_a_labelled_search_form(web_client: FlaskClient) -> None:
    html = Html(page(web_client, "/"))
    form = html.find("form", role="search")[0]
    assert form["method"] == "get" and form["action"] == "/"
    box = html.find("input", id="q")[0]
    assert "autofocus" in box and box["role"] == "combobox" and box["aria-expanded"] == "false"
    assert box["aria-controls"] == "q-suggestions" and box["aria-autocomplete"] == "list"
    assert html.find("label", **{"for": "q"})
    assert html.find("ul", id="q-suggestions", role="listbox")
    assert html.find("main") and html.find("header") and html.find("footer")
    assert "41" in html.text and "Conseils de recherche" in html.text


def test_results_page(web_client: FlaskClient) -> None:
    text = page(web_client, "/?q=election")
    html = Html(text)
    assert re.search(r"3\d résultats", html.text) and re.search(r"en \d+,\d{3} s", html.text)
    assert "<mark>" in text
    titles = html.find("a", lang="en") + html.find("a", lang="fr")
    assert any(a["href"].startswith("/articles/") and "q=election" in a["href"] for a in titles)
    checkboxes = html.find("input", type="checkbox", name="lang")
    assert {box["value"] for box in checkboxes} == {"fr", "en"}
    assert all(box["form"] == "search-form" for box in checkboxes)
    assert "anglais" in html.text and "français" in html.text
    assert html.find("select", id="sort", name="sort", form="search-form")
    current = html.find("a", aria_current="page")
    assert [link["aria-label"] for link in current] == ["Page 1"]
    assert html.find("a", rel="next", href="/?q=election&page=2")
    years = [a["href"] for a in html.tags_named("a") if "from=" in a.get("href", "")]
    assert "/?q=election&from=2017-01-01&to=2017-12-31" in years


def test_second_page_and_filters_keep_the_state_in_the_url(web_client: FlaskClient) -> None:
    html = Html(page(web_client, "/?q=election&lang=fr&sort=newest&page=2&per_page=5"))
    assert html.find("a", aria_current="page")[0]["aria-label"] == "Page 2"
    assert html.find("a", rel="prev", href="/?q=election&lang=fr&sort=newest&per_page=5")
    assert html.find("input", type="checkbox", name="lang", value="fr")[0].get("checked") == ""
    assert html.find("option", value="newest")[0].get("selected") == ""
    assert html.find("input", type="hidden", name="per_page", value="5")


def test_year_and_date_filters(web_client: FlaskClient) -> None:
    html = Html(page(web_client, "/?q=election&from=2017-01-01&to=2017-12-31"))
    selected = html.find("a", aria_current="true")
    assert selected and selected[0]["href"] == "/?q=election"
    assert html.find("input", id="date-from", value="2017-01-01")
    assert "2017" in html.text and "2019" not in " ".join(
        t.get("datetime", "") for t in html.find("time"))


def test_did_you_mean_is_a_link(web_client: FlaskClient) -> None:
    html = Html(page(web_client, "/?q=%C3%A9lectoin"))
    assert html.find("a", href="/?q=%C3%A9lection")
    assert "Vouliez-vous dire" in html.text


def test_empty_state_gives_tips_and_a_way_out_of_filters(web_client: FlaskClient) -> None:
    html = Html(page(web_client, "/?q=zzyzxqq"))
    assert "Aucun article ne correspond à « zzyzxqq »" in html.text
    assert "Conseils de recherche" in html.text
    filtered = Html(page(web_client, "/?q=election&lang=xx"))
    assert filtered.find("a", href="/?q=election")


def test_bad_parameters_show_the_form_with_a_message(web_client: FlaskClient) -> None:
    html = Html(page(web_client, "/?q=election&page=abc", status=400))
    assert html.find("input", id="q", value="election")
    assert html.find("div", role="alert") and "page" in html.text


def test_dates_in_the_interface_language(web_client: FlaskClient) -> None:
    assert "29 janvier 2006" in page(web_client, "/?q=Halonen")
    assert "January 29, 2006" in page(web_client, "/?q=Halonen", headers=EN)


def test_interface_language_from_header_switch_and_cookie(web_client: FlaskClient) -> None:
    assert '<html lang="en">' in page(web_client, "/", headers=EN)
    assert '<html lang="fr">' in page(web_client, "/", headers=FR)
    assert '<html lang="fr">' in page(web_client, "/", headers={"Accept": "text/html"})
    response = web_client.get("/?q=election&ui=en", headers=FR)
    assert "kiosque_ui=en" in response.headers["Set-Cookie"]
    assert "SameSite=Lax" in response.headers["Set-Cookie"]
    html = Html(response.get_data(as_text=True))
    assert html.find("a", hreflang="fr", href="/?q=election&ui=fr")
    assert '<html lang="en">' in page(web_client, "/?q=election", headers=FR)  # the cookie wins
    assert '<html lang="fr">' in page(web_client, "/?ui=fr")
    assert '<html lang="fr">' in page(web_client, "/?ui=xx", headers=FR)
    assert "Accept-Language" in response.headers["Vary"]


def test_article_page(web_client: FlaskClient) -> None:
    html = Html(page(web_client, "/articles/enwn-30814?q=Halonen", headers=EN))
    assert "Tarja Halonen wins the 2006 presidential election in Finland" in html.text
    assert len(html.find("p")) > 8
    assert html.find("a", href="/articles/enwn-30814-syndicated")
    assert "The same story in other sources" in html.text
    assert "Related articles" in html.text and html.find("a", href="/articles/enwn-32001")
    assert html.find("a", href="/?q=Halonen")
    original = html.find("a", rel="noopener noreferrer nofollow")
    assert original[0]["href"].startswith("https://en.wikinews.org/")
    assert html.find("article", lang="en")


def test_unknown_article_page(web_client: FlaskClient) -> None:
    text = page(web_client, "/articles/nope", status=404)
    assert "Rien ici" in text
    assert web_client.get("/articles/a%07b", headers=FR).status_code == 400


def test_xss_payload_in_an_article_is_shown_as_text(web_client: FlaskClient) -> None:
    results = page(web_client, "/?q=piège")
    assert "&lt;script&gt;alert(" in results and "Source piégée" in results
    article = page(web_client, f"/articles/{XSS_ID}")
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in article
    assert "&lt;b onmouseover=" in article
    assert "Article original" not in article  # a javascript: url is never linked


@pytest.mark.parametrize("query", ['<script>alert("q")</script>', '"><img src=x onerror=alert(1)>',
                                   "javascript:alert(1)", "{{ 7*7 }}"])
def test_xss_payload_in_the_query_is_shown_as_text(web_client: FlaskClient, query: str) -> None:
    text = page(web_client, "/", query_string={"q": query})
    assert Html(text).find("input", id="q")[0]["value"] == query
    assert "49" not in Html(text).text


@pytest.mark.parametrize("url", ["/", "/?q=election", "/articles/enwn-30814", "/api/search?q=a",
                                 "/api/health", "/openapi.json", "/static/kiosque.css",
                                 "/static/kiosque.js", "/nope", "/api/nope", "/api/search?page=x"])
def test_security_headers_on_every_response(web_client: FlaskClient, url: str) -> None:
    with web_client.get(url) as response:
        headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_assets_are_local(web_client: FlaskClient) -> None:
    html = Html(page(web_client, "/?q=election"))
    for tag, attribute in (("script", "src"), ("link", "href"), ("img", "src")):
        for found in html.find(tag):
            assert found[attribute].startswith("/"), found
    for asset, kind in (("/static/kiosque.css", "text/css"), ("/static/kiosque.js", "javascript"),
                        ("/favicon.ico", "image/svg+xml")):
        with web_client.get(asset) as response:
            assert response.status_code == 200 and kind in response.content_type
            if kind != "image/svg+xml":  # an SVG names its XML namespace by URL
                assert b"http://" not in response.data and b"https://" not in response.data


def test_a_page_past_the_last_result_links_back(web_client: FlaskClient) -> None:
    html = Html(page(web_client, "/?q=election&page=50"))
    assert "au-delà du dernier résultat" in html.text
    assert html.find("a", href="/?q=election")
