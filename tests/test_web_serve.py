"""End to end: the app served by waitress (web.serve), queried over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from web_helpers import assert_error, assert_matches_spec, free_port

pytest_plugins = ("web_fixtures",)

ROOT = Path(__file__).resolve().parents[1]


def fetch(url: str, headers: dict[str, str] | None = None,
          method: str = "GET", data: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {}, method=method, data=data)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def test_search_over_http(live_server: str) -> None:
    status, headers, body = fetch(f"{live_server}/api/search?q=%C3%A9lection&per_page=3")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    data = json.loads(body)
    assert_matches_spec("/api/search", "get", 200, data)
    assert len(data["hits"]) == 3 and "<mark>" in data["hits"][0]["title_html"] + \
        data["hits"][0]["snippet_html"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_pages_and_errors_over_http(live_server: str) -> None:
    status, headers, body = fetch(f"{live_server}/?q=election", {"Accept": "text/html"})
    assert status == 200 and b"<mark>" in body
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    status, _, body = fetch(f"{live_server}/api/articles/none")
    assert status == 404
    assert_error(json.loads(body), "not_found")
    status, _, body = fetch(f"{live_server}/api/search?sort=foo")
    assert status == 400
    assert_error(json.loads(body), "invalid_parameter")
    status, _, body = fetch(f"{live_server}/api/search", method="DELETE")
    assert status == 405
    assert_error(json.loads(body), "method_not_allowed")


def test_access_log(live_server: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="kiosque.access"):
        assert fetch(f"{live_server}/api/health?probe=1")[0] == 200
        deadline = time.monotonic() + 5
        while "probe=1" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    assert '"GET /api/health?probe=1" 200 ' in caplog.text


def wait_for(url: str, process: subprocess.Popen[Any], seconds: float = 120) -> None:
    """Until ``url`` answers 200: a new process loads its stemmers first (seconds under load)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            if fetch(url)[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


def _default_interrupt() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_run_serves_until_interrupted(web_index: Path) -> None:
    """web.serve.run in its own process, as ``kiosque serve`` calls it."""
    port = free_port()
    code = ("from web import create_app; from web.serve import run; "
            f"run(create_app(), '127.0.0.1', {port}, 2)")
    env = {**os.environ, "KIOSQUE_INDEX_DIR": str(web_index), "PYTHONPATH": str(ROOT)}
    # Ctrl-C's default action, whatever this process inherited: a shell starts a background
    # job with SIGINT ignored, its children inherit that, and Python then never raises
    # KeyboardInterrupt (the test hung when the suite ran in the background).
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=_default_interrupt)
    try:
        wait_for(f"http://127.0.0.1:{port}/api/health", process)
        status, _, body = fetch(f"http://127.0.0.1:{port}/api/search?q=Halonen")
        assert status == 200 and json.loads(body)["hits"][0]["id"] == "enwn-30814"
    finally:
        process.send_signal(signal.SIGINT)
        try:  # a guard against a hang, not a speed check: a loaded machine is slow to exit
            _, stderr = process.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0, stderr
    assert f"serving on http://127.0.0.1:{port}" in stderr
    assert '"GET /api/search?q=Halonen" 200 ' in stderr


def test_concurrent_requests(live_server: str) -> None:
    """Waitress threads share one engine (a searcher per thread): no request fails."""
    urls = [f"{live_server}/api/search?q=election&page={n % 4 + 1}" for n in range(24)]
    urls += [f"{live_server}/api/suggest?q=pr%C3%A9s", f"{live_server}/articles/enwn-30814"] * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda url: fetch(url)[0], urls))
    assert statuses == [200] * len(urls)
