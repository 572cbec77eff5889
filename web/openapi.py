"""The OpenAPI 3.1 description of the HTTP surface, served at ``/openapi.json``.

Tests validate real responses against these schemas, so they cannot drift.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from .params import MAX_PAGE, MAX_PER_PAGE, SORTS

VERSION = "0.1.0"
JSON = "application/json"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


def obj(properties: dict[str, Any], required: list[str] | None = None,
        description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "required": list(properties) if required is None else required,
                              "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema


def json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def error_response(description: str) -> dict[str, Any]:
    return json_response(description, ref("Error"))


STRING = {"type": "string"}
COUNT = {"type": "integer", "minimum": 0}
DATE = nullable("string", format="date")

SCHEMAS: dict[str, Any] = {
    "Error": obj({"error": obj({
        "code": {"type": "string", "description": "Stable, machine-readable: not_found, "
                 "invalid_parameter, query_too_long, invalid_id, unauthorized, forbidden, "
                 "payload_too_large, empty_body, invalid_records, index_missing, "
                 "index_busy, method_not_allowed, internal_error..."},
        "message": {"type": "string", "description": "For people; says what to do next."},
        "details": {"type": "array", "items": ref("Failure"),
                    "description": "Per-record reasons (invalid_records only)."},
    }, required=["code", "message"])}, description="The one shape of every API error."),
    "Failure": obj({
        "path": STRING,
        "line": nullable("integer", description="Line (JSONL) or position (array), if known"),
        "reason": STRING,
    }, required=["path", "reason"]),
    "StoryMember": obj({"id": STRING, "title": STRING, "source": STRING, "date": DATE,
                        "url": STRING}),
    "Hit": obj({
        "id": STRING,
        "title": STRING,
        "title_html": {"type": "string", "description": "Escaped HTML with <mark> around matches"},
        "snippet_html": {"type": "string",
                         "description": "Escaped HTML with <mark> around matches"},
        "source": STRING,
        "date": DATE,
        "lang": STRING,
        "url": STRING,
        "score": {"type": "number"},
        "story": {"type": "array", "items": ref("StoryMember"),
                  "description": "Addition: the other sources of the same story "
                                 "(empty with expand=1)."},
    }),
    "Facets": obj({name: {"type": "object", "additionalProperties": {"type": "integer"}}
                   for name in ("lang", "source", "year", "month")},
                  required=["lang", "source", "year"],
                  description="Counts that follow the query and the other filters; "
                              "addition: month (YYYY-MM) when from and to lie in one year."),
    "SearchResults": obj({
        "query": STRING,
        "total": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        "suggestion": nullable("string", description="Did you mean"),
        "hits": {"type": "array", "items": ref("Hit")},
        "facets": ref("Facets"),
    }),
    "Article": obj({"id": STRING, "title": STRING, "body": STRING, "date": DATE,
                    "source": STRING, "url": STRING, "lang": STRING,
                    "story": {"type": "string", "description": "Addition: the story id"}}),
    "ArticleInput": {
        "type": "object",
        "properties": {"id": {"type": ["string", "integer"]}, "title": STRING, "body": STRING,
                       "date": {"type": ["string", "null"],
                                "description": "YYYY-MM-DD or ISO 8601 datetime"},
                       "source": STRING, "url": STRING, "lang": STRING},
        "required": ["title", "body"],
    },
    "Suggestions": obj({"query": STRING, "suggestions": {"type": "array", "items": STRING}}),
    "Health": obj({"status": {"const": "ok"}, "documents": {"type": "integer", "minimum": 0}}),
    "Stats": obj({
        "documents": {"type": "integer", "minimum": 0},
        "pid": {"type": "integer", "description": "The server process that answered (each "
                                                  "worker process has its own cache)"},
        "cache": ref("CacheStats"),
    }),
    "CacheStats": obj({
        "enabled": {"type": "boolean"},
        "entries": COUNT, "max_entries": COUNT, "bytes": COUNT, "max_bytes": COUNT,
        "hits": COUNT, "misses": COUNT, "evictions": COUNT,
        "coalesced": {"type": "integer", "minimum": 0,
                      "description": "Misses that waited for the same request computed by "
                                     "another thread instead of computing it again"},
        "invalidations": {"type": "integer", "minimum": 0,
                          "description": "Times a new index generation emptied the cache"},
        "hit_rate": {"type": "number", "minimum": 0, "maximum": 1},
    }),
    "IndexReport": obj({
        "indexed": {"type": "integer"},
        "duplicates": {"type": "integer"},
        "skipped_files": {"type": "integer"},
        "grouped": {"type": "integer"},
        "failures": {"type": "array", "items": ref("Failure")},
        "seconds": {"type": "number"},
        "docs_per_second": {"type": "number"},
        "ids": {"type": "array", "items": STRING,
                "description": "The ids of the records read (indexed or duplicates)"},
    }),
    "Deleted": obj({"id": STRING, "deleted": {"const": True}}),
}


def query_param(name: str, schema: dict[str, Any], description: str,
                **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description, **extra}


def list_param(name: str, description: str) -> dict[str, Any]:
    return query_param(name, {"type": "array", "items": STRING}, description,
                       style="form", explode=True)


SEARCH_PARAMETERS = [
    query_param("q", {"type": "string", "maxLength": 1000},
                "The query: words, \"phrases\", -word, OR, title:, source:, lang:, date:, "
                "prefix*, fuzzy~. Longer than 1000 characters: 400 query_too_long."),
    query_param("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
                "Page number."),
    query_param("per_page", {"type": "integer", "minimum": 1, "default": 10},
                f"Results per page; values above {MAX_PER_PAGE} are clamped to "
                f"{MAX_PER_PAGE} (not an error)."),
    list_param("lang", "Language filter, repeatable or comma-separated (lang=fr,en)."),
    list_param("source", "Source filter, repeatable or comma-separated."),
    query_param("from", {"type": "string", "format": "date"}, "Earliest date, YYYY-MM-DD."),
    query_param("to", {"type": "string", "format": "date"}, "Latest date, YYYY-MM-DD."),
    query_param("sort", {"type": "string", "enum": list(SORTS), "default": "relevance"},
                "Order of the results."),
    query_param("recency", {"type": "string", "enum": ["1", "0", "true", "false"],
                            "default": "1"},
                "Addition: 0 switches off the mild preference for recent articles "
                "in relevance order."),
    query_param("expand", {"type": "string", "enum": ["0", "1", "true", "false"],
                           "default": "0"},
                "Addition: 1 lists every article of a story instead of one per story."),
]

ID_PARAMETER = {"name": "id", "in": "path", "required": True, "schema": STRING,
                "description": "The article id (may contain slashes)."}
COMMON_ERRORS = {
    "400": error_response("A bad parameter (code says which kind)."),
    "503": error_response("No usable index yet (index_missing, with the command that "
                          "builds one) or the index is busy being written (index_busy)."),
    "default": error_response("Any other error (405, 500...), same shape."),
}
WRITE_ERRORS = {
    "401": error_response("Missing or wrong bearer token."),
    "403": error_response("Writing is disabled: KIOSQUE_ADMIN_TOKEN is not set."),
}


def _paths() -> dict[str, Any]:
    return {
        "/api/search": {"get": {
            "operationId": "search", "summary": "Search articles",
            "parameters": SEARCH_PARAMETERS,
            "responses": {"200": json_response("One page of results", ref("SearchResults")),
                          **COMMON_ERRORS}}},
        "/api/suggest": {"get": {
            "operationId": "suggest", "summary": "Completions of the last word typed",
            "parameters": [
                query_param("q", {"type": "string", "maxLength": 1000}, "What is typed."),
                query_param("limit", {"type": "integer", "minimum": 1, "maximum": 50,
                                      "default": 8}, "Addition: how many suggestions."),
            ],
            "responses": {"200": json_response("Suggestions", ref("Suggestions")),
                          **COMMON_ERRORS}}},
        "/api/health": {"get": {
            "operationId": "health", "summary": "Is the index usable, and how big is it",
            "responses": {"200": json_response("Healthy", ref("Health")), **COMMON_ERRORS}}},
        "/api/stats": {"get": {
            "operationId": "stats", "summary": "Addition: this process's result cache "
                                               "(entries, bytes, hits, misses) and index size",
            "responses": {"200": json_response("Statistics", ref("Stats")), **COMMON_ERRORS}}},
        "/api/articles": {"post": {
            "operationId": "addArticles", "summary": "Add or replace articles",
            "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {
                JSON: {"schema": {"oneOf": [ref("ArticleInput"),
                                            {"type": "array", "items": ref("ArticleInput")}]}},
                "application/x-ndjson": {"schema": {"type": "string",
                                                    "description": "One record a line"}},
            }},
            "responses": {
                "201": json_response("At least one article indexed; failures lists the "
                                     "records rejected", ref("IndexReport")),
                "200": json_response("Nothing new indexed (duplicates only)",
                                     ref("IndexReport")),
                "400": error_response("Empty body, or every record rejected "
                                      "(details gives each reason)"),
                "413": error_response("Body larger than KIOSQUE_MAX_BODY_BYTES"),
                **WRITE_ERRORS,
                "503": COMMON_ERRORS["503"], "default": COMMON_ERRORS["default"]}}},
        "/api/articles/{id}": {
            "parameters": [ID_PARAMETER],
            "get": {"operationId": "getArticle", "summary": "One article record",
                    "responses": {"200": json_response("The article", ref("Article")),
                                  "404": error_response("No article with this id"),
                                  **COMMON_ERRORS}},
            "delete": {"operationId": "deleteArticle", "summary": "Remove one article",
                       "security": [{"bearer": []}],
                       "responses": {"200": json_response("Removed", ref("Deleted")),
                                     "404": error_response("No article with this id"),
                                     **WRITE_ERRORS, **COMMON_ERRORS}}},
        "/openapi.json": {"get": {
            "operationId": "openapi", "summary": "This description",
            "responses": {"200": json_response("OpenAPI 3.1", {"type": "object"})}}},
        "/": {"get": {
            "operationId": "searchPage", "summary": "Search page (HTML, works without JS)",
            "parameters": SEARCH_PARAMETERS + [query_param(
                "ui", {"type": "string", "enum": ["fr", "en"]},
                "Interface language, remembered in the kiosque_ui cookie.")],
            "responses": {"200": {"description": "HTML page",
                                  "content": {"text/html": {"schema": STRING}}}}}},
        "/articles/{id}": {"get": {
            "operationId": "articlePage", "summary": "One article (HTML)",
            "parameters": [ID_PARAMETER],
            "responses": {"200": {"description": "HTML page",
                                  "content": {"text/html": {"schema": STRING}}},
                          "404": {"description": "Unknown article (HTML for browsers, "
                                                 "Error JSON for other clients)"}}}},
    }


@cache
def _spec() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kiosque",
            "version": VERSION,
            "description": "Full-text search of news articles in French and English. Every "
                           "error is {\"error\": {\"code\", \"message\"}} with a 4xx status "
                           "for anything the client did wrong.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "KIOSQUE_ADMIN_TOKEN"}},
        },
    }


def spec() -> dict[str, Any]:
    """The OpenAPI document (a fresh copy: callers may change it)."""
    return copy.deepcopy(_spec())
