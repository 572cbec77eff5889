"""One writer at a time per index directory.

An advisory ``flock`` on ``index_dir/write.lock``: the kernel releases it
when its process dies, so a lock left by a killed build never blocks the
next one. A second writer waits up to a timeout, then fails with a message
that says who to wait for.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "write.lock"
DEFAULT_TIMEOUT = 30.0
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class IndexBusy(Exception):
    """Another process is writing to the same index."""


@contextmanager
def write_lock(index_dir: Path, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Hold the index's write lock; raises IndexBusy after ``timeout`` seconds of waiting."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK_FILE
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(handle, path, timeout)
        os.ftruncate(handle, 0)
        os.write(handle, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(handle)  # closing releases the lock


def _acquire(handle: int, path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = _holder(path)
                raise IndexBusy(
                    f"another process{holder} is writing to {path.parent}; "
                    f"waited {timeout:g} s. Try again when it has finished."
                ) from None
            time.sleep(0.05)


def _holder(path: Path) -> str:
    try:
        pid = path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""


def exit_with_parent(parent: int) -> None:
    """Make this forked worker process end when ``parent`` ends, even by SIGKILL.

    A pool worker orphaned by a killed build would otherwise wait forever,
    holding its inherited copy of the write lock (and Whoosh's lock): the
    kernel releases a lock only when its last descriptor is closed. Linux
    kills the worker with its parent; elsewhere a thread watches the parent.
    """
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before prctl
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)
