"""Several server processes on one listening socket: ``kiosque serve --workers N``.

Waitress serves with threads, and a search is CPU-bound Python: one process
uses one core at a time (the GIL). The parent binds the socket, then forks N
workers; each builds its own app and SearchEngine (each refreshes its
searchers when a commit lands, as one process does) and runs waitress on the
inherited socket, where the kernel hands each new connection to one of them.

The parent only supervises: a worker that dies is logged and replaced (with a
growing delay while workers keep dying at once); SIGTERM or SIGINT stops all
workers (SIGTERM, then SIGKILL after ``STOP_SECONDS``); a worker whose parent
is gone, even SIGKILLed, stops too (``PR_SET_PDEATHSIG`` on Linux, else a
thread polling ``getppid``). POSIX only (``os.fork``).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import NoReturn

from waitress.adjustments import Adjustments

from .serve import WSGIApp, ensure_log_handler, make_server, preload

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
STOP_SECONDS = 10.0
POLL_SECONDS = 0.1
QUICK_DEATH_SECONDS = 5.0  # a worker dying younger than this delays the next start
MAX_RESTART_DELAY = 10.0
PR_SET_PDEATHSIG = 1

log = logging.getLogger("kiosque.workers")


def can_fork() -> bool:
    """Whether this platform can run several workers."""
    return hasattr(os, "fork")


def bind(host: str, port: int, backlog: int = Adjustments.backlog) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port), as waitress binds it."""
    family, _, _, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    return socket.create_server(address, family=family, backlog=backlog)


def run_workers(make_app: Callable[[], WSGIApp], host: str, port: int, threads: int,
                workers: int) -> None:
    """Serve ``make_app()`` from ``workers`` processes sharing one socket until SIGTERM/SIGINT.

    ``make_app`` is called in each worker, after the fork; what ``preload``
    loads is loaded before, once. Raises OSError when the address cannot be bound.
    """
    ensure_log_handler(with_pid=True)
    preload()  # once, shared by the workers
    sock = bind(host, port)
    try:
        bound_host, bound_port = sock.getsockname()[:2]
        logging.getLogger("kiosque").info(
            "serving on http://%s:%s with %d workers", bound_host, bound_port, workers
        )
        parent = os.getpid()
        Supervisor(lambda: serve_worker(sock, make_app, threads, parent), workers).run()
    finally:
        sock.close()


# -- the parent ------------------------------------------------------------------------------


@dataclass
class Supervisor:
    """Keeps ``workers`` children running ``target`` (which must not return) until told to stop."""

    target: Callable[[], NoReturn]
    workers: int
    children: dict[int, float] = field(default_factory=dict)  # pid -> start time
    stopping: bool = False
    restart_delay: float = 0.0
    restart_at: float = 0.0

    def run(self) -> None:
        """Start the workers, replace those that die, stop them all on SIGTERM or SIGINT."""
        previous = {sig: signal.signal(sig, self._stop) for sig in STOP_SIGNALS}
        try:
            while not self.stopping:
                self._reap()
                if len(self.children) < self.workers and time.monotonic() >= self.restart_at:
                    self._spawn()
                    continue
                time.sleep(POLL_SECONDS)
        finally:
            self._stop_children()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _spawn(self) -> None:
        # Stop signals are blocked across the fork so that the child installs its own
        # handlers before any can reach it; the parent's pending ones arrive after.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:
                self._become_worker()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        self.children[pid] = time.monotonic()
        log.info("worker %d started", pid)

    def _become_worker(self) -> NoReturn:
        """In the child: never return into the parent's loop, even on an early SIGTERM."""
        try:
            self.children.clear()
            for sig in STOP_SIGNALS:
                signal.signal(sig, _exit_worker)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # may raise SystemExit
            self.target()
        finally:
            os._exit(0)

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: nothing left to wait for
                self.children.clear()
                return
            if pid == 0:
                return
            started = self.children.pop(pid, None)
            if started is None or self.stopping:
                continue
            self._schedule_restart(time.monotonic() - started)
            log.warning("worker %d %s; starting another%s", pid, describe_exit(status),
                        f" in {self.restart_delay:.1f} s" if self.restart_delay else "")

    def _schedule_restart(self, lifetime: float) -> None:
        """Restart at once after a worker that had been serving; back off while they die young."""
        if lifetime >= QUICK_DEATH_SECONDS:
            self.restart_delay = 0.0
        else:
            self.restart_delay = min(max(0.5, self.restart_delay * 2), MAX_RESTART_DELAY)
        self.restart_at = time.monotonic() + self.restart_delay

    def _stop_children(self) -> None:
        """SIGTERM every worker, wait up to STOP_SECONDS, then SIGKILL the rest; reap all."""
        if self.children:
            log.info("stopping %d worker(s)", len(self.children))
        for pid in list(self.children):
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(POLL_SECONDS / 2)
        for pid in list(self.children):
            log.warning("worker %d did not stop in %.0f s: killed", pid, STOP_SECONDS)
            _signal(pid, signal.SIGKILL)
        for pid in list(self.children):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            self.children.pop(pid, None)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def describe_exit(status: int) -> str:
    """``exited with status 3`` or ``was killed by SIGKILL``, from a ``waitpid`` status."""
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"


# -- a worker --------------------------------------------------------------------------------


def serve_worker(sock: socket.socket, make_app: Callable[[], WSGIApp], threads: int,
                 parent: int) -> NoReturn:  # fmt: skip
    """In a forked child: serve ``make_app()`` on ``sock`` until SIGTERM/SIGINT or ``parent`` dies.

    Never returns: exits with status 0 when stopped, 1 when the app failed.
    """
    status = 1
    try:
        die_with_parent(parent)
        server = make_server(make_app(), threads=threads, sockets=[sock])
        try:
            server.run()  # returns after SystemExit/KeyboardInterrupt, its threads stopped
        finally:
            server.close()
        status = 0
    except (SystemExit, KeyboardInterrupt):
        status = 0
    except BaseException:
        log.exception("worker %d failed", os.getpid())
    finally:
        logging.shutdown()
        os._exit(status)  # never run the parent's atexit handlers or click's cleanup


def _exit_worker(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def die_with_parent(parent: int) -> None:
    """Get SIGTERM when ``parent`` is gone, even if it was SIGKILLed.

    Linux: ``prctl(PR_SET_PDEATHSIG)``; elsewhere a daemon thread polls ``getppid``.
    """
    if not _set_parent_death_signal(signal.SIGTERM):
        threading.Thread(target=_watch_parent, args=(parent,), name="kiosque-parent-watch",
                         daemon=True).start()
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _set_parent_death_signal(sig: int) -> bool:
    """``prctl(PR_SET_PDEATHSIG, sig)`` through the C library; False where there is none."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux
        return False
    return prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)
