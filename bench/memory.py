"""Memory of one serving process under a steady load: does its RSS stay low and level?

    python -m bench.memory [--index-dir DIR] [--minutes 10] [--clients 6] [--threads 8]
                           [--workers 1] [--cache-size N]

1. Uses the index in ``--index-dir`` (default ``bench/out/idx-memory-corpus-27940``),
   building it first with ``kiosque index build CORPUS`` when it has no
   ``CURRENT`` (``--corpus``, default ``bench/out/corpus-27940.jsonl.gz``, made
   by ``python -m bench.corpus``).
2. Starts ``python -m web.cli serve --workers 1`` (one serving process: what
   the target is about; ``--workers``) on a free port of 127.0.0.1, with
   the default result cache unless ``--cache-size`` says otherwise.
3. ``--clients`` threads query it without pause, cycling through
   ``bench/queries.txt``: the search API, the search page, suggestions of a
   word's first letters, and article pages of ids the searches returned;
   the first pass through the queries asks for page 1 of the results, the
   second for page 2, and so on up to ``--pages`` (so that a result cache
   keeps meeting new requests, fills to its bound and evicts, as in a long
   life, instead of answering everything after one pass).
4. After ``--warm-up`` requests, runs ``--minutes``, sampling the server's RSS
   (psutil; its child processes included, if any) every ``--every`` seconds.
5. Prints a Markdown table: RSS at start, after the warm-up, at 25/50/75/100%
   of the run, the maximum, and the slope over the second half (MB a minute,
   least squares) so that "level" is judged by a number; then requests
   served and errors (any non-200 answer or failed request), the result
   cache's figures (``/api/stats``), and a verdict: **level** when the slope
   of the second half is within its noise (at most two standard errors
   above 0) or under ``LEVEL_MB_PER_MINUTE``, else **growing**; beside it,
   the maximum RSS of each half.

Run on demand, never as a test. Note the load average it prints: memory
figures are little affected by load, request counts are.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import psutil

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "bench" / "out"
QUERIES = ROOT / "bench" / "queries.txt"
HOST = "127.0.0.1"
KINDS = ("search", "page", "suggest", "article")
LEVEL_MB_PER_MINUTE = 0.1  # 6 MB an hour: below this a slope is "level" whatever its noise


@dataclass
class Load:
    """What the clients did, shared between their threads."""

    served: int = 0
    errors: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def done(self, problem: str | None, ids: list[str]) -> None:
        with self.lock:
            self.served += 1
            if problem:
                self.errors.append(problem)
            if ids and len(self.ids) < 5000:
                self.ids.extend(ids)


def rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants, in MB."""
    process = psutil.Process(pid)
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def rss_split_mb(pid: int) -> tuple[float, float]:
    """(anonymous, file-backed) RSS of a process and its descendants, in MB: the heap, which
    is the process's own, and mapped files (the index through mmap, libraries), which are
    the kernel's page cache, shared between processes and reclaimable."""
    process = psutil.Process(pid)
    anonymous = mapped = 0
    for proc in [process, *process.children(recursive=True)]:
        try:
            info = proc.memory_info()
        except psutil.NoSuchProcess:
            continue
        anonymous += info.rss - info.shared
        mapped += info.shared
    return anonymous / 2**20, mapped / 2**20


def kiosque_env() -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return {**os.environ, "PYTHONPATH": path}


