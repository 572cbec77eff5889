"""Soak: a real server under concurrent queries while updates commit and writers are killed.

    python bench/soak.py --seconds 90 --kills 50 [--clients 6] [--write-results]

1. Builds an index of the bundled sample corpus (``indexer/sample_corpus``) with
   ``kiosque index build``, in a temporary directory.
2. Starts ``kiosque serve`` on a free port of 127.0.0.1 and waits for it.
3. Phase "updates" (``--seconds``): client threads query the API and the
   search page without pause while another process runs ``kiosque index add``
   of changed records (twenty revised articles and one new one per commit).
4. Phase "kills": the clients go on while ``--kills`` writers, ``kiosque index
   build`` and ``kiosque index add`` in turn, are SIGKILLed a random (seeded)
   moment after they took the write lock. After each kill the index must open
   with exactly the old state, or, for an add, exactly the new one; the
   killed writer's worker processes must be gone; and the next writer must
   get the lock without waiting.
5. Reports errors (any non-2xx answer, a wrong JSON shape, a refused
   connection, a failed check: must be 0), queries served, p50/p99 latency,
   and the server's RSS over time (must level off).

Every loop is bounded by a count or a deadline; only 127.0.0.1 is used. The
``--write-results`` flag puts the figures in the "## Soak" section of
``bench/RESULTS.md`` (other sections are left as they are).
"""

from __future__ import annotations

import sys
from pathlib import Path

# run as a script: import the project from the repository root, not from bench/
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import gzip  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import quote, urlencode  # noqa: E402

from indexer.locking import write_lock  # noqa: E402
from search import SearchEngine  # noqa: E402

CORPUS = ROOT / "indexer" / "sample_corpus"
RESULTS = ROOT / "bench" / "RESULTS.md"
HOST = "127.0.0.1"
SEARCH_KEYS = {"query", "total", "page", "per_page", "suggestion", "hits", "facets"}
REVISED_PER_UPDATE = 20
REVISED_PER_KILLED_ADD = 200
NEW_PER_FILE = 10
PROBES = ("élection", "football", "pétrole", "Obama", "Maroc")


