"""Saved HTML article pages: metadata from the head, body from the main content.

Title: og:title, else the first <h1> of the content (not a logo in the page
header), else <title> (without a trailing " - Site name"). Date: the usual
meta tags, else JSON-LD datePublished, else a <time datetime>. Source:
og:site_name or application-name, else the url's host. Url: og:url, else
<link rel=canonical>. Language: <html lang>, else og:locale or a
content-language meta (the caller detects it when none). Body: the text of
<article>, else <main>, else the element whose <p> children hold the most
text; never navigation, header, footer, aside, forms, figures, scripts or
styles. Paragraphs are separated by blank lines.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import warnings
from typing import Any
from urllib.parse import urlsplit

from bs4 import (
    BeautifulSoup,
    Comment,
    MarkupResemblesLocatorWarning,
    NavigableString,
    Tag,
    XMLParsedAsHTMLWarning,
)
from bs4.element import Declaration, Doctype, ProcessingInstruction

from search.records import RecordError, parse_date

from .plaintext import clean_line, join_paragraphs

DATE_META_NAMES = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "datepublished",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.date",
    "dcterms.created",
    "dcterms.issued",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "publication_date",
    "sailthru.date",
    "parsely-pub-date",
    "article.published",
)
SOURCE_META_NAMES = ("og:site_name", "application-name")
DROPPED_TAGS = (
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside",
    "form", "button", "iframe", "svg", "canvas", "figure", "select", "textarea",
)  # fmt: skip
DROPPED_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search"})
# class or id words of page furniture inside an article
FURNITURE_WORDS = frozenset(
    {"share", "sharing", "social", "related", "newsletter", "comments", "breadcrumb",
     "breadcrumbs", "advert", "advertisement", "ads", "promo", "cookie", "cookies"}
)  # fmt: skip
BLOCK_TAGS = frozenset(
    {"p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li",
     "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "table", "tr", "td", "th",
     "figcaption", "address", "hr", "body", "html"}
)  # fmt: skip

_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_ISO_DATE_PREFIX = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_SKIPPED_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction)


def declared_charset(data: bytes) -> str | None:
    """The charset a page declares in a meta tag within its first 4 KB, if any."""
    match = _CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def parse_html(text: str) -> dict[str, Any]:
    """A record (title, body, date, source, url, lang) from an HTML page.

    Raises RecursionError on pathologically nested markup (the caller rejects it).
    """
    with warnings.catch_warnings():
        # a page that looks like a file name, or XHTML: parsed as HTML all the same
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(text, "html.parser")
    metas = _meta_values(soup)
    url = _url(soup, metas)
    source = _first(metas, SOURCE_META_NAMES) or _host(url)
    record = {
        "title": _title(soup, metas, source),
        "date": _date(soup, metas),
        "source": source,
        "url": url,
        "lang": _lang(soup, metas),
    }
    _drop_furniture(soup)
    record["body"] = join_paragraphs(_without_title(_paragraphs(_content(soup)), record["title"]))
    return record


def _meta_values(soup: BeautifulSoup) -> dict[str, str]:
    """Meta tags by lower-cased name, property, itemprop or http-equiv (first one wins)."""
    values: dict[str, str] = {}
    for meta in soup.find_all("meta"):
        content = clean_line(str(meta.get("content") or ""))
        if not content:
            continue
        for attribute in ("property", "name", "itemprop", "http-equiv"):
            key = str(meta.get(attribute) or "").strip().lower()
            if key:
                values.setdefault(key, content)
    return values


def _first(metas: dict[str, str], names: tuple[str, ...]) -> str:
    return next((metas[name] for name in names if metas.get(name)), "")


def _title(soup: BeautifulSoup, metas: dict[str, str], source: str) -> str:
    """og:title, else the main <h1>, else <title>, else any <h1> (a site logo, likely)."""
    title = metas.get("og:title") or metas.get("twitter:title")
    if title:
        return title
    headings = soup.find_all("h1")
    in_content = [h for h in headings if _inside(h, ("article", "main"))]
    outside = [h for h in headings if not _inside(h, ("header", "nav", "footer", "aside"))]
    for heading in in_content + outside:
        if text := clean_line(heading.get_text(" ")):
            return text
    if soup.title and (text := clean_line(soup.title.get_text(" "))):
        return _strip_site_suffix(text, source)
    return next((text for h in headings if (text := clean_line(h.get_text(" ")))), "")


def _inside(tag: Tag, names: tuple[str, ...]) -> bool:
    return any(parent.name in names for parent in tag.parents)


def _strip_site_suffix(title: str, source: str) -> str:
    """ "Headline - Site" or "Headline | Site" -> "Headline", when Site is the source."""
    for separator in (" - ", " | ", " – ", " — "):
        head, found, tail = title.rpartition(separator)
        if found and head and source and tail.strip().lower() == source.lower():
            return head.strip()
    return title


def _date(soup: BeautifulSoup, metas: dict[str, str]) -> dt.date | None:
    for name in DATE_META_NAMES:
        if name in metas and (date := parse_loose_date(metas[name])):
            return date
    if date := _json_ld_date(soup):
        return date
    times = soup.find_all("time")
    preferred = [t for t in times if t.has_attr("pubdate") or t.get("itemprop") == "datePublished"]
    for time in preferred + times:
        if date := parse_loose_date(str(time.get("datetime") or "")):
            return date
    return None


def parse_loose_date(value: str) -> dt.date | None:
    """A date from ISO 8601 (any offset form) or RFC 2822 text; None when it does not parse."""
    value = value.strip()
    if not value:
        return None
    try:
        return parse_date(value)
    except RecordError:
        pass
    if match := _ISO_DATE_PREFIX.match(value):
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            return None
    try:
        return email.utils.parsedate_to_datetime(value).date()
    except (TypeError, ValueError, IndexError):
        return None


def _json_ld_date(soup: BeautifulSoup) -> dt.date | None:
    for script in soup.find_all("script", type="application/ld+json"):
        try:
            data = json.loads(script.string or "")
        except (ValueError, RecursionError):
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and isinstance(item.get("datePublished"), str):
                if date := parse_loose_date(item["datePublished"]):
                    return date
    return None


def _url(soup: BeautifulSoup, metas: dict[str, str]) -> str:
    candidates = [metas.get("og:url", "")]
    canonical = soup.find("link", rel="canonical")
    if canonical:
        candidates.append(str(canonical.get("href") or ""))
    return next((url for url in candidates if url.startswith(("http://", "https://"))), "")


def _host(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def _lang(soup: BeautifulSoup, metas: dict[str, str]) -> str:
    html = soup.find("html")
    candidates = [str(html.get("lang") or "") if html else ""]
    candidates += [metas.get("og:locale", ""), metas.get("content-language", "")]
    return next((value.strip() for value in candidates if value.strip()), "")


def _drop_furniture(soup: BeautifulSoup) -> None:
    """Remove navigation, scripts, forms and the like, wherever they are."""
    for tag in soup.find_all(DROPPED_TAGS):
        tag.decompose()
    for tag in soup.find_all(_is_furniture):
        tag.decompose()


def _is_furniture(tag: Tag) -> bool:
    if str(tag.get("role") or "").lower() in DROPPED_ROLES:
        return True
    if tag.name in ("body", "html", "article", "main"):
        return False
    classes = tag.get("class") or []
    words = " ".join([*classes, str(tag.get("id") or "")]).lower()
    return bool(FURNITURE_WORDS.intersection(re.split(r"[^a-z]+", words)))


def _content(soup: BeautifulSoup) -> Tag:
    """The element holding the article's text."""
    articles = soup.find_all("article")
    if articles:
        return max(articles, key=_paragraph_text_length)
    main = soup.find("main") or soup.find(attrs={"role": "main"})
    if isinstance(main, Tag):
        return main
    densest = _densest_block(soup)
    if densest is not None:
        return densest
    return soup.body or soup


