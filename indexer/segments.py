"""Writing one index as several segments, each in its own process, without losing a batch.

Whoosh's commit costs a pickle, a zlib call and a table row per unique term
and a few calls per posting, all in pure Python: with a single writer, the
main process is the bottleneck of a build. :class:`SegmentWriters` starts
``n`` writer processes (forked) that each own a ``SegmentWriter`` on the same
new index; the main process sends them batches of finished documents, in
turn, and at the end publishes every segment in one table of contents.

Unlike Whoosh's ``MpWriter`` (which, measured, commits normally after a child
failed and silently drops that child's batch), every failure surfaces: a
child that raises reports its traceback, a child that dies (killed, out of
memory) is noticed by its exit code, and the number of documents in the
segments must equal the number sent. Any of these raises
:class:`SegmentWriteError` and nothing is published.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import traceback
from typing import Any

from whoosh.index import Index

from search import whoosh_patches

from .locking import exit_with_parent
from .postings import MemorySegmentWriter

BATCH_DOCS = 128  # documents per message to a writer process
QUEUE_BATCHES = 3  # batches waiting per writer (bounds the memory in flight)
POLL_SECONDS = 1.0
FINISH_TIMEOUT = 3600.0
HELD_POSTINGS = 2_000_000  # a writer's postings in memory (~80 bytes each) before a new segment


class SegmentWriteError(RuntimeError):
    """A writer process failed; the build must not be published."""


def _writer_main(
    index: Index, number: int, jobs: Any, results: Any, limitmb: int, parent: int
) -> None:  # pragma: no cover - runs in a child process (its effects are tested)
    exit_with_parent(parent)  # never outlive a killed build, holding its inherited locks
    written = 0
    try:
        codec = whoosh_patches.codec()
        segments = []
        writer = MemorySegmentWriter(index, _lk=False, limitmb=limitmb, codec=codec)
        while True:
            batch = jobs.get()
            if batch is None:
                break
            for doc in batch:
                writer.add_document(**doc)
                written += 1
            if writer.held >= HELD_POSTINGS:  # memory stays bounded: one more segment
                segments.append(writer._finalize_segment())
                writer = MemorySegmentWriter(index, _lk=False, limitmb=limitmb, codec=codec)
        if writer.docnum:
            segments.append(writer._finalize_segment())
        else:
            writer._close_segment()
        results.put(("ok", number, segments, written))
    except BaseException:
        results.put(("error", number, traceback.format_exc(), written))


class SegmentWriters:
    """``n`` writer processes adding documents to new segments of ``index``.

    ``add(doc)`` buffers; ``commit()`` waits for every segment and writes the
    table of contents (taking Whoosh's lock); ``cancel()`` stops the children.
    Use as a context manager: leaving it by an exception cancels.
    """

    def __init__(self, index: Index, processes: int, limitmb: int) -> None:
        self.index = index
        self.count = max(1, processes)
        context = multiprocessing.get_context("fork")
        self.results = context.Queue()
        self.jobs = [context.Queue(QUEUE_BATCHES) for _ in range(self.count)]
        self.processes = [
            context.Process(
                target=_writer_main,
                args=(index, number, self.jobs[number], self.results, limitmb, os.getpid()),
                name=f"kiosque-segment-writer-{number}",
                daemon=True,
            )
            for number in range(self.count)
        ]
        for process in self.processes:
            process.start()
        self.buffer: list[dict[str, Any]] = []
        self.sent = [0] * self.count
        self.turn = 0
        self.reports: dict[int, tuple[str, Any, int]] = {}
        self.closed = False

    def __enter__(self) -> SegmentWriters:
        return self

    def __exit__(self, kind: Any, value: Any, trace: Any) -> None:
        if kind is not None or not self.closed:
            self.cancel()

    def add(self, doc: dict[str, Any]) -> None:
        self.buffer.append(doc)
        if len(self.buffer) >= BATCH_DOCS:
            self._send()

    def _send(self) -> None:
        number = self.turn
        self.turn = (self.turn + 1) % self.count
        batch, self.buffer = self.buffer, []
        self._put(number, batch)
        self.sent[number] += len(batch)

    def _put(self, number: int, item: Any) -> None:
        while True:
            self._check_failures()
            try:
                self.jobs[number].put(item, timeout=POLL_SECONDS)
                return
            except queue.Full:
                continue

    def _collect(self, timeout: float) -> bool:
        try:
            status, number, payload, written = self.results.get(timeout=timeout)
        except queue.Empty:
            return False
        self.reports[number] = (status, payload, written)
        return True

    def _check_failures(self) -> None:
        while self._collect(0):
            pass
        for number, (status, payload, _) in self.reports.items():
            if status != "ok":
                raise SegmentWriteError(f"segment writer {number} failed:\n{payload}")
        for number, process in enumerate(self.processes):
            if number not in self.reports and process.exitcode is not None:
                # It may have reported just before exiting: look once more.
                if not self._collect(POLL_SECONDS) or number not in self.reports:
                    raise SegmentWriteError(
                        f"segment writer {number} died (exit code {process.exitcode})"
                    )

    def commit(self) -> int:
        """Finish every segment and publish them together; returns the documents written."""
        if self.buffer:
            self._send()
        for number in range(self.count):
            self._put(number, None)
        deadline = FINISH_TIMEOUT
        while len(self.reports) < self.count and deadline > 0:
            if not self._collect(POLL_SECONDS):
                deadline -= POLL_SECONDS
                self._check_failures()
        self._check_failures()
        if len(self.reports) < self.count:
            raise SegmentWriteError("segment writers did not finish in time")
        for number in range(self.count):
            written = self.reports[number][2]
            if written != self.sent[number]:
                raise SegmentWriteError(
                    f"segment writer {number} wrote {written} of {self.sent[number]} documents"
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
        return sum(self.sent)

    def cancel(self) -> None:
        """Stop the writer processes (their partial files go with the generation folder)."""
        self.closed = True
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        for process in self.processes:
            process.join(timeout=5)
