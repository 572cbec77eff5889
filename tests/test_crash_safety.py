"""Builds and updates killed with SIGKILL: the index always opens, with the old or the new content.

Two kinds of kill. Faults injected at the dangerous moments (while writing,
inside Whoosh's commit before and after its table of contents is renamed,
before and after ``CURRENT`` is swapped, before the manifest is saved),
where a child process SIGKILLs itself; and ``kiosque index build`` or
``add`` killed from outside after a seeded random delay. After each kill:
the index opens, it holds exactly the old state or exactly the new one
(never part of one commit), a searcher opened before still answers, and
the next writer gets the lock at once. ``bench/soak.py`` does the same 50
times and more.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import load_articles

from indexer import IndexBusy, add_documents, build_index
from search import Article, SearchEngine

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ("élection", "football", "Kyrgyzstan", "revisionx", "nouvellex")
KILL_SEED = 8

# A child that runs a build or an add and SIGKILLs itself at one point of it.
INJECTED = r"""
import os, signal, sys
import whoosh.index
from whoosh.filedb.filestore import FileStorage
import indexer.build as build
import search.store as store

action, point, index_dir, source = sys.argv[1:5]

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if point == "write":  # after the third document given to the writer
    original_write, written = build._write, []
    def _write(*args, **kwargs):
        original_write(*args, **kwargs)
        written.append(1)
        if len(written) == 3:
            die()
    build._write = _write
elif point == "whoosh-toc":  # Whoosh's new table of contents written, not yet renamed
    original_rename = FileStorage.rename_file
    def rename_file(self, old, new, safe=False):
        if not new.endswith("_0.toc"):  # generation 0 is the empty index of a new build
            die()
        return original_rename(self, old, new, safe)
    FileStorage.rename_file = rename_file
elif point == "whoosh-clean":  # the new table of contents in place, old files not yet removed
    whoosh.index.clean_files = die
elif point == "manifest":
    build._save_manifest = die
elif point == "swap":  # the new CURRENT written, not yet renamed over the old one
    original_replace = os.replace
    def replace(src, dst, *args, **kwargs):
        if os.path.basename(dst) == "CURRENT":
            die()
        return original_replace(src, dst, *args, **kwargs)
    os.replace = replace
elif point == "cleanup":  # CURRENT swapped, stale generations not yet removed
    store.remove_stale_generations = die

if action == "build":
    build.build_index([source], index_dir, workers=1)
else:
    build.add_documents([source], index_dir, workers=1)
print("finished without being killed")
"""


def changed_articles(
    articles: list[Article], copies: int = 1, new: int = 12
) -> list[dict[str, Any]]:
    """Six articles revised, and ``new`` new ones per copy (ids and urls of their own)."""
    records = []
    for article in articles[:6]:
        revised = article.to_dict() | {
            "title": f"{article.title} (mise à jour)",
            "body": f"{article.body}\n\nMise à jour revisionx.",
        }
        records.append(revised)
    for copy in range(copies):
        for article in articles[:new]:
            record = article.to_dict() | {
                "id": f"{article.id}-new-{copy}",
                "url": f"{article.url}?copy={copy}",
                "body": f"{article.body}\n\nCopie {copy} nouvellex.",
            }
            records.append(record)
    for record in records:
        record.pop("story", None)
    return records


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), "utf-8"
    )
    return path


def snapshot(index_dir: Path) -> tuple[dict[str, tuple[str, str]], dict[str, list[str]]]:
    """Every document (id: title, body) and the ids each query finds, from a new engine."""
    engine = SearchEngine(index_dir)
    docs = {
        fields["id"]: (fields["title"], fields["body"])
        for fields in engine.searcher().all_stored_fields()
    }
    found = {
        query: sorted(
            hit.id for hit in engine.search(query, per_page=100, expand_stories=True).hits
        )
        for query in QUERIES
    }
    engine.close()
    return docs, found


class Corpus:
    """A base index, inputs, and the two states a killed writer may leave."""

    def __init__(self, root: Path) -> None:
        articles = load_articles()
        self.base = root / "base"
        self.inputs = root / "inputs"
        self.inputs.mkdir()
        base_records = [a.to_dict() for a in articles]
        write_jsonl(self.inputs / "base.jsonl", base_records)
        build_index([self.inputs / "base.jsonl"], self.base, workers=1)
        # small inputs: the children spend their time starting, not writing
        changes = changed_articles(articles, new=4)
        self.changes = write_jsonl(self.inputs / "changes.jsonl", changes)
        self.rebuild = write_jsonl(self.inputs / "rebuild.jsonl", changes + base_records[6:10])
        self.old = snapshot(self.base)
        self.added = self._state_after(add_documents, self.changes, root / "added")
        self.built = self._state_after(build_index, self.rebuild, root / "built")
        assert self.old != self.added and self.old != self.built
        assert len(self.added[0]) == len(self.old[0]) + 4 and len(self.built[0]) == 14

    def _state_after(self, write: Any, source: Path, target: Path) -> Any:
        shutil.copytree(self.base, target)
        write([source], target, workers=1)
        return snapshot(target)

    def copy(self, target: Path) -> Path:
        shutil.copytree(self.base, target)
        return target


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus(tmp_path_factory.mktemp("crash"))


def run_injected(action: str, points: list[str], index_dirs: list[Path], source: Path) -> None:
    """Run one self-killing child per point, at the same time, each on its own index."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", INJECTED, action, point, str(index_dir), str(source)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for point, index_dir in zip(points, index_dirs, strict=True)
    ]
    for point, child in zip(points, children, strict=True):
        _, errors = child.communicate(timeout=180)
        assert child.returncode == -signal.SIGKILL, (point, child.returncode, errors[-2000:])