def ensure_index(index_dir: Path, corpus: Path) -> None:
    """Build ``index_dir`` from ``corpus`` unless it already holds an index."""
    if (index_dir / "CURRENT").exists():
        return
    if not corpus.exists():
        raise SystemExit(f"no index in {index_dir} and no corpus {corpus}: "
                         "make it with python -m bench.corpus")
    print(f"building {index_dir} from {corpus} (tens of minutes)...", flush=True)
    command = [sys.executable, "-m", "web.cli", "index", "build", str(corpus),
               "--index-dir", str(index_dir)]
    if subprocess.run(command, env=kiosque_env(), check=False).returncode not in (0, 1):
        raise SystemExit("the build failed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(index_dir: Path, port: int, threads: int, workers: int,
                 cache_size: int | None) -> subprocess.Popen[bytes]:  # fmt: skip
    command = [sys.executable, "-m", "web.cli", "serve", "--host", HOST, "--port", str(port),
               "--threads", str(threads), "--workers", str(workers),
               "--index-dir", str(index_dir)]  # fmt: skip
    if cache_size is not None:
        command += ["--cache-size", str(cache_size)]
    server = subprocess.Popen(command, env=kiosque_env(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with status {server.returncode}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            connection.request("GET", "/api/health")
            if connection.getresponse().status == 200:
                connection.close()
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not answer /api/health within 120 s")


def path_for(kind: str, query: str, load: Load, turn: int, page: int) -> str:
    if kind == "search":
        return "/api/search?" + urlencode({"q": query, "page": page})
    if kind == "page":
        return "/?" + urlencode({"q": query, "page": page})
    if kind == "suggest":
        word = query.split()[0] if query.split() else query
        return "/api/suggest?" + urlencode({"q": word[: 2 + turn % 5]})
    with load.lock:
        doc_id = load.ids[turn % len(load.ids)] if load.ids else ""
    if not doc_id:
        return "/api/search?" + urlencode({"q": query})
    return "/articles/" + quote(doc_id, safe="")


def client(port: int, queries: list[str], offset: int, load: Load, stop: threading.Event,
           pages: int) -> None:  # fmt: skip
    """Ask without pause, cycling through the queries and the kinds of request, a new page
    of results on each pass."""
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    for turn in itertools.count(offset):
        if stop.is_set():
            break
        kind = KINDS[turn % len(KINDS)]
        page = 1 + (turn // len(queries)) % pages
        path = path_for(kind, queries[turn % len(queries)], load, turn, page)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            load.done(f"{path[:80]}: {error!r}", [])
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=120)
            continue
        problem = None if response.status == 200 else f"{path[:80]}: status {response.status}"
        ids = []
        if response.status == 200 and path.startswith("/api/search"):
            ids = [hit["id"] for hit in json.loads(data)["hits"]]
        load.done(problem, ids)
    connection.close()


def slope_mb_per_minute(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB a minute."""
    if len(samples) < 2:
        return 0.0
    mean_t = sum(t for t, _ in samples) / len(samples)
    mean_m = sum(m for _, m in samples) / len(samples)
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    cov = sum((t - mean_t) * (m - mean_m) for t, m in samples)
    return 60 * cov / var if var else 0.0


def slope_noise_mb_per_minute(samples: list[tuple[float, float]]) -> float:
    """Standard error of the least-squares slope, in MB a minute (samples are
    autocorrelated, so this is a lower bound of the true noise: read it as a scale)."""
    if len(samples) < 3:
        return 0.0
    mean_t = sum(t for t, _ in samples) / len(samples)
    mean_m = sum(m for _, m in samples) / len(samples)
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if not var:
        return 0.0
    slope = sum((t - mean_t) * (m - mean_m) for t, m in samples) / var
    residuals = sum((m - mean_m - slope * (t - mean_t)) ** 2 for t, m in samples)
    return 60 * (residuals / (len(samples) - 2) / var) ** 0.5


def verdict(samples: list[tuple[float, float]]) -> str:
    """"level" or "growing", with the second half's slope, its noise and each half's maximum."""
    seconds = samples[-1][0]
    first = [mb for t, mb in samples if t < seconds / 2]
    second_half = [(t, mb) for t, mb in samples if t >= seconds / 2]
    slope = slope_mb_per_minute(second_half)
    noise = slope_noise_mb_per_minute(second_half)
    level = slope <= 2 * noise or slope < LEVEL_MB_PER_MINUTE
    marks = [at_fraction(samples, seconds * q / 4) for q in range(5)]
    quarters = ", ".join(f"{marks[q + 1] - marks[q]:+.0f}" for q in range(4))
    return (f"**{'level' if level else 'growing'}**: second-half slope {slope:+.2f} MB/min, "
            f"standard error {noise:.2f} (level when at most 2 s.e. above 0, or under "
            f"{LEVEL_MB_PER_MINUTE} MB/min); max RSS {max(first or [0]):.0f} MB in the first "
            f"half, {max(mb for _, mb in second_half):.0f} MB in the second; RSS change by "
            f"quarter of the run: {quarters} MB")


def cache_figures(port: int) -> str:
    """The server's result cache, from /api/stats, as one line."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", "/api/stats")
        cache = json.loads(connection.getresponse().read())["cache"]
    except (OSError, ValueError, KeyError) as error:
        return f"unavailable ({error!r})"
    finally:
        connection.close()
    return (f"{cache['entries']} entries of {cache['max_entries']}, "
            f"{cache['bytes'] / 2**20:.1f} MB of {cache['max_bytes'] / 2**20:.0f}, "
            f"hit rate {cache['hit_rate']:.1%} ({cache['hits']:,} hits, {cache['misses']:,} "
            f"misses, {cache['coalesced']:,} coalesced), {cache['evictions']:,} evictions")


def at_fraction(samples: list[tuple[float, float]], seconds: float) -> float:
    """The last sample taken at or before ``seconds`` into the run."""
    before = [mb for t, mb in samples if t <= seconds]
    return before[-1] if before else samples[0][1]


def run(args: argparse.Namespace) -> str:
    lines = QUERIES.read_text("utf-8").splitlines()
    queries = [line.split("\t")[-1] for line in lines if line.strip() and line[0] != "#"]
    ensure_index(args.index_dir, args.corpus)
    load_start = os.getloadavg()
    server = start_server(args.index_dir, args.port or free_port(), args.threads,
                          args.workers, args.cache_size)
    port = int(server.args[server.args.index("--port") + 1])  # type: ignore[union-attr]
    load, stop = Load(), threading.Event()
    clients: list[threading.Thread] = []
    try:
        started_rss = rss_mb(server.pid)
        clients = [threading.Thread(target=client, daemon=True,
                                    args=(port, queries, i * 37, load, stop, args.pages))
                   for i in range(args.clients)]
        for thread in clients:
            thread.start()
        while load.served < args.warm_up:
            time.sleep(0.1)
        warm_rss, warm_served = rss_mb(server.pid), load.served
        print(f"warm-up done: {warm_served} requests, RSS {warm_rss:.0f} MB", flush=True)
        samples: list[tuple[float, float]] = []
        begin, seconds = time.monotonic(), args.minutes * 60
        while (elapsed := time.monotonic() - begin) < seconds:
            samples.append((elapsed, rss_mb(server.pid)))
            time.sleep(min(args.every, max(0.0, seconds - elapsed)))
        samples.append((time.monotonic() - begin, rss_mb(server.pid)))
        split = rss_split_mb(server.pid)
        served = load.served - warm_served
        stop.set()
        cache = cache_figures(port)
        for thread in clients:  # let the requests in flight finish before the server stops
            thread.join(timeout=120)
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return report(args, samples, started_rss, warm_rss, served, load, load_start, cache, split)


def report(args: argparse.Namespace, samples: list[tuple[float, float]], started: float,
           warm: float, served: int, load: Load, load_start: tuple[float, ...],
           cache: str, split: tuple[float, float]) -> str:  # fmt: skip
    seconds = samples[-1][0]
    second_half = [(t, mb) for t, mb in samples if t >= seconds / 2]
    rows = [
        ("RSS at start (server answering /api/health)", f"{started:.0f} MB"),
        (f"RSS after the warm-up ({args.warm_up} requests)", f"{warm:.0f} MB"),
        *((f"RSS at {p}% of the run", f"{at_fraction(samples, seconds * p / 100):.0f} MB")
          for p in (25, 50, 75)),
        ("RSS at 100% of the run", f"{samples[-1][1]:.0f} MB"),
        ("of which anonymous (heap) / file-backed (index pages, libraries)",
         f"{split[0]:.0f} MB / {split[1]:.0f} MB"),
        ("RSS max", f"{max(mb for _, mb in samples):.0f} MB"),
        ("slope over the second half", f"{slope_mb_per_minute(second_half):+.2f} MB/min"),
        ("requests served during the run", f"{served:,} ({served / seconds:.1f}/s)"),
        ("errors (non-200 or failed requests, warm-up included)", str(len(load.errors))),
        ("result cache at the end", cache),
    ]
    load_end = os.getloadavg()
    lines = [
        f"Index: `{args.index_dir}`; {args.minutes:g} min after the warm-up, {args.clients} "
        f"clients, pages 1-{args.pages}, `kiosque serve --threads {args.threads} "
        f"--workers {args.workers}"
        f"{'' if args.cache_size is None else f' --cache-size {args.cache_size}'}`, "
        f"RSS sampled every {args.every:g} s "
        f"({len(samples)} samples).",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, load average "
        f"{load_start[0]:.1f} at start, {load_end[0]:.1f} at the end.",
        "",
        "| figure | value |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
        f"Verdict: {verdict(samples)}.",
    ]
    if load.errors:
        lines += ["", "First errors:", *(f"- {error}" for error in load.errors[:5])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index-dir", type=Path, default=OUT_DIR / "idx-memory-corpus-27940")
    parser.add_argument("--corpus", type=Path, default=OUT_DIR / "corpus-27940.jsonl.gz")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--pages", type=int, default=5, help="result pages asked in turn")
    parser.add_argument("--workers", type=int, default=1, help="server processes (RSS summed)")
    parser.add_argument("--cache-size", type=int, default=None,
                        help="result cache entries (default: the server's; 0: none)")
    parser.add_argument("--warm-up", type=int, default=50, help="requests before the run")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    print(run(parser.parse_args(argv)), flush=True)


if __name__ == "__main__":
    main()
