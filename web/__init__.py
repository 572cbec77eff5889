"""Kiosque's web app: the search pages and the JSON API over one SearchEngine.

    from web import create_app
    app = create_app({"KIOSQUE_INDEX_DIR": "index_data"})

Serve it with ``web.serve.run(app, host, port, threads)`` (waitress), or
``waitress-serve --call web:create_app``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from . import api, errors, pages, security, state
from . import config as settings

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``KIOSQUE_*`` environment variables, then ``config``.

    The index is opened lazily, so the app starts even before the index
    exists. Raises web.config.ConfigError for an environment variable that does not parse.
    """
    app = Flask(__name__)
    app.config.from_mapping(settings.load(config))
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    state.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    return app
