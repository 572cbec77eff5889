"""The app's one piece of state: the search engine, opened lazily.

The server may start before the index exists: until it does, ``engine()``
raises :class:`search.IndexNotFound` (with the how-to-build hint), and tries
again at most every ``retry_seconds``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from flask import Flask, current_app

from search import IndexNotFound, SearchEngine

EXTENSION = "kiosque"


class Kiosque:
    """Holds the index directory and, once it can be opened, the SearchEngine."""

    def __init__(self, index_dir: str | Path, retry_seconds: float = 2.0,
                 engine: SearchEngine | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.retry_seconds = retry_seconds
        self._engine = engine
        self._error: IndexNotFound | None = None
        self._failed_at = 0.0
        self._lock = threading.Lock()

    def engine(self) -> SearchEngine:
        """The engine. Raises IndexNotFound while the index is missing or unusable."""
        if self._engine is not None:
            return self._engine
        with self._lock:
            if self._engine is None:
                self._open()
        assert self._engine is not None
        return self._engine

    def _open(self) -> None:
        recent = time.monotonic() - self._failed_at < self.retry_seconds
        if self._error is not None and recent:
            raise self._error
        try:
            self._engine = SearchEngine(self.index_dir)
        except IndexNotFound as error:
            self._error, self._failed_at = error, time.monotonic()
            raise
        self._error = None

    def forget_failure(self) -> None:
        """Retry opening at the next request (after a write created the index)."""
        with self._lock:
            self._error = None


def init_app(app: Flask) -> Kiosque:
    """Put a Kiosque holder in ``app.extensions["kiosque"]``."""
    state = Kiosque(app.config["KIOSQUE_INDEX_DIR"], float(app.config["KIOSQUE_RETRY_SECONDS"]),
                    app.config.get("KIOSQUE_ENGINE"))
    app.extensions[EXTENSION] = state
    return state


def kiosque() -> Kiosque:
    """The current app's holder."""
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


def engine() -> SearchEngine:
    """The current app's engine. Raises IndexNotFound while there is no usable index."""
    return kiosque().engine()
