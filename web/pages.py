"""The HTML pages: search (works without JavaScript) and one article."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    make_response,
    render_template,
    request,
    url_for,
)

from search import ResultPage

from . import i18n, views
from .api import check_id, not_found
from .errors import ApiError
from .params import MAX_PAGE, SearchParams, parse_search
from .state import engine

bp = Blueprint("pages", __name__)

RELATED_LIMIT = 5
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@bp.before_app_request
def choose_ui() -> None:
    g.ui = i18n.choose_language(request)


@bp.after_app_request
def remember_ui(response: Response) -> Response:
    """Keep an explicit ``?ui=`` choice in a cookie; pages vary with the interface language."""
    chosen = request.args.get("ui")
    if chosen in i18n.LANGUAGES and request.cookies.get(i18n.COOKIE) != chosen:
        response.set_cookie(i18n.COOKIE, chosen, max_age=i18n.COOKIE_MAX_AGE, samesite="Lax",
                            httponly=True, secure=request.is_secure)
    if response.mimetype == "text/html":
        response.vary.update(("Accept-Language", "Cookie"))
    return response


@bp.app_context_processor
def interface() -> dict[str, Any]:
    """``ui``, ``t(key, **values)`` and the link to the other language, in every template."""
    ui = g.get("ui") or i18n.DEFAULT_LANGUAGE
    other = "en" if ui == "fr" else "fr"
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "ui"] + [("ui", other)]
    return {
        "ui": ui,
        "t": lambda key, **values: i18n.translate(ui, key, **values),
        "switch_url": request.path + "?" + urlencode(args),
        "format_date": lambda value: i18n.format_date(value, ui),
        "format_number": lambda value: i18n.format_number(value, ui),
        "language_name": lambda code: i18n.language_name(code, ui),
        "safe_url": views.safe_url,
        "search_tips": i18n.TIPS.get(ui, i18n.TIPS["en"]),
    }


@bp.get("/")
def search() -> tuple[str, int]:
    config = current_app.config
    per_page = int(config["KIOSQUE_PER_PAGE"])
    try:
        params = parse_search(request.args, config["KIOSQUE_MAX_QUERY_CHARS"], per_page)
    except ApiError as error:
        fallback = SearchParams(q=request.args.get("q", "")[: config["KIOSQUE_MAX_QUERY_CHARS"]])
        return render_template("search.html", params=fallback, error=error, page=None,
                               per_page=per_page), error.status
    searching = engine()
    if not params.q and not params.has_filters():
        return render_template("search.html", params=params, page=None, per_page=per_page,
                               documents=searching.document_count()), 200
    started = time.perf_counter()
    page = searching.search(params.q, **params.engine_kwargs())
    took = time.perf_counter() - started
    return render_template("search.html", **_results_context(page, params, per_page, took)), 200


def _results_context(page: ResultPage, params: SearchParams, per_page: int,
                     took: float) -> dict[str, Any]:
    ui = g.ui
    return {
        "params": params,
        "page": page,
        "per_page": per_page,
        "took": i18n.format_seconds(took, ui),
        "facets": {
            "lang": views.lang_facet(page, params, ui, per_page),
            "source": views.source_facet(page, params, per_page),
            "year": views.year_facet(page, params, per_page),
        },
        "pages": views.pagination(page, params, per_page),
        "previous_url": views.page_url(params, per_page, params.page - 1)
        if params.page > 1 else None,
        "next_url": views.page_url(params, per_page, params.page + 1)
        if params.page < min(page.pages, MAX_PAGE) else None,
        "first_url": params.url(per_page),
        "suggestion_url": params.url(per_page, q=page.suggestion) if page.suggestion else None,
        "clear_url": params.url(per_page, lang=(), source=(), date_from=None, date_to=None),
    }


@bp.get("/articles/<path:doc_id>")
def article(doc_id: str) -> str:
    searching = engine()
    found = searching.get(check_id(doc_id))
    if found is None:
        raise not_found(doc_id)
    query = request.args.get("q", "")[: current_app.config["KIOSQUE_MAX_QUERY_CHARS"]]
    back = url_for("pages.search", q=query) if query.strip() else url_for("pages.search")
    return render_template(
        "article.html",
        article=found,
        paragraphs=[p.strip() for p in _PARAGRAPH_BREAK.split(found.body) if p.strip()],
        story=searching.story(found.id),
        related=searching.more_like(found.id, RELATED_LIMIT),
        back_url=back,
    )


@bp.get("/favicon.ico")
def favicon() -> Response:
    response = make_response(current_app.send_static_file("favicon.svg"))
    response.mimetype = "image/svg+xml"
    return response
