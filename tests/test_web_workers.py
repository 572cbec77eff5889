"""``kiosque serve --workers 2``: real server processes on a real temporary index.

The server runs as a subprocess with its log in a file; psutil finds its
workers; requests go over real HTTP, each on a new connection, so that the
kernel spreads them over the workers (the log names the process of each
request).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from web_helpers import load_sample_records

from indexer import add_documents
from search import Article

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 120  # imports and stemmers on a busy 2-core machine
QUERY = "/api/search?q=election&per_page=3"
ACCESS_LINE = re.compile(r"\[(\d+)\] 127\.0\.0\.1 \"GET (\S+)\" (\d{3}) ")


@dataclass
class Server:
    """A ``kiosque serve`` subprocess and the file its log goes to."""

    process: subprocess.Popen[bytes]
    log_path: Path
    url: str = ""

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def workers(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children()

    def served_by(self, path: str, since: int = 0) -> set[int]:
        """The pids of the workers whose access log has a 200 for ``path`` (log from ``since``)."""
        return {int(pid) for pid, logged, status in ACCESS_LINE.findall(self.log()[since:])
                if logged == path and status == "200"}  # fmt: skip

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def start_server(index_dir: Path, log_path: Path, workers: int = 2) -> Server:
    """``kiosque serve --port 0 --workers N``, once it answers; its URL read from its log."""
    command = [sys.executable, "-m", "web.cli", "serve", "--index-dir", str(index_dir),
               "--port", "0", "--threads", "2", "--workers", str(workers)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("KIOSQUE_ADMIN_TOKEN", None)
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    server = Server(process, log_path)
    found = wait_until(lambda: re.search(r"serving on (http://\S+) with", server.log()),
                       server, "the server did not log its address")  # fmt: skip
    server.url = found.group(1)
    wait_until(lambda: len(server.workers()) == workers and fetch(server.url + QUERY)[0] == 200,
               server, "the workers did not answer")  # fmt: skip
    return server


def wait_until(condition: Callable[[], object], server: Server, message: str,
               seconds: float = START_SECONDS) -> object:  # fmt: skip
    """The first true value of ``condition()``; fails when the server exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.process.poll() is None, f"the server exited:\n{server.log()}"
        try:
            value = condition()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{message}:\n{server.log()}")


def fetch(url: str) -> tuple[int, bytes]:
    """One GET on a new connection."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def fetch_until_both_served(server: Server, path: str, since: int = 0,
                            seconds: float = 30.0) -> list[tuple[int, bytes]]:  # fmt: skip
    """Batches of 16 concurrent requests until both workers logged ``path`` (at most
    ``seconds``); every answer.

    Bounded by time, not by a number of batches: a worker just started may take a second
    to answer on a loaded machine, while the warm one answers hundreds of requests (a
    fixed 20 batches failed once, a suite running beside a server benchmark).
    """
    answers: list[tuple[int, bytes]] = []
    deadline = time.monotonic() + seconds
    with ThreadPoolExecutor(max_workers=8) as pool:
        while time.monotonic() < deadline:
            answers += pool.map(fetch, [server.url + path] * 16)
            if len(server.served_by(path, since)) == 2:
                break
            time.sleep(0.05)
    return answers


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture(scope="module")
def sample() -> list[Article]:
    return load_sample_records()[:12]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory, sample: list[Article]) -> Path:
    """A writable index of a dozen committed Wikinews articles, for this module only."""
    index_dir = tmp_path_factory.mktemp("workers-index")
    assert add_documents(sample, index_dir, workers=1).indexed == len(sample)
    return index_dir


@pytest.fixture(scope="module")
def server(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(index_dir, tmp_path_factory.mktemp("workers-log") / "server.log")
    try:
        yield server
    finally:
        server.stop()


def test_two_workers_answer_every_request(server: Server) -> None:
    workers = server.workers()
    assert len(workers) == 2
    answers = fetch_until_both_served(server, QUERY)
    assert [status for status, _ in answers] == [200] * len(answers)
    assert all(json.loads(body)["total"] > 0 for _, body in answers)
    assert server.served_by(QUERY) == {worker.pid for worker in workers}


def test_a_killed_worker_is_replaced(server: Server) -> None:
    victim, survivor = server.workers()
    victim.send_signal(signal.SIGKILL)
    wait_until(lambda: len(server.workers()) == 2 and victim.pid not in
               {worker.pid for worker in server.workers()}, server,
               "the killed worker was not replaced")  # fmt: skip
    wait_until(lambda: f"worker {victim.pid} was killed by SIGKILL; starting another"
               in server.log(), server, "no log line about the killed worker")  # fmt: skip
    assert survivor.pid in {worker.pid for worker in server.workers()}
    since = len(server.log())
    answers = fetch_until_both_served(server, QUERY + "&after=kill", since)
    assert {status for status, _ in answers} == {200}
    assert len(server.served_by(QUERY + "&after=kill", since)) == 2


def test_a_commit_is_visible_to_every_worker(server: Server, index_dir: Path,
                                             sample: list[Article]) -> None:  # fmt: skip
    path = "/api/search?q=Kiosquemarqueur&per_page=3"
    assert json.loads(fetch(server.url + path)[1])["total"] == 0
    fresh = Article(id="workers-fresh", title="Kiosquemarqueur dans tous les processus",
                    body="Un article ajouté pendant que deux processus servent l'index. " * 5,
                    lang="fr")  # fmt: skip
    assert add_documents([fresh], index_dir, workers=1).indexed == 1
    since = len(server.log())
    answers = fetch_until_both_served(server, path, since)
    assert len(server.served_by(path, since)) == 2
    for status, body in answers:
        assert status == 200
        assert [hit["id"] for hit in json.loads(body)["hits"]] == ["workers-fresh"]


def test_sigterm_stops_every_worker(index_dir: Path, tmp_path: Path) -> None:
    server = start_server(index_dir, tmp_path / "server.log")
    try:
        pids = [worker.pid for worker in server.workers()]
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=60) == 0, server.log()
        assert all(gone(pid) for pid in pids)
        assert "stopping 2 worker(s)" in server.log()
        assert "Traceback" not in server.log()
    finally:
        server.stop()


def test_workers_stop_when_the_parent_is_killed(index_dir: Path, tmp_path: Path) -> None:
    server = start_server(index_dir, tmp_path / "server.log")
    try:
        pids = [worker.pid for worker in server.workers()]
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while not all(gone(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert all(gone(pid) for pid in pids)
    finally:
        server.stop()
        for pid in pids:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


CRASHING = """
import logging, os, sys
from web.workers import Supervisor
logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
Supervisor(lambda: os._exit(3), workers=1).run()
"""


def test_a_worker_that_keeps_dying_is_restarted_ever_more_slowly(tmp_path: Path) -> None:
    """Fault injected: a worker that exits at once, every time; SIGTERM still stops the parent."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    lines: list[str] = []
    with subprocess.Popen([sys.executable, "-c", CRASHING], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        try:
            assert process.stdout is not None
            deadline = time.monotonic() + START_SECONDS
            while len(lines) < 6 and time.monotonic() < deadline:
                lines.append(process.stdout.readline())
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
    restarts = [line for line in lines if "exited with status 3; starting another" in line]
    assert [line.rsplit(" in ", 1)[1].strip() for line in restarts[:2]] == ["0.5 s", "1.0 s"]
