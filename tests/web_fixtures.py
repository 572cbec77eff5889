"""Fixtures of the web tests: a real index of Wikinews articles, apps, and a live server.

Test modules load them with ``pytest_plugins = ("web_fixtures",)``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from waitress import wasyncore
from web_helpers import XSS_BODY, XSS_ID, XSS_TITLE, app_config, load_sample_records

from indexer import add_documents
from search import Article
from web import create_app
from web.serve import make_server


def xss_article() -> Article:
    """A test record full of markup, which every page must show as text."""
    return Article(id=XSS_ID, title=XSS_TITLE, body=XSS_BODY, date=dt.date(2017, 3, 1),
                   source='<b onmouseover="alert(4)">Source piégée</b>',
                   url="javascript:alert(5)", lang="fr")


@pytest.fixture(scope="session")
def sample_articles() -> list[Article]:
    return load_sample_records()


@pytest.fixture(scope="session")
def web_index(tmp_path_factory: pytest.TempPathFactory, sample_articles: list[Article]) -> Path:
    """A read-only index of the sample plus the XSS record, built once."""
    index_dir = tmp_path_factory.mktemp("web-index")
    report = add_documents([*sample_articles, xss_article()], index_dir, workers=1)
    assert report.indexed == len(sample_articles) + 1, report.to_dict()
    assert not report.failures and report.grouped >= 1
    return index_dir


@pytest.fixture(scope="session")
def web_app(web_index: Path) -> Flask:
    return create_app(app_config(web_index))


@pytest.fixture()
def web_client(web_app: Flask) -> FlaskClient:
    return web_app.test_client()


@pytest.fixture()
def writable_app(tmp_path: Path, sample_articles: list[Article]) -> Flask:
    """An app over a small index of its own, for tests that add and delete."""
    index_dir = tmp_path / "index"
    add_documents(sample_articles[:5], index_dir, workers=1)
    return create_app(app_config(index_dir))


@pytest.fixture(scope="session")
def live_server(web_app: Flask) -> Iterator[str]:
    """The app served by waitress (web.serve) on a free port, in a thread; yields its URL."""
    server = make_server(web_app, "127.0.0.1", 0, threads=4)
    stopping = threading.Event()

    def serve() -> None:
        # waitress has no way to stop a loop from another thread: closing its sockets
        # under a select() in progress raises "Bad file descriptor" there, which is the
        # stop, not a failure (webtest's StopableWSGIServer does the same)
        try:
            server.run()
        except OSError:
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=serve, name="kiosque-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stopping.set()
        server.task_dispatcher.shutdown(timeout=10)  # requests in progress end first
        wasyncore.close_all(server._map)
        thread.join(timeout=10)