def _paragraph_text_length(tag: Tag) -> int:
    return sum(len(p.get_text()) for p in tag.find_all("p"))


def _densest_block(soup: BeautifulSoup) -> Tag | None:
    """The parent whose direct <p> children hold the most text."""
    totals: dict[int, tuple[Tag, int]] = {}
    for paragraph in soup.find_all("p"):
        parent = paragraph.parent
        if isinstance(parent, Tag):
            _, total = totals.get(id(parent), (parent, 0))
            totals[id(parent)] = (parent, total + len(paragraph.get_text()))
    if not totals:
        return None
    return max(totals.values(), key=lambda pair: pair[1])[0]


def _paragraphs(container: Tag) -> list[str]:
    """Text grouped by its nearest block element; <br> also breaks (iterative, any depth)."""
    paragraphs: list[str] = []
    current: list[str] = []
    current_block: Tag | None = None
    for node in container.descendants:
        if isinstance(node, Tag):
            if node.name == "br":
                paragraphs.append("".join(current))
                current = []
            continue
        if not isinstance(node, NavigableString) or isinstance(node, _SKIPPED_STRINGS):
            continue
        block = _block_of(node, container)
        if block is not current_block:
            paragraphs.append("".join(current))
            current, current_block = [], block
        current.append(str(node))
    paragraphs.append("".join(current))
    return [text for text in (clean_line(p.replace("\n", " ")) for p in paragraphs) if text]


def _block_of(node: NavigableString, container: Tag) -> Tag:
    parent = node.parent
    while parent is not None and parent is not container and parent.name not in BLOCK_TAGS:
        parent = parent.parent
    return parent if parent is not None else container


def _without_title(paragraphs: list[str], title: str) -> list[str]:
    """The paragraphs, less a first one that repeats the title (an <h1> inside <article>)."""
    if paragraphs and title and paragraphs[0].casefold() == title.casefold():
        return paragraphs[1:]
    return paragraphs
