"""The JSON API: search, articles, suggestions, health, writes, and the OpenAPI description."""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

import indexer
from indexer import readers
from search import Article, ResultPage

from .auth import admin_required
from .errors import ApiError
from .openapi import spec
from .params import parse_int, parse_query_text, parse_search
from .state import engine, kiosque

bp = Blueprint("api", __name__)

MAX_ID_CHARS = 256
MAX_SUGGESTIONS = 50
WRITE_LOCK_TIMEOUT = 10.0
BODY_NAME = "<request>"


def check_id(doc_id: str) -> str:
    """An article id as given; raises ApiError 400 for control characters or excessive length."""
    if len(doc_id) > MAX_ID_CHARS or not doc_id.isprintable():
        raise ApiError(400, "invalid_id", "an article id is printable text of at most "
                                          f"{MAX_ID_CHARS} characters")
    return doc_id


def not_found(doc_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no article with id {doc_id!r}")


@bp.get("/api/search")
def search() -> Response:
    config = current_app.config
    params = parse_search(request.args, config["KIOSQUE_MAX_QUERY_CHARS"],
                          config["KIOSQUE_PER_PAGE"])
    page = engine().search(params.q, **params.engine_kwargs())
    return page_json(page)


def page_json(page: ResultPage) -> Response:
    """``jsonify(page.to_dict())``, from the bytes the page keeps (``ResultPage.to_json``:
    made once for a cached page, so a hit encodes nothing).

    In debug mode (or with ``app.json.compact = False``) jsonify indents: that
    path is kept as it was.
    """
    app = current_app
    compact = getattr(app.json, "compact", None)
    if compact is False or (compact is None and app.debug):
        return jsonify(page.to_dict())
    return app.response_class(page.to_json(), mimetype="application/json")


@bp.get("/api/suggest")
def suggest() -> Response:
    prefix = parse_query_text(request.args, current_app.config["KIOSQUE_MAX_QUERY_CHARS"])
    limit = parse_int(request.args, "limit", 8, 1, MAX_SUGGESTIONS)
    raw = request.args.get("q", "")
    suggestions = engine().suggest(raw.lstrip(), limit) if prefix else []
    return jsonify({"query": raw, "suggestions": suggestions})


@bp.get("/api/health")
def health() -> Response:
    return jsonify({"status": "ok", "documents": engine().document_count()})


@bp.get("/api/stats")
def stats() -> Response:
    """This server process's result cache (each worker process has its own) and index size."""
    searching = engine()
    return jsonify({"documents": searching.document_count(), "pid": os.getpid(),
                    "cache": searching.cache_stats().to_dict()})


@bp.get("/api/articles/<path:doc_id>")
def get_article(doc_id: str) -> Response:
    article = engine().get(check_id(doc_id))
    if article is None:
        raise not_found(doc_id)
    return jsonify(article.to_dict())


@bp.delete("/api/articles/<path:doc_id>")
@admin_required
def delete_article(doc_id: str) -> Response:
    state = kiosque()
    removed = indexer.delete_documents([check_id(doc_id)], state.index_dir,
                                       lock_timeout=WRITE_LOCK_TIMEOUT)
    if not removed:
        raise not_found(doc_id)
    return jsonify({"id": doc_id, "deleted": True})


@bp.post("/api/articles")
@admin_required
def add_articles() -> tuple[Response, int]:
    data = request.get_data(cache=False)
    if not data.strip():
        raise ApiError(400, "empty_body", "send one JSON record, a JSON array of records, "
                                          "or JSON lines")
    items = readers.parse_records(data, BODY_NAME)
    articles = [item for item in items if isinstance(item, Article)]
    rejected = [_rejection(item) for item in items if not isinstance(item, Article)]
    if not articles:
        raise ApiError(400, "invalid_records", _rejection_summary(rejected), details=rejected)
    state = kiosque()
    report = indexer.add_documents(articles, state.index_dir, workers=1,
                                   lock_timeout=WRITE_LOCK_TIMEOUT)
    state.forget_failure()
    body = report.to_dict()
    body["failures"] = rejected + body["failures"]
    body["ids"] = [article.id for article in articles]
    return jsonify(body), 201 if report.indexed else 200


def _rejection(item: Any) -> dict[str, Any]:
    """A rejected record as ``{"path", "line", "reason"}`` (line is None for a whole body)."""
    return {"path": str(getattr(item, "path", BODY_NAME)), "line": getattr(item, "line", None),
            "reason": str(getattr(item, "reason", item))}


def _rejection_summary(rejected: list[dict[str, Any]]) -> str:
    if not rejected:
        return "the body holds no article record"
    first = rejected[0]
    where = f"line {first['line']}: " if first["line"] is not None else ""
    more = f" (and {len(rejected) - 1} more)" if len(rejected) > 1 else ""
    return f"no article could be read: {where}{first['reason']}{more}"


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(spec())