def assert_writable_at_once(index_dir: Path) -> None:
    """The lock of the killed writer is gone: a new writer starts without waiting."""
    extra = Article(id="after-kill", title="Après le crash", body="Texte écrit après le crash.")
    started = time.perf_counter()
    assert add_documents([extra], index_dir, workers=1, lock_timeout=2.0).indexed == 1
    assert time.perf_counter() - started < 30
    assert SearchEngine(index_dir).get("after-kill") is not None


BUILD_POINTS = {"write": "old", "whoosh-toc": "old", "swap": "old", "cleanup": "new"}
ADD_POINTS = {"write": "old", "whoosh-toc": "old", "whoosh-clean": "new", "manifest": "new"}


def test_builds_killed_at_dangerous_moments(corpus: Corpus, tmp_path: Path) -> None:
    index_dirs = [corpus.copy(tmp_path / point) for point in BUILD_POINTS]
    readers = [SearchEngine(index_dir) for index_dir in index_dirs]  # servers answering before
    before = [hit.id for hit in readers[0].search("élection").hits]
    run_injected("build", list(BUILD_POINTS), index_dirs, corpus.rebuild)
    for (point, state), index_dir, reader in zip(
        BUILD_POINTS.items(), index_dirs, readers, strict=True
    ):
        expected = corpus.old if state == "old" else corpus.built
        assert snapshot(index_dir) == expected, point
        if state == "old":
            assert [hit.id for hit in reader.search("élection").hits] == before, point
        assert reader.document_count() == len(expected[0]), point
        generations = [path for path in index_dir.iterdir() if path.name.startswith("gen-")]
        assert 1 <= len(generations) <= 2, (point, generations)
        assert_writable_at_once(index_dir)


def test_adds_killed_at_dangerous_moments(corpus: Corpus, tmp_path: Path) -> None:
    index_dirs = [corpus.copy(tmp_path / point) for point in ADD_POINTS]
    readers = [SearchEngine(index_dir) for index_dir in index_dirs]
    for reader in readers:
        reader.search("élection")
    run_injected("add", list(ADD_POINTS), index_dirs, corpus.changes)
    for (point, state), index_dir, reader in zip(
        ADD_POINTS.items(), index_dirs, readers, strict=True
    ):
        expected = corpus.old if state == "old" else corpus.added
        assert snapshot(index_dir) == expected, point  # one commit: all of it or none of it
        assert reader.document_count() == len(expected[0]), point
        # Adding the same file again gives the new state, whatever the kill left behind
        add_documents([corpus.changes], index_dir, workers=1, lock_timeout=2.0)
        assert snapshot(index_dir) == corpus.added, point
        assert_writable_at_once(index_dir)


def wait_for_lock_holder(index_dir: Path, pid: int, timeout: float = 60.0) -> None:
    """Until process ``pid`` holds the index's write lock (it writes its pid in the file)."""
    deadline = time.monotonic() + timeout
    lock = index_dir / "write.lock"
    while time.monotonic() < deadline:
        try:
            if lock.read_text(encoding="utf-8").strip() == str(pid):
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"process {pid} never took the lock of {index_dir}")


