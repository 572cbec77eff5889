"""HTTP load: ``GET /api/search`` at 8, 32 and 64 connections, beside a trivial endpoint,
with the result cache and without it.

Starts, all at once on loopback, one ``kiosque serve`` per ``--workers``
value (1, 2...: server processes sharing the port; ``--threads`` each) and
per ``--cache`` setting: ``on`` is the default result cache (``--cache-size``
entries a process), ``off`` is ``--cache-size 0``. Warms each up (a cached one
until each of its processes has answered every query once), then for each
connection level and each worker count in turn runs wrk (Debian:
``apt-get install -y wrk``) for ``--seconds`` against ``/api/health`` (a
one-line JSON answer of the same Flask + waitress stack: the ceiling), then
against ``/api/search?q=...`` of each cache setting (cycling through the 540
queries of ``bench/queries.txt``: with the cache on, every query is a hit
once it has been asked, which is the best case for a cache; the ``off`` rows
are the worst case, every request computed). Interleaving keeps the
comparison fair on a shared machine. Prints requests/s, latency p50/p99,
errors, the search / trivial ratio (against the trivial run of the same
worker count at the same level), the 1-minute load average just before each
wrk run, and for the cached rows the hit rate of the run (from
``/api/stats`` of each worker process); then each server's memory (PSS of the
process tree).

    python -m bench.http_load --index-dir bench/out/idx-kiosque-corpus-2000 --seconds 10
    python -m bench.http_load --index-dir /work/idx29k --workers 1,2,4 --seconds 30
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.corpus import ROOT
from bench.queries import load_queries

LEVELS = (8, 32, 64)
START_SECONDS = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """One ``kiosque serve`` under test."""

    workers: int
    cache: str  # "on" or "off"
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(index_dir: Path, threads: int, workers: int, cache: str,
                 cache_size: int) -> Server:  # fmt: skip
    """``kiosque serve --workers N`` on a free port; returns once /api/health answers."""
    port = free_port()
    command = [sys.executable, "-m", "web.cli", "serve", "--index-dir", str(index_dir),
               "--port", str(port), "--threads", str(threads), "--workers", str(workers),
               "--cache-size", str(cache_size if cache == "on" else 0)]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    server = Server(workers, cache, port, process)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server ({workers} workers) exited: {process.returncode}")
        try:
            urllib.request.urlopen(f"{server.url}/api/health", timeout=2).read()
            return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError("the server did not start")


def lua_script(paths: list[str]) -> Path:
    quoted = ",\n".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    script = f"""
