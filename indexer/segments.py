"""Worker processes that read, prepare and write their own segments of one new index.

Whoosh's commit costs a pickle, a zlib call and a table row per unique term
and a few calls per posting, all in pure Python: with a single writer, the
main process is the bottleneck of a build. :class:`SegmentWorkers` starts
``n`` worker processes (forked) that each own a
:class:`~indexer.postings.MemorySegmentWriter` on the same new index. The
main process sends a worker files to read and chunks of articles to
prepare; the worker keeps each prepared article and answers with its
:class:`~indexer.pipeline.Summary` only (id, url, fingerprint, story hash).
The main process decides duplicates and stories in input order and sends the
decisions back to the worker that holds the chunk, which builds the
documents and adds them to its segment: an article's postings never leave
the process that analyzed them. At the end every worker writes its segment
files (at the same time), and the main process publishes every segment in
one table of contents.

Unlike Whoosh's ``MpWriter`` (which, measured, commits normally after a child
failed and silently drops that child's batch), every failure surfaces: a
child that raises reports its traceback, a child that dies (killed, out of
memory) is noticed by its exit code, and the number of documents in each
worker's segments must equal the number decided for it. Any of these raises
:class:`SegmentWriteError` and nothing is published.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

from whoosh.index import Index

from search import whoosh_patches

from .locking import exit_with_parent
from .pipeline import Prepared, document, prepare_chunk
from .postings import MemorySegmentWriter
from .readers import Rejected

POLL_SECONDS = 1.0
FINISH_TIMEOUT = 3600.0
HELD_POSTINGS = 2_000_000  # a writer's postings in memory (~80 bytes each) before a new segment
# A worker's threads (its jobs, the results queue's feeder, a segment being written) take
# turns holding the GIL this long: at Python's default 5 ms, two busy threads cost 15-34% more
# CPU than the same work in turn (measured on the 2-core build machine), at 50 ms 2%.
SWITCH_SECONDS = 0.05


class SegmentWriteError(RuntimeError):
    """A worker process failed; the build must not be published."""


class _Owner:
    """A worker's state: its segment writer, the segments it wrote, the chunks it keeps."""

    def __init__(self, index: Index, limitmb: int) -> None:
        self.index = index
        self.limitmb = limitmb
        self.codec = whoosh_patches.codec()
        self.writer = self._new_writer()
        self.segments: list[Any] = []
        self.kept: dict[int, list[Prepared | Rejected]] = {}
        self.written = 0
        self.flushing: threading.Thread | None = None
        self.flush_error: str | None = None

    def _new_writer(self) -> MemorySegmentWriter:
        return MemorySegmentWriter(self.index, _lk=False, limitmb=self.limitmb, codec=self.codec)

    def call(self, ticket: int, job: tuple[Callable[..., Any], tuple[Any, ...]]) -> Any:
        function, args = job
        return function(*args)

    def prepare(self, ticket: int, chunk: list[Any]) -> list[Any]:
        """Prepare a chunk and keep it; the summaries and rejections, in order."""
        items = prepare_chunk(chunk)
        self.kept[ticket] = items
        return [item if isinstance(item, Rejected) else item.summary for item in items]

    def write(self, ticket: int, decisions: list[tuple[int, str]]) -> None:
        """Add the decided articles of a kept chunk (their index in it, their story)."""
        if self.flush_error is not None:
            self._join_flush()  # raises: a segment could not be written
        items = self.kept.pop(ticket)
        for number, story in decisions:
            self.writer.add_document(**document(items[number], story))  # type: ignore[arg-type]
            self.written += 1
        if self.writer.held >= HELD_POSTINGS:  # memory stays bounded: one more segment
            self._roll()

    def _roll(self) -> None:
        """Write the current segment in a thread while the next one fills.

        Writing a segment takes seconds of pure Python; done inline, the main
        process (which takes answers in input order) waits for this worker the
        whole time and the other workers soon run out of work. In a thread,
        this worker keeps answering (sharing its core with the writing), so
        the other workers stay busy. One segment is written at a time.
        """
        self._join_flush()
        full, self.writer = self.writer, self._new_writer()
        self.flushing = threading.Thread(
            target=self._write_segment, args=(full,), name="kiosque-segment-flush", daemon=True
        )
        self.flushing.start()

    def _write_segment(self, writer: MemorySegmentWriter) -> None:
        try:
            self.segments.append(writer._finalize_segment())
        except BaseException:  # reported by the worker's thread, in _join_flush
            self.flush_error = traceback.format_exc()

    def _join_flush(self) -> None:
        """Wait for the segment being written, if any; its failure raises here."""
        if self.flushing is not None:
            self.flushing.join()
            self.flushing = None
        if self.flush_error is not None:
            raise SegmentWriteError(f"writing a segment failed:\n{self.flush_error}")

    def finish(self) -> list[Any]:
        """Write the last segment's files; every segment written."""
        self._join_flush()
        if self.writer.docnum:
            self.segments.append(self.writer._finalize_segment())
        else:
            self.writer._close_segment()
        return self.segments


ANSWERED = ("call", "prepare")  # the jobs whose result goes back to the main process


def _worker_main(
    index: Index, number: int, jobs: Any, results: Any, limitmb: int, parent: int
) -> None:  # pragma: no cover - runs in a child process (its effects are tested)
    exit_with_parent(parent)  # never outlive a killed build, holding its inherited locks
    sys.setswitchinterval(SWITCH_SECONDS)
    owner: _Owner | None = None
    try:
        owner = _Owner(index, limitmb)
        handlers = {"call": owner.call, "prepare": owner.prepare, "write": owner.write}
        while (job := jobs.get()) is not None:
            kind, ticket, payload = job
            result = handlers[kind](ticket, payload)
            if kind in ANSWERED:
                results.put(("result", number, ticket, result))
        results.put(("ok", number, owner.finish(), owner.written))
    except BaseException:
        written = owner.written if owner else 0
        results.put(("error", number, traceback.format_exc(), written))


