"""Many readers, one writer at a time: readers see a whole commit or none of it; writers queue.

Readers share one SearchEngine (as the web server does) while another
process, or a thread, commits versions of a set of articles with
``add_documents`` and rebuilds the index with ``build_index``. Each version
changes twelve articles and adds one: a reader that saw some articles of a
version and not others, or a count that does not match the version, would
have seen part of a commit.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import load_articles
from web_helpers import ADMIN_TOKEN, app_config

import web.api
import web.cli
from indexer import IndexBusy, add_documents, build_index
from search import SearchEngine
from web import create_app

ROOT = Path(__file__).resolve().parents[1]
MARKER = "suivimarq"
VERSIONED = 12
VERSIONS = 4
READERS = 6
_VERSION = re.compile(r"\[v(\d+)\]$")

# Another process that writes each version in turn: "add PATH" or "build PATH" arguments.
WRITER = r"""
import sys
from indexer import add_documents, build_index
index_dir, steps = sys.argv[1], sys.argv[2:]
for action, path in zip(steps[::2], steps[1::2]):
    (add_documents if action == "add" else build_index)([path], index_dir, workers=1)
    print(action, path, flush=True)
"""


def version_records(version: int) -> list[dict[str, Any]]:
    """Version ``version`` of the twelve tracked articles, and the new article it adds (v > 0)."""
    articles = load_articles()
    records = [
        {
            "id": f"conc-{number:02d}",
            "title": f"{article.title} [v{version}]",
            "body": f"{article.body}\n\n{MARKER} version {version}.",
            "date": article.date.isoformat() if article.date else None,
            "lang": article.lang,
        }
        for number, article in enumerate(articles[:VERSIONED])
    ]
    return records + ([new_record(version)] if version else [])


def new_record(version: int) -> dict[str, Any]:
    return {
        "id": f"conc-new-{version}",
        "title": f"Supplément numéro {version} du suivi",
        "body": f"Article ajouté par la version {version}, le {version}e de la série. {MARKER}. "
        + "Les autres articles du suivi changent de titre à chaque version. " * version,
        "lang": "fr",
    }


def full_records(version: int) -> list[dict[str, Any]]:
    """What a rebuild at ``version`` indexes: the same state as adding versions 1 to ``version``."""
    others = [a.to_dict() for a in load_articles()[VERSIONED:]]
    news = [new_record(v) for v in range(1, version)]
    return version_records(version) + news + others


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def plan(tmp_path: Path) -> list[tuple[str, Path]]:
    """Versions 1..VERSIONS, each an add except every third, which is a full rebuild."""
    steps = []
    for version in range(1, VERSIONS + 1):
        if version % 3 == 0:
            steps.append(
                ("build", write_jsonl(tmp_path / f"full-{version}.jsonl", full_records(version)))
            )
        else:
            steps.append(
                ("add", write_jsonl(tmp_path / f"v{version}.jsonl", version_records(version)))
            )
    return steps


def start_index(index_dir: Path, tmp_path: Path) -> None:
    build_index([write_jsonl(tmp_path / "v0.jsonl", full_records(0))], index_dir, workers=1)
    assert SearchEngine(index_dir).search(MARKER, per_page=100).total == VERSIONED


class Readers:
    """Threads searching one shared engine, checking every answer, until told to stop."""

    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.seen: set[int] = set()
        self.queries = 0
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self.run, name=f"reader-{n}", daemon=True)
            for n in range(READERS)
        ]

    def __enter__(self) -> Readers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def run(self) -> None:
        last = -1
        try:
            while not self.stop.is_set():
                version = self.check_once()
                assert version >= last, f"went back from version {last} to {version}"
                last = version
        except Exception as error:  # reported by the test, with the thread's name
            with self.lock:
                self.errors.append(f"{threading.current_thread().name}: {error!r}")
        finally:
            self.engine.close()

    def check_once(self) -> int:
        page = self.engine.search(MARKER, per_page=100, expand_stories=True)
        versions = {
            int(match.group(1)) for hit in page.hits if (match := _VERSION.search(hit.title))
        }
        tracked = [hit for hit in page.hits if hit.id.startswith("conc-") and "-new-" not in hit.id]
        assert len(versions) == 1 and len(tracked) == VERSIONED, (versions, len(tracked))
        version = versions.pop()
        news = sorted(hit.id for hit in page.hits if hit.id.startswith("conc-new-"))
        assert news == sorted(f"conc-new-{v}" for v in range(1, version + 1)), (version, news)
        assert page.total == VERSIONED + version == len(page.hits)
        others = self.engine.search("Kyrgyzstan OR football", per_page=5)
        assert others.total > 0
        with self.lock:
            self.seen.add(version)
            self.queries += 2
        return version


def run_with_readers(index_dir: Path, write: Callable[[], None]) -> Readers:
    engine = SearchEngine(index_dir)
    with Readers(engine) as readers:
        time.sleep(0.2)
        write()
        deadline = time.monotonic() + 60  # until a reader has seen the last version
        while VERSIONS not in readers.seen and not readers.errors and time.monotonic() < deadline:
            time.sleep(0.05)
    return readers


def assert_final_state(readers: Readers, index_dir: Path) -> None:
    assert readers.errors == []
    assert VERSIONS in readers.seen and len(readers.seen) >= 2, readers.seen
    assert readers.queries > READERS
    engine = SearchEngine(index_dir)
    assert engine.search(MARKER, per_page=100, expand_stories=True).total == VERSIONED + VERSIONS
    assert engine.document_count() == len(full_records(VERSIONS))


def test_readers_see_whole_commits_of_another_process(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    start_index(index_dir, tmp_path)
    steps = plan(tmp_path)

    def write() -> None:
        arguments = [str(part) for step in steps for part in step]
        child = subprocess.run(
            [sys.executable, "-c", WRITER, str(index_dir), *arguments],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert child.returncode == 0, child.stderr[-2000:]
        assert child.stdout.count("\n") == VERSIONS

    readers = run_with_readers(index_dir, write)
    assert_final_state(readers, index_dir)


def test_readers_see_whole_commits_of_a_thread(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    start_index(index_dir, tmp_path)
    steps = plan(tmp_path)

    def write() -> None:
        for action, path in steps:
            (add_documents if action == "add" else build_index)([path], index_dir, workers=1)

    readers = run_with_readers(index_dir, write)
    assert_final_state(readers, index_dir)


# -- two writers ---------------------------------------------------------------------------

# A writer that holds the lock for a while: it sleeps after each document it writes.
SLOW_WRITER = r"""
import sys, time
from indexer import add_documents
index_dir, path, pause = sys.argv[1], sys.argv[2], float(sys.argv[3])
report = add_documents([path], index_dir, workers=1, progress=lambda n: time.sleep(pause))
print(report.indexed, flush=True)
"""


def records_named(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{prefix}-{n}",
            "title": f"Article {prefix} numéro {n}",
            "body": f"Texte de l'article {prefix} {n}, écrit par le rédacteur {prefix}. "
            + f"Il parle du sujet {n} du dossier {prefix}. " * (n + 2),
            "lang": "fr",
        }
        for n in range(count)
    ]


def wait_for_lock_holder(index_dir: Path, pid: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (index_dir / "write.lock").read_text().strip() == str(pid):
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"{pid} never took the lock")


@pytest.fixture()
def slow_writer(tmp_path: Path) -> Any:
    """Start a process adding six articles slowly; yields (process, index_dir)."""
    index_dir = tmp_path / "index"
    add_documents([write_jsonl(tmp_path / "base.jsonl", records_named("base", 3))], index_dir)
    source = write_jsonl(tmp_path / "first.jsonl", records_named("first", 6))
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(index_dir), str(source), "0.5"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_lock_holder(index_dir, process.pid)
        yield process, index_dir
    finally:
        process.kill()
        process.communicate(timeout=60)


def test_a_second_writer_fails_clearly_then_waits_its_turn(
    slow_writer: Any, tmp_path: Path
) -> None:
    process, index_dir = slow_writer
    second = write_jsonl(tmp_path / "second.jsonl", records_named("second", 4))
    started = time.perf_counter()
    with pytest.raises(IndexBusy) as busy:
        add_documents([second], index_dir, lock_timeout=0.5)
    assert time.perf_counter() - started >= 0.5  # it waited before giving up
    message = str(busy.value)
    assert f"another process (pid {process.pid}) is writing to {index_dir}" in message
    assert "waited 0.5 s" in message
    report = add_documents([second], index_dir, lock_timeout=120)  # waits for the first
    assert report.indexed == 4
    assert process.wait(timeout=120) == 0 and process.stdout is not None
    assert process.stdout.read().strip() == "6"
    engine = SearchEngine(index_dir)
    assert engine.document_count() == 3 + 6 + 4  # nothing lost either way
    assert all(engine.get(f"first-{n}") for n in range(6))
    assert all(engine.get(f"second-{n}") for n in range(4))


def test_the_cli_says_the_index_is_busy(
    slow_writer: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    process, index_dir = slow_writer
    monkeypatch.setattr(
        web.cli, "add_documents", functools.partial(add_documents, lock_timeout=0.3)
    )
    source = write_jsonl(tmp_path / "cli.jsonl", records_named("cli", 1))
    result = CliRunner().invoke(
        web.cli.main, ["index", "add", str(source), "--index-dir", str(index_dir)]
    )
    assert result.exit_code == 2
    assert f"another process (pid {process.pid}) is writing to {index_dir}" in result.output
    assert "Traceback" not in result.output


def test_the_api_says_the_index_is_busy(slow_writer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _, index_dir = slow_writer
    monkeypatch.setattr(web.api, "WRITE_LOCK_TIMEOUT", 0.3)
    client = create_app(app_config(index_dir)).test_client()
    response = client.post(
        "/api/articles",
        data=json.dumps(records_named("api", 1)[0]),
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_json()["error"]["code"] == "index_busy"
    response = client.delete(
        "/api/articles/base-0", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert response.status_code == 503
    assert client.get("/api/search?q=rédacteur").status_code == 200  # reading goes on


def test_writer_threads_take_turns_and_lose_nothing(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    add_documents([write_jsonl(tmp_path / "base.jsonl", records_named("base", 2))], index_dir)
    sources = [write_jsonl(tmp_path / f"t{n}.jsonl", records_named(f"t{n}", 3)) for n in range(4)]
    errors: list[BaseException] = []

    def add(source: Path) -> None:
        try:
            add_documents([source], index_dir, workers=1, lock_timeout=120)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=add, args=(source,)) for source in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    engine = SearchEngine(index_dir)
    assert engine.document_count() == 2 + 4 * 3
    assert all(engine.get(f"t{n}-{i}") for n in range(4) for i in range(3))