paths = {{{quoted}}}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
"""
    handle = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    handle.write(script)
    handle.close()
    return Path(handle.name)


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, connections: int, seconds: int, script: Path | None) -> dict[str, float]:
    """One wrk run: requests/s, p50 and p99 in ms, errors (non-2xx, socket errors, timeouts
    of ``--timeout``), and the load average just before."""
    load = os.getloadavg()[0]
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency",
               "--timeout", "10s", url]  # fmt: skip
    if script:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "load": load}
    for pct in ("50", "99"):
        result[f"p{pct}"] = _ms(re.search(rf"\s{pct}(?:\.000)?%\s+(\S+)", out).group(1))
    result["non2xx"] = result["socket"] = result["timeouts"] = 0
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        result["non2xx"] = int(found.group(1))
    socket_errors = r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
    if found := re.search(socket_errors, out):
        *others, timeouts = map(int, found.groups())
        result["socket"], result["timeouts"] = sum(others), timeouts
    result["errors"] = result["non2xx"] + result["socket"] + result["timeouts"]
    return result


def cache_counts(server: Server, polls: int = 40) -> dict[int, tuple[int, int, int]]:
    """(hits, misses, coalesced) of the result cache of each worker process, by pid, from
    ``/api/stats`` (answered by whichever process takes the connection: polled
    until every worker has answered, or ``polls`` times)."""
    found: dict[int, tuple[int, int, int]] = {}
    for _ in range(polls):
        with urllib.request.urlopen(f"{server.url}/api/stats", timeout=10) as response:
            body = json.load(response)
        cache = body["cache"]
        found[body["pid"]] = (cache["hits"], cache["misses"], cache["coalesced"])
        if len(found) >= server.workers:
            break
    return found


def hit_rate(before: dict[int, tuple[int, int, int]],
             after: dict[int, tuple[int, int, int]]) -> str:  # fmt: skip
    """Hits over lookups between two ``cache_counts`` (workers seen both times), and the
    share of lookups that waited for the same request computed by another thread."""
    hits, misses, coalesced = (sum(after[pid][i] - before[pid][i] for pid in after if pid in before)
                               for i in range(3))  # fmt: skip
    lookups = hits + misses + coalesced
    return f"{hits / lookups:.1%} (+{coalesced / lookups:.1%} coalesced)" if lookups else "?"


def warm_up(server: Server, connections: int, seconds: int, script: Path, queries: int) -> None:
    """``seconds`` of search, then, with the cache on, more (``seconds`` at a time, at most
    START_SECONDS in all) until each worker process holds every query in its cache: a
    process meets each query once before it can hit, so without this the first rows of a
    loaded machine measured misses, not the repeated workload the cached rows stand for."""
    wrk(server.url + "/", connections, seconds, script)
    deadline = time.monotonic() + START_SECONDS
    while server.cache == "on" and time.monotonic() < deadline:
        entries = cache_entries(server)
        if len(entries) >= server.workers and min(entries.values()) >= queries:
            return
        wrk(server.url + "/", connections, seconds, script)


def cache_entries(server: Server, polls: int = 40) -> dict[int, int]:
    """Entries of the result cache of each worker process, by pid (as ``cache_counts``)."""
    found: dict[int, int] = {}
    for _ in range(polls):
        with urllib.request.urlopen(f"{server.url}/api/stats", timeout=10) as response:
            body = json.load(response)
        found[body["pid"]] = body["cache"]["entries"]
        if len(found) >= server.workers:
            break
    return found


def tree_memory_mb(pid: int) -> float:
    """PSS of a process and its children, in MB (needs psutil)."""
    from bench.indexing import _tree_rss

    return _tree_rss(pid) / 1e6


def row(server: Server, level: int, name: str, r: dict[str, float], ratio: str,
        hits: str = "") -> str:  # fmt: skip
    errors = f"{r['errors']}" if not r["errors"] else (
        f"{r['errors']} ({r['non2xx']} non-2xx, {r['socket']} socket, {r['timeouts']} timeouts)")
    return (f"| {server.workers} | {level} | {name} | {r['rps']:.1f} | {r['p50']:.1f} "
            f"| {r['p99']:.1f} | {errors} | {ratio} | {hits} | {r['load']:.1f} |")  # fmt: skip


def measure_level(group: list[Server], level: int, seconds: int, script: Path) -> None:
    """At one connection level: the trivial endpoint, then search on each cache setting."""
    trivial = wrk(group[0].url + "/api/health", level, seconds, None)
    print(row(group[0], level, "/api/health", trivial, ""), flush=True)
    for server in group:
        before = cache_counts(server) if server.cache == "on" else {}
        search = wrk(server.url + "/", level, seconds, script)
        hits = hit_rate(before, cache_counts(server)) if server.cache == "on" else ""
        print(row(server, level, f"/api/search, cache {server.cache}", search,
                  f"{search['rps'] / trivial['rps']:.3f}", hits), flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--seconds", type=int, default=30, help="per wrk run")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads per process")
    parser.add_argument("--workers", default="1,2", help="server processes, comma-separated")
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="connections")
    parser.add_argument("--warmup", type=int, default=15,
                        help="seconds of search per server (cache on: repeated until each "
                        "worker process has cached every query)")
    parser.add_argument("--cache", default="on,off",
                        help="result cache settings to compare: on (--cache-size), off (0)")
    parser.add_argument("--cache-size", type=int, default=1024, help="entries, when on")
    args = parser.parse_args()
    from bench.indexing import machine

    workers = [int(n) for n in args.workers.split(",")]
    caches = [c.strip() for c in args.cache.split(",") if c.strip() in ("on", "off")]
    levels = [int(n) for n in args.levels.split(",")]
    queries = [q for _, _, q in load_queries()]
    paths = [f"/api/search?q={urllib.parse.quote(q)}" for q in queries]
    script = lua_script(paths)
    print(f"machine: {machine()}\nindex: {args.index_dir}, waitress threads {args.threads}, "
          f"{args.seconds} s per run, {len(paths)} queries, cache {'/'.join(caches)} "
          f"(on: {args.cache_size} entries)", flush=True)  # fmt: skip
    groups: list[list[Server]] = []
    try:
        for count in workers:
            groups.append([start_server(args.index_dir, args.threads, count, cache,
                                        args.cache_size) for cache in caches])  # fmt: skip
        distinct = min(len({q.strip() for q in queries}), args.cache_size)  # cache keys
        for server in (server for group in groups for server in group):
            warm_up(server, max(levels), args.warmup, script, distinct)
        print("| workers | connections | endpoint | req/s | p50 ms | p99 ms | errors "
              "| search / trivial | cache hits | load |\n"
              "|---|---|---|---|---|---|---|---|---|---|", flush=True)
        for level in levels:
            for group in groups:
                measure_level(group, level, args.seconds, script)
        for server in (server for group in groups for server in group):
            print(f"memory, {server.workers} worker(s), cache {server.cache}: "
                  f"{tree_memory_mb(server.process.pid):.0f} MB PSS", flush=True)
    finally:
        for server in (server for group in groups for server in group):
            server.stop()
        script.unlink()


if __name__ == "__main__":
    main()
