"""Helpers of the web tests (plain functions and constants; the fixtures are in web_fixtures)."""

from __future__ import annotations

import json
import socket
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS31Validator, oas31_format_checker

from search import Article
from web.openapi import spec

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = FIXTURES / "wikinews-sample.jsonl"
ADMIN_TOKEN = "test-token-0123456789"
XSS_ID = "xss-payload"
XSS_TITLE = '<script>alert("title")</script> Élection <img src=x onerror=alert(1)>'
XSS_BODY = (
    "Premier paragraphe de l'élection <script>alert('body')</script> avec un piège "
    '<img src=x onerror="alert(2)"> et des mots ordinaires pour que le texte soit assez long '
    "pour être analysé comme un article normal par le moteur de recherche.\n\n"
    "Second paragraphe </p><a href=\"javascript:alert(3)\">lien</a> toujours inerte."
)


def app_config(index_dir: Path | str, **overrides: Any) -> dict[str, Any]:
    """A complete config, so no KIOSQUE_* variable of the environment leaks into a test."""
    config: dict[str, Any] = {
        "TESTING": True,
        "KIOSQUE_INDEX_DIR": str(index_dir),
        "KIOSQUE_ADMIN_TOKEN": ADMIN_TOKEN,
        "KIOSQUE_CORS_ORIGINS": (),
        "KIOSQUE_MAX_BODY_BYTES": 1024 * 1024,
        "KIOSQUE_MAX_QUERY_CHARS": 1000,
        "KIOSQUE_PER_PAGE": 10,
        "KIOSQUE_RETRY_SECONDS": 0.0,
        "KIOSQUE_CACHE_SIZE": 1024,
        "KIOSQUE_CACHE_MB": 32,
    }
    config.update(overrides)
    return config


def response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    """The JSON schema that /openapi.json gives for one response, with its components."""
    document = spec()
    responses = document["paths"][path][method.lower()]["responses"]
    entry = responses.get(str(status)) or responses["default"]
    schema = entry["content"]["application/json"]["schema"]
    return {**schema, "components": document["components"]}


def assert_matches_spec(path: str, method: str, status: int, body: Any) -> None:
    """Validate a real response body against the OpenAPI description (formats included)."""
    validator = OAS31Validator(response_schema(path, method, status),
                               format_checker=oas31_format_checker)
    validator.validate(body)


def assert_error(body: Any, code: str | None = None) -> None:
    """``body`` is the one error shape (and has ``code``, when given)."""
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"]
    assert isinstance(error.get("message"), str) and error["message"]
    assert set(error) <= {"code", "message", "details"}
    assert "Traceback" not in error["message"]
    if code is not None:
        assert error["code"] == code, error


def load_sample_records() -> list[Article]:
    """The committed Wikinews sample (CC BY 2.5) as Article objects."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    return [Article.from_dict(json.loads(line)) for line in lines if line.strip()]


class Html(HTMLParser):
    """The tags (with attributes) and the text of a page, for structural assertions."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text_parts: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def tags_named(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        """The attributes of every ``tag`` whose attributes include ``attrs`` (``class_`` ok)."""
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
        return [found for name, found in self.tags
                if name == tag and all(found.get(k) == v for k, v in wanted.items())]


def assert_inert(text: str) -> None:
    """No inline script, no event-handler attribute, no javascript: link in a page."""
    page = Html(text)
    for tag, attrs in page.tags:
        assert tag != "script" or attrs.get("src", "").startswith("/static/"), (tag, attrs)
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        for name in ("href", "src", "action"):
            assert not attrs.get(name, "").strip().lower().startswith("javascript:"), attrs
    assert "<script>alert" not in text and "<img src=x" not in text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
