"""Serving with waitress, with an access log (waitress writes none).

Each request is logged to the ``kiosque.access`` logger once its body has been
sent: client, method, path, status and duration.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, MultiSocketServer
from waitress.task import ErrorTask

ACCESS_LOGGER = "kiosque.access"
M_ARENA_MAX = -8  # glibc's mallopt parameters
M_MMAP_THRESHOLD = -3
M_TRIM_THRESHOLD = -1
MALLOC_ARENAS = 1
MMAP_THRESHOLD_BYTES = 2**20  # blocks this large or larger: mapped, and unmapped when freed
TRIM_THRESHOLD_BYTES = 16 * 2**20  # free bytes at a heap's top kept for reuse (trimmed every 10 s)
HEAP_TRIM_SECONDS = 10.0  # malloc_trim(0) this often (1-20 ms a call, in a thread of its own)
# The codes web.errors gives the same statuses, for the requests waitress refuses itself.
WAITRESS_ERROR_CODES = {
    400: "bad_request",
    413: "payload_too_large",
    431: "headers_too_large",
    500: "internal_error",
    501: "not_implemented",
}
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

access_log = logging.getLogger(ACCESS_LOGGER)


class AccessLog:
    """WSGI middleware: one log line a request, ``127.0.0.1 "GET /api/search?q=x" 200 3.1ms``."""

    def __init__(self, app: WSGIApp, logger: logging.Logger = access_log) -> None:
        self.app = app
        self.logger = logger

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        status: list[str] = []

        def recording_start_response(code: str, headers: Any, exc_info: Any = None) -> Any:
            status[:] = [code.split(" ", 1)[0]]
            return start_response(code, headers, exc_info)

        body = self.app(environ, recording_start_response)
        return _Logged(body, lambda: self._log(environ, status, started))

    def _log(self, environ: dict[str, Any], status: list[str], started: float) -> None:
        path = environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        self.logger.info('%s "%s %s" %s %.1fms', environ.get("REMOTE_ADDR", "-"),
                         environ.get("REQUEST_METHOD", "-"), path,
                         status[0] if status else "-", (time.perf_counter() - started) * 1000)


class _Logged:
    """A response body that calls ``on_close`` once it is closed (sent or abandoned)."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self.body = body
        self.on_close = on_close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.on_close()


class JsonErrorTask(ErrorTask):
    """Waitress's own refusals (malformed request, headers too large...) in the API's shape.

    Waitress answers them before any app runs, in plain text; it has no
    option for this, so the task class of its channel is replaced
    (``HTTPChannel.error_task_class``, ``BaseWSGIServer.channel_class``).
    """

    def execute(self) -> None:
        error = self.request.error
        code = WAITRESS_ERROR_CODES.get(error.code, "bad_request")
        body = json.dumps({"error": {"code": code, "message": f"{error.reason}: {error.body}"}})
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend([("Content-Type", "application/json"),
                                      ("X-Content-Type-Options", "nosniff")])  # fmt: skip
        self.set_close_on_finish()
        data = body.encode("utf-8")
        self.content_length = len(data)
        self.write(data)


class JsonErrorChannel(HTTPChannel):
    """A waitress connection whose refusals are JSON (see JsonErrorTask)."""

    error_task_class = JsonErrorTask