@dataclass
class Stats:
    """What the clients and the checks saw, shared between threads."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {"updates": [], "kills": []})
    errors: list[str] = field(default_factory=list)
    phase: str = "updates"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, seconds: float) -> None:
        with self.lock:
            self.latencies[self.phase].append(seconds)

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)
        print(f"ERROR: {message}", file=sys.stderr, flush=True)


# -- the corpus and its changes ----------------------------------------------------------------


def corpus_records() -> list[dict[str, Any]]:
    records = []
    for path in sorted(CORPUS.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            records += [json.loads(line) for line in lines if line.strip()]
    return records


def changed_file(
    path: Path, records: list[dict[str, Any]], rng: random.Random, revised: int, tag: str
) -> set[str]:
    """Revised copies of ``revised`` records and NEW_PER_FILE new ones; returns the new ids."""
    chosen = rng.sample(records, revised)
    lines = [
        {**r, "title": f"{r['title']} (rév. {tag})", "body": f"{r['body']}\n\nRévision {tag}."}
        for r in chosen
    ]
    new_ids = set()
    for number, base in enumerate(rng.sample(records, NEW_PER_FILE)):
        new_id = f"soak-{tag}-{number}"
        new_ids.add(new_id)
        lines.append(
            {
                **base,
                "id": new_id,
                "url": f"{base.get('url', '')}#soak-{tag}-{number}",
                "title": f"{base['title']} — suite {tag}",
                "body": f"Suite {tag}, article {number}.\n\n{base['body']}",
            }
        )
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), "utf-8")
    return new_ids


# -- processes ---------------------------------------------------------------------------------


def kiosque(*args: str, quiet: bool = True) -> subprocess.Popen[bytes]:
    output = subprocess.DEVNULL if quiet else None
    return subprocess.Popen(
        [sys.executable, "-m", "web.cli", *args], cwd=ROOT, stdout=output, stderr=output
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = {int(c) for c in (task / "children").read_text().split()}
            except OSError:
                continue
            todo += sorted(children - found)
            found |= children
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_for_lock_holder(index_dir: Path, process: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if (index_dir / "write.lock").read_text().strip() == str(process.pid):
                return True
        except OSError:
            pass
        time.sleep(0.02)
    return False


# -- clients -----------------------------------------------------------------------------------


def requests(rng: random.Random, words: list[str], ids: list[str]) -> Iterator[tuple[str, str]]:
    """An endless mix of what people ask: (kind, path)."""
    while True:
        word = rng.choice(words)
        other = rng.choice(words)
        choice = rng.random()
        if choice < 0.45:
            params = {
                "q": rng.choice(
                    [
                        word,
                        f"{word} {other}",
                        f'"{word} {other}"',
                        f"{word[:4]}*",
                        f"{word}~",
                        f"{word} -{other}",
                        f"title:{word}",
                    ]
                )
            }
            if rng.random() < 0.3:
                params.update(
                    rng.choice(
                        [
                            {"lang": "fr"},
                            {"lang": "en"},
                            {"sort": "newest"},
                            {"page": "2"},
                            {"from": "2010-01-01"},
                        ]
                    )
                )
            yield "search", "/api/search?" + urlencode(params)
        elif choice < 0.65:
            yield "suggest", "/api/suggest?" + urlencode({"q": word[: rng.randint(2, 6)]})
        elif choice < 0.8:
            yield "article", "/api/articles/" + quote(rng.choice(ids), safe="")
        elif choice < 0.95:
            yield "page", "/?" + urlencode({"q": word})
        else:
            yield "health", "/api/health"


def check_answer(kind: str, status: int, data: bytes) -> str | None:
    if status != 200:
        return f"{kind}: status {status}: {data[:200]!r}"
    if kind == "page":
        return None if b"<html" in data[:500].lower() else f"page: not HTML: {data[:100]!r}"
    body = json.loads(data)
    if kind == "search" and set(body) != SEARCH_KEYS:
        return f"search: keys {sorted(body)}"
    if kind == "suggest" and not isinstance(body.get("suggestions"), list):
        return f"suggest: {body!r:.200}"
    if kind == "health" and body.get("status") != "ok":
        return f"health: {body!r:.200}"
    return None


def client(
    port: int, seed: int, words: list[str], ids: list[str], stats: Stats, stop: threading.Event
) -> None:
    rng = random.Random(seed)
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    for kind, path in requests(rng, words, ids):
        if stop.is_set():
            break
        started = time.perf_counter()
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            stats.error(f"{kind} {path[:80]}: {error!r}")
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=60)
            continue
        stats.record(time.perf_counter() - started)
        problem = check_answer(kind, response.status, data)
        if problem:
            stats.error(f"{path[:80]}: {problem}")
    connection.close()


# -- the soak ----------------------------------------------------------------------------------


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.work = Path(tempfile.mkdtemp(prefix="kiosque-soak-"))
        self.index_dir = self.work / "index"
        self.stats = Stats()
        self.records = corpus_records()
        self.memory: list[tuple[float, float]] = []
        self.commits = 0
        self.kills = {"build": 0, "add": 0, "finished before the kill": 0}
        self.server: subprocess.Popen[bytes] | None = None
        self.started = time.monotonic()
        self.build_seconds = self.updates_seconds = self.kills_seconds = 0.0
        self.warm_up_seconds = self.warm_rss = 0.0
        self.source = CORPUS
        if args.articles:  # a smaller index, for a quick trial of the script itself
            self.records = self.records[: args.articles]
            self.source = self.work / "corpus.jsonl"
            self.source.write_text(
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.records), "utf-8"
            )

    def build(self) -> None:
        print(f"building the sample corpus index in {self.index_dir}...", flush=True)
        started = time.monotonic()
        command = kiosque("index", "build", str(self.source), "--index-dir", str(self.index_dir))
        if command.wait(timeout=3600) != 0:
            raise SystemExit("the initial build failed")
        self.build_seconds = time.monotonic() - started
        self.count = SearchEngine(self.index_dir).document_count()
        print(f"  {self.count} articles in {self.build_seconds:.0f} s", flush=True)

    def serve(self) -> int:
        port = free_port()
        self.server = kiosque(
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--threads",
            str(self.args.threads),
            "--index-dir",
            str(self.index_dir),
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection(HOST, port, timeout=5)
                connection.request("GET", "/api/health")
                if connection.getresponse().status == 200:
                    connection.close()
                    return port
            except OSError:
                time.sleep(0.2)
        raise SystemExit("the server did not start")

    def watch_memory(self, stop: threading.Event) -> None:
        assert self.server is not None
        while not stop.wait(1.0):
            try:
                self.memory.append((time.monotonic() - self.started, rss_mb(self.server.pid)))
            except OSError:
                self.stats.error("the server is gone")
                return

    def updates(self, deadline: float) -> None:
        """Commit changed records with ``kiosque index add`` until ``deadline``."""
        folder = self.work / "updates"
        folder.mkdir()
        while time.monotonic() < deadline and self.commits < 10_000:
            path = folder / f"u{self.commits}.jsonl"
            new_ids = changed_file(
                path, self.records, self.rng, REVISED_PER_UPDATE, f"u{self.commits}"
            )
            if (
                kiosque("index", "add", str(path), "--index-dir", str(self.index_dir)).wait(
                    timeout=600
                )
                != 0
            ):
                self.stats.error(f"update {self.commits} failed")
                return
            self.commits += 1
            self.count += len(new_ids)
            found = SearchEngine(self.index_dir).document_count()
            if found != self.count:
                self.stats.error(f"after update {self.commits}: {found} articles, not {self.count}")
                self.count = found

    def kill_writers(self) -> None:
        folder = self.work / "killed"
        folder.mkdir()
        for number in range(2 * self.args.kills):  # a writer may finish before its kill
            if self.kills["build"] + self.kills["add"] >= self.args.kills:
                break
            action = "build" if number % 2 == 0 else "add"
            before = self.state()
            if action == "build":
                command = kiosque(
                    "index", "build", str(self.source), "--index-dir", str(self.index_dir)
                )
                delay = self.rng.uniform(0.0, self.args.build_kill_window)
                new_ids: set[str] = set()
            else:
                path = folder / f"k{number}.jsonl"
                new_ids = changed_file(
                    path, self.records, self.rng, REVISED_PER_KILLED_ADD, f"k{number}"
                )
                command = kiosque("index", "add", str(path), "--index-dir", str(self.index_dir))
                delay = self.rng.uniform(0.0, self.args.add_kill_window)
            self.kill_one(number, action, command, delay, before, new_ids)
            if action == "add":
                self.check_all_or_nothing(number)

    def kill_one(
        self,
        number: int,
        action: str,
        command: subprocess.Popen[bytes],
        delay: float,
        before: tuple[int, dict[str, list[str]]],
        new_ids: set[str],
    ) -> None:
        if not wait_for_lock_holder(self.index_dir, command, timeout=120):
            self.stats.error(
                f"kill {number}: the {action} never took the lock (exit {command.poll()})"
            )
            command.kill()
            command.wait()
            return
        time.sleep(delay)
        workers = descendants(command.pid)
        command.send_signal(signal.SIGKILL)
        status = command.wait(timeout=60)
        if status == -signal.SIGKILL:
            self.kills[action] += 1
        else:
            self.kills["finished before the kill"] += 1
        self.check_orphans(number, workers)
        self.check_lock_is_free(number)
        after = self.state()
        if status != -signal.SIGKILL and action == "build":
            self.count = after[0]
        elif after == before:
            pass
        elif action == "add" and after[0] == before[0] + len(new_ids):
            self.count = after[0]  # the commit was complete before the kill
        else:
            self.stats.error(
                f"kill {number} ({action}, {delay:.2f} s): {before[0]} articles "
                f"before, {after[0]} after, queries {before[1]} -> {after[1]}"
            )
        print(
            f"  writer {number + 1}: {action} killed after {delay:.2f} s, "
            f"exit {status}, {after[0]} articles",
            flush=True,
        )

    def check_all_or_nothing(self, number: int) -> None:
        """The revisions of a killed add are all in the index, or none is."""
        tag = f"(rév. k{number})"
        try:
            engine = SearchEngine(self.index_dir)
            revised = sum(
                tag in fields["title"] for fields in engine.searcher().all_stored_fields()
            )
        except Exception as error:
            self.stats.error(f"kill {number}: the index does not open: {error!r}")
            return
        if revised not in (0, REVISED_PER_KILLED_ADD):
            self.stats.error(f"kill {number}: {revised} of {REVISED_PER_KILLED_ADD} revisions")

    def state(self) -> tuple[int, dict[str, list[str]]]:
        """The article count and the ids of a few probe queries, from a fresh engine."""
        try:
            engine = SearchEngine(self.index_dir)
            found = {q: [hit.id for hit in engine.search(q, sort="newest").hits] for q in PROBES}
            return engine.document_count(), found
        except Exception as error:  # an index that fails to open is the worst finding
            self.stats.error(f"the index does not open: {error!r}")
            return -1, {}

    def check_orphans(self, number: int, workers: set[int]) -> None:
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        orphans = sorted(pid for pid in workers if alive(pid))
        if orphans:
            self.stats.error(f"kill {number}: worker processes {orphans} outlived their writer")
            for pid in orphans:  # ours: started by the killed writer
                os.kill(pid, signal.SIGKILL)

    def check_lock_is_free(self, number: int) -> None:
        started = time.monotonic()
        try:
            with write_lock(self.index_dir, timeout=10.0):
                pass
        except Exception as error:
            self.stats.error(f"kill {number}: the lock was not released: {error}")
            return
        if time.monotonic() - started > 1.0:
            self.stats.error(
                f"kill {number}: waited {time.monotonic() - started:.1f} s for the lock"
            )

    def run(self) -> dict[str, Any]:
        self.build()
        port = self.serve()
        words = [w for r in self.records[::7] for w in r["title"].split() if len(w) > 3][:2000]
        ids = [r["id"] for r in self.records[::3]]
        stop, stop_memory = threading.Event(), threading.Event()
        clients = [
            threading.Thread(
                target=client,
                args=(port, self.args.seed + n, words, ids, self.stats, stop),
                daemon=True,
            )
            for n in range(self.args.clients)
        ]
        memory = threading.Thread(target=self.watch_memory, args=(stop_memory,), daemon=True)
        memory.start()
        time.sleep(1.5)  # the first memory figure: the server started, not yet queried
        self.warm_up(port, words, ids)
        for thread in clients:
            thread.start()
        try:
            print(
                f"phase updates: {self.args.seconds} s of queries while updates commit", flush=True
            )
            phase_started = time.monotonic()
            self.updates(phase_started + self.args.seconds)
            while time.monotonic() < phase_started + self.args.seconds:
                time.sleep(0.5)
            self.updates_seconds = time.monotonic() - phase_started
            print(
                f"phase kills: {self.args.kills} killed writers while the queries go on", flush=True
            )
            self.stats.phase = "kills"
            phase_started = time.monotonic()
            self.kill_writers()
            self.kills_seconds = time.monotonic() - phase_started
        finally:
            stop.set()
            for thread in clients:
                thread.join(timeout=120)
            stop_memory.set()
            memory.join(timeout=10)
            self.final_checks()
            self.stop_server()
        return self.summary()

    def warm_up(self, port: int, words: list[str], ids: list[str]) -> None:
        """A few requests of each kind before measuring: the first ones load caches."""
        started = time.monotonic()
        connection = http.client.HTTPConnection(HOST, port, timeout=120)
        generator = requests(random.Random(0), words, ids)
        for _ in range(50):
            kind, path = next(generator)
            connection.request("GET", path)
            response = connection.getresponse()
            problem = check_answer(kind, response.status, response.read())
            if problem:
                self.stats.error(f"warm-up: {problem}")
        connection.close()
        self.warm_up_seconds = time.monotonic() - started
        assert self.server is not None
        self.warm_rss = rss_mb(self.server.pid)

    def final_checks(self) -> None:
        count, _ = self.state()
        if count != self.count:
            self.stats.error(f"at the end: {count} articles, expected {self.count}")

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.send_signal(signal.SIGINT)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)

    def summary(self) -> dict[str, Any]:
        every = self.stats.latencies["updates"] + self.stats.latencies["kills"]
        memory = [mb for _, mb in self.memory]
        quarter = max(1, len(memory) // 4)
        return {
            "command": "python bench/soak.py " + " ".join(sys.argv[1:]),
            "machine": f"{os.cpu_count()} cores (nproc), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}, load average at the end "
            f"{os.getloadavg()[0]:.1f}",
            "articles": self.count,
            "build_seconds": round(self.build_seconds),
            "errors": len(self.stats.errors),
            "first_errors": self.stats.errors[:10],
            "queries": {phase: len(values) for phase, values in self.stats.latencies.items()},
            "seconds": {"updates": round(self.updates_seconds), "kills": round(self.kills_seconds)},
            "queries_per_second": round(
                len(every) / (self.updates_seconds + self.kills_seconds), 1
            ),
            "latency_ms": {
                phase: percentiles(values)
                for phase, values in {**self.stats.latencies, "all": every}.items()
            },
            "commits_during_queries": self.commits,
            "killed": self.kills,
            "warm_up": {"requests": 50, "seconds": round(self.warm_up_seconds, 1)},
            "rss_mb": {
                "start": round(memory[0]),
                "after warm-up": round(self.warm_rss),
                "after 25%": round(memory[quarter]),
                "after 50%": round(memory[2 * quarter]),
                "after 75%": round(memory[3 * quarter]),
                "end": round(memory[-1]),
                "max": round(max(memory)),
            }
            if memory
            else {},
        }


def percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {}
    cuts = statistics.quantiles(values, n=100)
    return {
        "p50": round(cuts[49] * 1000, 1),
        "p99": round(cuts[98] * 1000, 1),
        "max": round(max(values) * 1000, 1),
    }


def write_results(summary: dict[str, Any]) -> None:
    """Replace (or add) the "## Soak" section of bench/RESULTS.md, leaving the others."""
    latency = summary["latency_ms"]
    rss = summary["rss_mb"]
    lines = [
        "## Soak",
        "",
        f"    {summary['command']}",
        "",
        f"Machine: {summary['machine']}. Index: the bundled sample corpus, "
        f"{summary['articles']} articles at the end (built in {summary['build_seconds']} s). "
        "The server is `kiosque serve` (waitress) on 127.0.0.1; the clients are threads of "
        "the soak script querying without pause (search, suggest, articles, search page).",
        "",
        "| figure | value |",
        "|---|---|",
        f"| errors (non-2xx, wrong shape, failed checks) | **{summary['errors']}** |",
        f"| queries served, during updates / during kills | {summary['queries']['updates']:,} "
        f"in {summary['seconds']['updates']} s / {summary['queries']['kills']:,} in "
        f"{summary['seconds']['kills']} s ({summary['queries_per_second']}/s) |",
        f"| latency p50 / p99, during updates | {latency['updates'].get('p50')} ms / "
        f"{latency['updates'].get('p99')} ms |",
        f"| latency p50 / p99, during kills | {latency['kills'].get('p50')} ms / "
        f"{latency['kills'].get('p99')} ms |",
        f"| latency p50 / p99 / max, all | {latency['all'].get('p50')} ms / "
        f"{latency['all'].get('p99')} ms / {latency['all'].get('max')} ms |",
        f"| commits (`kiosque index add`) during the queries | "
        f"{summary['commits_during_queries']} |",
        f"| writers SIGKILLed (build / add), finished before the kill | "
        f"{summary['killed']['build']} / {summary['killed']['add']}, "
        f"{summary['killed']['finished before the kill']} |",
        f"| server RSS: started, after 50 warm-up requests, then at 25%, 50%, 75% and the end "
        f"of the run (max) | {rss.get('start')}, {rss.get('after warm-up')}, "
        f"{rss.get('after 25%')}, {rss.get('after 50%')}, {rss.get('after 75%')}, "
        f"{rss.get('end')} MB ({rss.get('max')} MB) |",
        "",
    ]
    section = "\n".join(lines)
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    start = text.find("\n## Soak\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[: start + 1] + section + (text[end:] if end != -1 else "")
    RESULTS.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=90.0,
        help="length of the phase of queries during updates (at least 60)",
    )
    parser.add_argument("--kills", type=int, default=50, help="writers to SIGKILL")
    parser.add_argument("--clients", type=int, default=6, help="client threads")
    parser.add_argument("--threads", type=int, default=8, help="server threads")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument(
        "--build-kill-window",
        type=float,
        default=20.0,
        help="a build is killed up to this many seconds after taking the lock",
    )
    parser.add_argument(
        "--add-kill-window",
        type=float,
        default=15.0,
        help="an add is killed up to this many seconds after taking the lock",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--articles",
        type=int,
        default=0,
        help="index only the first N articles (a quick trial; default: all)",
    )
    parser.add_argument(
        "--write-results",
        action="store_true",
        help='write the figures in the "## Soak" section of bench/RESULTS.md',
    )
    args = parser.parse_args()
    if not Path("/proc/self/status").exists():
        raise SystemExit("the soak reads /proc (Linux) for memory and worker processes")
    summary = Soak(args).run()
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    if args.write_results:
        write_results(summary)
    sys.exit(1 if summary["errors"] else 0)


if __name__ == "__main__":
    main()
