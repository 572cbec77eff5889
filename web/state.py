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
from search.cache import DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES

EXTENSION = "kiosque"


class Kiosque:
    """Holds the index directory and, once it can be opened, the SearchEngine."""

    def __init__(self, index_dir: str | Path, retry_seconds: float = 2.0,
                 engine: SearchEngine | None = None, cache_size: int = DEFAULT_MAX_ENTRIES,
                 cache_mb: int = DEFAULT_MAX_BYTES // 2**20) -> None:
        self.index_dir = Path(index_dir)
        self.retry_seconds = retry_seconds
        self.cache_size = cache_size
        self.cache_mb = cache_mb
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
            self._engine = SearchEngine(self.index_dir, cache_size=self.cache_size,
                                        cache_bytes=self.cache_mb * 2**20)
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
    config = app.config
    state = Kiosque(config["KIOSQUE_INDEX_DIR"], float(config["KIOSQUE_RETRY_SECONDS"]),
                    config.get("KIOSQUE_ENGINE"), int(config["KIOSQUE_CACHE_SIZE"]),
                    int(config["KIOSQUE_CACHE_MB"]))
    app.extensions[EXTENSION] = state
    return state


def kiosque() -> Kiosque:
    """The current app's holder."""
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


def engine() -> SearchEngine:
    """The current app's engine. Raises IndexNotFound while there is no usable index."""
    return kiosque().engine()
