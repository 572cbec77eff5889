"""HTTP load: ``GET /api/search`` under 8, 32 and 64 connections, beside a trivial endpoint.

Starts ``kiosque serve`` on loopback (waitress, ``--threads``), then runs wrk
(Debian: ``apt-get install -y wrk``) for ``--seconds`` per level against
``/api/search?q=...`` (cycling through ``bench/queries.txt``) and against
``/api/health`` (a one-line JSON answer of the same Flask + waitress stack:
the ceiling), in the same run. Prints requests/s, latency p50/p99 and errors.

    python -m bench.http_load --index-dir bench/out/idx-kiosque-corpus-2000 --seconds 10
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.corpus import ROOT
from bench.queries import load_queries

LEVELS = (8, 32, 64)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(index_dir: Path, port: int, threads: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "web.cli", "serve", "--index-dir", str(index_dir),
               "--port", str(port), "--threads", str(threads)]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2).read()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
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
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency",
               "--timeout", "10s", url]  # fmt: skip
    if script:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct in ("50", "99"):
        result[f"p{pct}"] = _ms(re.search(rf"\s{pct}(?:\.000)?%\s+(\S+)", out).group(1))
    errors = 0
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(found.group(1))
    socket_errors = r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
    if found := re.search(socket_errors, out):
        errors += sum(map(int, found.groups()))
    result["errors"] = errors
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    args = parser.parse_args()
    from bench.indexing import machine

    port = free_port()
    server = start_server(args.index_dir, port, args.threads)
    paths = [f"/api/search?q={urllib.parse.quote(q)}" for _, _, q in load_queries()]
    script = lua_script(paths)
    print(f"machine: {machine()}\nindex: {args.index_dir}, waitress threads {args.threads}")
    print("| endpoint | connections | req/s | p50 ms | p99 ms | errors | search / trivial |")
    print("|---|---|---|---|---|---|---|")
    try:
        for level in LEVELS:
            trivial = wrk(f"http://127.0.0.1:{port}/api/health", level, args.seconds, None)
            search = wrk(f"http://127.0.0.1:{port}/", level, args.seconds, script)
            for name, r in (("/api/health", trivial), ("/api/search", search)):
                ratio = f"{search['rps'] / trivial['rps']:.2f}" if name == "/api/search" else ""
                print(f"| {name} | {level} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} "
                      f"| {r['errors']} | {ratio} |", flush=True)  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=10)
        script.unlink()


if __name__ == "__main__":
    main()