def ensure_log_handler(with_pid: bool = False) -> None:
    """Print Kiosque's log lines (access log included) on stderr unless logging is configured.

    ``with_pid``: each line names its process, for several workers.
    """
    logger = logging.getLogger("kiosque")
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    pid = " [%(process)d]" if with_pid else ""
    handler.setFormatter(logging.Formatter(f"%(asctime)s{pid} %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def preload() -> None:
    """Load what the first search would (NLTK's stemmers, the lemma tables: seconds) now,
    at start.

    Before workers fork, so that they share it rather than each paying it on
    its first request.
    """
    from search.analysis import load_stemmers

    load_stemmers()


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """At most ``arenas`` glibc malloc arenas in this process; True if it applied.

    glibc gives each new thread that allocates an arena of its own (up to 8 a
    core), and a freed block goes back to the arena it came from, where only
    that arena's threads reuse its space. waitress's threads take turns
    allocating the numpy arrays of scoring and the result pages, so each arena
    grew its own free holes: with 8 arenas the RSS crept; with 2, the second
    arena still grew after the caches were full (~0.1-0.5 MB a minute). With
    one, every thread reuses every hole and the RSS is level from the fourth
    minute of a load; the GIL already serializes nearly all of a Python
    server's allocations, so sharing the arena costs no throughput
    (bench/RESULTS.md, ## Memory). Must run before the threads start (an
    arena a thread has taken stays); the same as ``MALLOC_ARENA_MAX=1``.
    No-op elsewhere than glibc.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))


def fix_mmap_threshold(size: int = MMAP_THRESHOLD_BYTES,
                       trim: int = TRIM_THRESHOLD_BYTES) -> bool:
    """Serve every C allocation of ``size`` bytes or more by a map of its own, returned to
    the system when freed, for the life of this process; True if it applied (glibc only).

    glibc starts at 128 KB but raises its threshold to the size of every mapped block
    freed (up to 32 MB): once a cache's table of a few MB was freed (the snippet chunk
    index of a language is replaced whole, a dict resizes), every later table below that
    size came from the heap, where freed tables leave holes between live blocks. In a
    10-minute load the heap grew from 45 to 74 MB while what it held grew by 20 and the
    mapped blocks fell from 20 to 3 MB (``mallinfo2``, bench/RESULTS.md ## Memory). Fixed
    at 1 MB: the numpy arrays of a query (8 bytes a document: 200 KB at 26,000 articles,
    under 1 MB up to 131,072) stay in the heap, where they are reused at no cost (mapping
    them, at 128 KB, cost ~0.8 ms a query), and big tables go back to the system when
    dropped. A fixed threshold also fixes glibc's trim threshold (128 KB, which it too
    would have raised): set to ``trim``, so that a query's arrays freed at the top of a
    heap are not given back and taken again at every query; ``trim_heap_every`` returns
    what stays free. The same as ``MALLOC_MMAP_THRESHOLD_=1048576
    MALLOC_TRIM_THRESHOLD_=16777216``.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, size)) and bool(mallopt(M_TRIM_THRESHOLD, trim))


_heap_trimmers: dict[int, threading.Thread] = {}  # by process id: a forked worker starts its own


def trim_heap_every(seconds: float = HEAP_TRIM_SECONDS) -> bool:
    """Give the C heap's free pages back to the system every ``seconds``, in a daemon
    thread (glibc's ``malloc_trim(0)``); True if it runs (once a process; glibc only).

    glibc hands back to the system only the memory at the top of a heap: what the
    caches free inside it (result pages and their JSON, postings arrays, dict and set
    tables of the caches, evicted or replaced) stays resident, so the RSS keeps the
    high-water mark of every cache's peaks together and steps up when they coincide.
    Measured (bench/RESULTS.md, ## Memory, two servers side by side for 10 minutes):
    14 MB less RSS at the end and a second half rising +1.3 instead of +2.4 MB/min.
    A call costs 1-20 ms, with the GIL released (ctypes): nothing for the requests.
    """
    if os.getpid() in _heap_trimmers:
        return True
    try:
        malloc_trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    malloc_trim.argtypes = [ctypes.c_size_t]

    def trim_forever() -> None:
        while True:
            time.sleep(seconds)
            malloc_trim(0)

    thread = threading.Thread(target=trim_forever, name="kiosque-heap-trim", daemon=True)
    thread.start()
    _heap_trimmers[os.getpid()] = thread
    return True


def make_server(app: WSGIApp, host: str = "127.0.0.1", port: int = 8080, threads: int = 4,
                sockets: list[socket.socket] | None = None) -> BaseWSGIServer | MultiSocketServer:
    """A waitress server for ``app`` with the access log, not yet running (port 0: any free).

    ``sockets``: serve these listening sockets (bound by the caller) instead of ``host:port``.
    """
    limit_malloc_arenas()  # before waitress starts its threads
    fix_mmap_threshold()
    trim_heap_every()
    where: dict[str, Any] = {"sockets": sockets} if sockets else {"host": host, "port": port}
    server = create_server(AccessLog(app), threads=threads, ident="kiosque",
                           clear_untrusted_proxy_headers=True, **where)
    listeners = server.map.values() if isinstance(server, MultiSocketServer) else [server]
    for listener in listeners:
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = JsonErrorChannel  # before run(): no connection yet
    return server


def run(app: WSGIApp, host: str = "127.0.0.1", port: int = 8080, threads: int = 4) -> None:
    """Serve ``app`` with waitress until interrupted (the stemmers loaded first)."""
    ensure_log_handler()
    preload()
    server = make_server(app, host, port, threads)
    logging.getLogger("kiosque").info("serving on http://%s:%s", host, server.effective_port)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
