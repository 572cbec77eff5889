"""The indexing pipeline: read -> clean -> detect language -> analyze -> write.

Reading, cleaning, language detection and analysis run in worker processes
(one per core); the main process only deduplicates, groups stories and
feeds the single Whoosh writer, which measures faster than Whoosh's own
multi-process writer and never drops a batch silently.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any

from search.analysis import STEMMED_LANGUAGES, indexed_text, stem
from search.records import Article
from search.schema import PackedPostings, analyzed_fields, content_fingerprint, packed_fields

from .language import detect_language
from .locking import exit_with_parent
from .readers import Rejected, list_files, read_file, read_stream
from .stories import simhash_indexed

CHUNK_ARTICLES = 64
IN_FLIGHT = 4  # chunks submitted ahead, per worker
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Prepared:
    """An article ready to write: analyzed fields, near-duplicate hash, and where it came from.

    ``fingerprint`` is its :func:`~search.schema.content_fingerprint`, made in
    the worker: the main process needs it twice (duplicates, then the document).
    """

    article: Article
    analyzed: dict[str, PackedPostings]
    simhash: int | None
    origin: str
    fingerprint: str


@dataclass(frozen=True)
class FileStamp:
    """What a file was when read, to skip it next time if unchanged."""

    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class FileRead:
    """Everything read from one file (or stream)."""

    stamp: FileStamp | None
    origin: str
    items: list[Article | Rejected]


def prepare(article: Article, origin: str) -> Prepared:
    """Analyze one article (the costly step, done in a worker); the body's analysis keeps
    its words for the story hash."""
    body = indexed_text(article.body, article.lang)
    analyzed = analyzed_fields(article, body.postings)
    simhash = simhash_indexed(body)
    fingerprint = content_fingerprint(article)
    return Prepared(article, packed_fields(analyzed), simhash, origin, fingerprint)


def read_one(path: Path) -> FileRead:
    """Read one file into articles and rejections, with its stamp."""
    try:
        stat = path.stat()
        stamp = FileStamp(str(path), stat.st_size, stat.st_mtime_ns)
    except OSError:
        stamp = None
    return FileRead(stamp, str(path), list(read_file(path)))


def _prepare_chunk(chunk: list[tuple[str, Article | Rejected]]) -> list[Prepared | Rejected]:
    return [item if isinstance(item, Rejected) else prepare(item, origin) for origin, item in chunk]


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


SMALL_INPUT_BYTES = 1_000_000


def warm_up() -> None:
    """Load the stemmers and the language model (about a second) in this process."""
    for lang in STEMMED_LANGUAGES:
        stem(lang, "kiosque")
    detect_language("Kiosque", "warm up")


def _is_small(inputs: list[Any]) -> bool:
    """True when starting worker processes would cost more than it saves."""
    if any(str(item) == "-" for item in inputs):
        return False
    articles = [item for item in inputs if isinstance(item, Article)]
    size = sum(len(a.body) for a in articles)
    for found in list_files([item for item in inputs if not isinstance(item, Article)]):
        if isinstance(found, Path):
            try:
                size += found.stat().st_size
            except OSError:
                continue
        if size > SMALL_INPUT_BYTES:
            return False
    return size <= SMALL_INPUT_BYTES


def _read_all(files: list[Path], pool: Any, workers: int) -> Iterator[FileRead]:
    """``read_one`` of every file, in order: in the pool's workers when there is one.

    Reading a file (decoding, JSON, cleaning, language detection) costs about
    3 ms an article: done in the main process, it kept the other cores idle
    while a large file was read. At most ``IN_FLIGHT`` files a worker are read
    ahead of the one being consumed, so a folder of large files never sits
    whole in memory.
    """
    if pool is None:
        yield from map(read_one, files)
        return
    pending: deque[Any] = deque()
    for path in files:
        pending.append(pool.apply_async(read_one, (path,)))
        if len(pending) >= IN_FLIGHT * workers:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


class Reader:
    """Lists, reads and prepares inputs, in worker processes when ``workers`` > 1.

    ``stamps`` collects the files read; ``skip(stamp)`` may decline a file
    before it is read (unchanged since the last run).
    """

    def __init__(
        self,
        workers: int | None = None,
        stdin: IO[bytes] | None = None,
        skip: Callable[[FileStamp], bool] | None = None,
    ) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.stdin = stdin
        self.skip = skip
        self.stamps: dict[str, FileRead] = {}
        self.skipped = 0

    def is_parallel(self, inputs: list[Any]) -> bool:
        """True when :meth:`prepared` uses worker processes for these inputs."""
        return self.workers > 1 and not _is_small(inputs)

    def prepared(
        self, inputs: Iterable[str | os.PathLike[str] | Article]
    ) -> Iterator[Prepared | Rejected]:
        """Every article of the inputs, prepared, and every rejection, in input order."""
        inputs = list(inputs)
        if not self.is_parallel(inputs):
            for chunk in _chunks(self._pairs(inputs), CHUNK_ARTICLES):
                yield from _prepare_chunk(chunk)
            return
        warm_up()  # load models once, before the workers fork and share them
        context = multiprocessing.get_context("fork")
        with context.Pool(self.workers, exit_with_parent, (os.getpid(),)) as pool:
            pairs = self._pairs(inputs, pool)  # files are read (and cleaned) by the workers too
            # Not pool.imap: it submits every chunk at once, and when the writing
            # end is slower, prepared articles pile up in memory. At most
            # IN_FLIGHT chunks per worker are submitted and not yet consumed.
            pending: deque[Any] = deque()
            for chunk in _chunks(pairs, CHUNK_ARTICLES):
                pending.append(pool.apply_async(_prepare_chunk, (chunk,)))
                if len(pending) >= IN_FLIGHT * self.workers:
                    yield from pending.popleft().get()
            while pending:
                yield from pending.popleft().get()

    def _pairs(
        self, inputs: list[Any], pool: Any = None
    ) -> Iterator[tuple[str, Article | Rejected]]:
        articles = [item for item in inputs if isinstance(item, Article)]
        for article in articles:
            yield "<api>", article
        paths = [item for item in inputs if not isinstance(item, Article)]
        for read in self._reads(paths, pool):
            for item in read.items:
                yield read.origin, item

    def _reads(self, paths: list[Any], pool: Any = None) -> Iterator[FileRead]:
        files: list[Path] = []
        for raw in paths:
            if str(raw) == "-":
                stream = self.stdin
                if stream is None:
                    yield FileRead(None, "-", [Rejected("-", "no standard input to read")])
                    continue
                yield FileRead(None, "<stdin>", list(read_stream(stream, "<stdin>")))
                continue
            for found in list_files([raw]):
                if isinstance(found, Rejected):
                    yield FileRead(None, found.path, [found])
                elif self._should_read(found):
                    files.append(found)
        for read in _read_all(files, pool, self.workers):
            if read.stamp:
                self.stamps[read.stamp.path] = read
            yield read

    def _should_read(self, path: Path) -> bool:
        if self.skip is None:
            return True
        try:
            stat = path.stat()
        except OSError:
            return True
        if self.skip(FileStamp(str(path), stat.st_size, stat.st_mtime_ns)):
            self.skipped += 1
            return False
        return True