class Ticket:
    """A job sent to one worker; ``get()`` waits for its result (as a pool's ``AsyncResult``)."""

    def __init__(self, workers: SegmentWorkers, number: int, worker: int) -> None:
        self.workers = workers
        self.number = number
        self.worker = worker

    def get(self) -> Any:
        return self.workers._result(self)


class SegmentWorkers:
    """``n`` worker processes that read, prepare and write new segments of ``index``.

    ``apply_async(function, args)`` runs a job in the least busy worker;
    ``prepare(chunk)`` prepares articles there and keeps them, its ticket's
    ``get()`` giving their summaries; ``write(ticket, decisions)`` adds the
    decided ones to that worker's segment. ``commit()`` waits for every
    segment and writes the table of contents (taking Whoosh's lock);
    ``cancel()`` stops the children. Use as a context manager: leaving it by
    an exception cancels.
    """

    def __init__(self, index: Index, processes: int, limitmb: int) -> None:
        self.index = index
        self.count = max(1, processes)
        context = multiprocessing.get_context("fork")
        self.results = context.Queue()
        self.jobs = [context.Queue() for _ in range(self.count)]
        self.processes = [
            context.Process(
                target=_worker_main,
                args=(index, number, self.jobs[number], self.results, limitmb, os.getpid()),
                name=f"kiosque-segment-worker-{number}",
                daemon=True,
            )
            for number in range(self.count)
        ]
        for process in self.processes:
            process.start()
        self.tickets = 0
        self.busy = [0] * self.count  # jobs sent and not yet answered, per worker
        self.answers: dict[int, Any] = {}
        self.decided = [0] * self.count
        self.reports: dict[int, tuple[str, Any, int]] = {}
        self.closed = False

    def __enter__(self) -> SegmentWorkers:
        return self

    def __exit__(self, kind: Any, value: Any, trace: Any) -> None:
        if kind is not None or not self.closed:
            self.cancel()

    def apply_async(self, function: Callable[..., Any], args: tuple[Any, ...]) -> Ticket:
        return self._send("call", (function, args))

    def prepare(self, chunk: list[Any]) -> Ticket:
        return self._send("prepare", chunk)

    def write(self, ticket: Ticket, decisions: list[tuple[int, str]]) -> None:
        """Send the decisions of a prepared chunk to the worker that keeps it."""
        self._check_failures()
        self.jobs[ticket.worker].put(("write", ticket.number, decisions))
        self.decided[ticket.worker] += len(decisions)

    def _send(self, kind: str, payload: Any) -> Ticket:
        self._check_failures()
        order = [(self.tickets + n) % self.count for n in range(self.count)]  # ties: in turn
        worker = min(order, key=self.busy.__getitem__)
        ticket = Ticket(self, self.tickets, worker)
        self.tickets += 1
        self.busy[worker] += 1
        self.jobs[worker].put((kind, ticket.number, payload))
        return ticket

    def _result(self, ticket: Ticket) -> Any:
        while ticket.number not in self.answers:
            if not self._collect(POLL_SECONDS):
                self._check_failures()
        return self.answers.pop(ticket.number)

    def _collect(self, timeout: float) -> bool:
        """Take one message from the workers, if one comes within ``timeout``; a failure raises."""
        try:
            message = self.results.get(timeout=timeout)
        except queue.Empty:
            return False
        kind, number, payload, extra = message
        if kind == "result":
            self.answers[payload] = extra
            self.busy[number] -= 1
        else:
            self.reports[number] = (kind, payload, extra)
            if kind != "ok":
                raise SegmentWriteError(f"segment worker {number} failed:\n{payload}")
        return True

    def _check_failures(self) -> None:
        while self._collect(0):
            pass
        for number, process in enumerate(self.processes):
            if number not in self.reports and process.exitcode is not None:
                # It may have reported just before exiting: look once more.
                while self._collect(POLL_SECONDS):
                    pass
                if number not in self.reports:
                    raise SegmentWriteError(
                        f"segment worker {number} died (exit code {process.exitcode})"
                    )

    def commit(self) -> int:
        """Finish every segment and publish them together; returns the documents written."""
        for number in range(self.count):
            self.jobs[number].put(None)
        waited = 0.0
        while len(self.reports) < self.count and waited < FINISH_TIMEOUT:
            if not self._collect(POLL_SECONDS):
                waited += POLL_SECONDS
                self._check_failures()
        if len(self.reports) < self.count:
            raise SegmentWriteError("segment workers did not finish in time")
        for number in range(self.count):
            written = self.reports[number][2]
            if written != self.decided[number]:
                raise SegmentWriteError(
                    f"segment worker {number} wrote {written} of {self.decided[number]} documents"
                )
        for process in self.processes:
            process.join()
        segments = [segment for n in range(self.count) for segment in self.reports[n][1]]
        writer = self.index.writer(codec=whoosh_patches.codec())
        try:
            writer._close_segment()  # its own (empty) segment: files closed, then cleaned
            writer._commit_toc(list(writer.segments) + segments)
        finally:
            writer._finish()
        self.closed = True
        return sum(self.decided)

    def cancel(self) -> None:
        """Stop the worker processes (their partial files go with the generation folder)."""
        self.closed = True
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        for process in self.processes:
            process.join(timeout=5)