def kiosque(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "web.cli", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_after(process: subprocess.Popen[bytes], index_dir: Path, delay: float) -> int:
    """SIGKILL ``process`` ``delay`` seconds after it took the write lock; its exit status."""
    wait_for_lock_holder(index_dir, process.pid)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    return process.wait(timeout=60)


@pytest.fixture(scope="module")
def many(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, int]:
    """A larger input (revisions and 144 new articles), the state after adding it, its size."""
    root = tmp_path_factory.mktemp("many")
    records = changed_articles(load_articles(), copies=12)
    big = write_jsonl(root / "many.jsonl", records)
    return big, corpus._state_after(add_documents, big, root / "reference"), len(records)


def restart_from_old(corpus: Corpus, index_dir: Path) -> SearchEngine:
    shutil.rmtree(index_dir)
    corpus.copy(index_dir)
    return SearchEngine(index_dir)


def kill_twice_at_random(corpus: Corpus, tmp_path: Path, verb: str, source: Path,
                         finished: Any, seed: int) -> None:
    """Run ``kiosque index VERB`` twice, each killed at a random moment: the index is the old
    one or the finished one, whole, and a reader opened before sees the same."""
    rng = random.Random(seed)
    index_dir = corpus.copy(tmp_path / "index")
    reader = SearchEngine(index_dir)
    for _ in range(2):
        command = kiosque("index", verb, str(source), "--index-dir", str(index_dir))
        kill_after(command, index_dir, rng.uniform(0.0, 2.0))
        state = snapshot(index_dir)
        assert state in (corpus.old, finished)  # one commit: all of it or none of it
        assert reader.document_count() == len(state[0])
        if state == finished:  # finished before the kill: start again from the old state
            reader = restart_from_old(corpus, index_dir)
    assert_writable_at_once(index_dir)


def test_index_add_killed_at_random_moments(
    corpus: Corpus, many: tuple[Path, Any, int], tmp_path: Path
) -> None:
    big, after, _ = many
    kill_twice_at_random(corpus, tmp_path, "add", big, after, KILL_SEED)


def test_index_build_killed_at_random_moments(
    corpus: Corpus, many: tuple[Path, Any, int], tmp_path: Path
) -> None:
    """The old index, or the new one whole (finished, or killed after the swap)."""
    big, _, size = many
    built = corpus._state_after(build_index, big, tmp_path / "reference")
    assert len(built[0]) == size
    kill_twice_at_random(corpus, tmp_path, "build", big, built, KILL_SEED + 1)


# -- locks left by killed writers ------------------------------------------------------------

HOLDER = r"""
import sys, time
from pathlib import Path
from indexer.locking import write_lock
from search import store
index_dir = Path(sys.argv[1])
with write_lock(index_dir):
    writer = store.open_index(index_dir).writer()  # Whoosh's own lock file, held too
    print("holding", flush=True)
    time.sleep(600)
"""


def start_holder(index_dir: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(index_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    return holder


def test_a_busy_index_names_its_writer_and_a_killed_one_frees_it(
    corpus: Corpus, tmp_path: Path
) -> None:
    index_dir = corpus.copy(tmp_path / "index")
    holder = start_holder(index_dir)
    extra = [Article(id="late", title="Arrivé tard", body="Un texte qui attendait son tour.")]
    try:
        with pytest.raises(IndexBusy) as busy:
            add_documents(extra, index_dir, lock_timeout=0.3)
        message = str(busy.value)
        assert f"pid {holder.pid}" in message and "waited 0.3 s" in message
        assert str(index_dir) in message and "Try again" in message
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        assert holder.stdout is not None
        holder.stdout.close()
    # both lock files are left on disk, but the kernel released both locks with the process
    generation = (index_dir / (index_dir / "CURRENT").read_text().strip()).resolve()
    assert (index_dir / "write.lock").exists() and (generation / "MAIN_WRITELOCK").exists()
    started = time.perf_counter()
    assert add_documents(extra, index_dir, lock_timeout=1.0).indexed == 1
    assert time.perf_counter() - started < 30
    assert SearchEngine(index_dir).get("late") is not None
    assert snapshot(index_dir)[0].keys() - corpus.old[0].keys() == {"late"}


def children_of(pid: int) -> set[int]:
    """The child processes of ``pid`` (Linux /proc)."""
    found: set[int] = set()
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found |= {int(child) for child in (task / "children").read_text().split()}
    except OSError:  # it has just exited
        pass
    return found


def is_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")  # a zombie has exited; only its parent's bookkeeping remains


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An input large enough for worker processes (over 1 MB), whose build lasts well past
    the moment the tests kill it (at 80 copies, a build on a quiet machine sometimes
    finished first and the killed-build test saw the new index)."""
    path = tmp_path_factory.mktemp("large") / "large.jsonl"
    write_jsonl(path, changed_articles(load_articles(), copies=240))
    assert path.stat().st_size > 1_000_000
    return path


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("action", ["add", "build"])
def test_a_killed_writer_leaves_no_worker_holding_the_lock(
    corpus: Corpus, large: Path, tmp_path: Path, action: str
) -> None:
    """Worker processes inherit the write lock: they must die with the killed writer.

    (They did not: a build killed with --workers 2 left its workers waiting
    forever, and the index locked until someone found and killed them.)
    """
    index_dir = corpus.copy(tmp_path / "index")
    command = kiosque("index", action, str(large), "--workers", "2", "--index-dir", str(index_dir))
    wait_for_lock_holder(index_dir, command.pid)
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while len(workers) < 2 and time.monotonic() < deadline and command.poll() is None:
        workers = children_of(command.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, f"the {action} never started its workers"
    time.sleep(0.5)  # let every kind of worker start
    workers |= children_of(command.pid)
    assert command.poll() is None, f"the {action} finished before it was killed: a larger input"
    command.send_signal(signal.SIGKILL)
    command.wait(timeout=30)
    deadline = time.monotonic() + 10
    while not all(is_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    orphans = [pid for pid in workers if not is_gone(pid)]
    for pid in orphans:  # do not leave them behind, whatever the test says
        os.kill(pid, signal.SIGKILL)
    assert orphans == [], "workers outlived the killed writer"
    assert snapshot(index_dir) == corpus.old
    assert_writable_at_once(index_dir)
