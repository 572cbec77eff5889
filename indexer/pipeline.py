"""The indexing pipeline: read -> clean -> detect language -> analyze -> write.

Reading, cleaning, language detection and analysis run in worker processes
(one per core). In a build, each worker also keeps the articles it prepared
and writes them to its own segment (:mod:`indexer.segments`): the main
process only sees a :class:`Summary` of each article, decides duplicates and
stories in input order, and sends the decisions back. In an update, the
workers send the prepared articles back and Whoosh's writer in the main
process writes them.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from search.analysis import indexed_text, load_stemmers
from search.records import Article
from search.schema import analyzed_fields, content_fingerprint, to_document

from .locking import exit_with_parent
from .readers import Rejected, list_files, read_file, read_stream
from .stories import bands, simhash_indexed

if TYPE_CHECKING:
    from .segments import SegmentWorkers, Ticket

CHUNK_ARTICLES = 64
IN_FLIGHT = 4  # chunks submitted ahead, per worker
Progress = Callable[[int], None]
Job = TypeVar("Job")
Input = str | os.PathLike[str] | Article


@dataclass(frozen=True)
class Summary:
    """What the main process needs of a prepared article to decide: duplicate, and which story."""

    id: str
    url: str
    fingerprint: str
    simhash: int | None


@dataclass(frozen=True)
class Prepared:
    """An article ready to write: analyzed fields, near-duplicate hash, and where it came from.

    ``analyzed``: ``{field: {form: positions}}``, as :func:`search.analysis.index_terms`
    gives them. ``fingerprint`` is its :func:`~search.schema.content_fingerprint`,
    made in the worker: it is needed twice (duplicates, then the document).
    """

    article: Article
    analyzed: dict[str, dict[str, list[int]]]
    simhash: int | None
    origin: str
    fingerprint: str

    @property
    def summary(self) -> Summary:
        article = self.article
        return Summary(article.id, article.url, self.fingerprint, self.simhash)


def document(item: Prepared, story: str) -> dict[str, Any]:
    """The Whoosh document of a prepared article, in ``story`` (its id, or an earlier one's)."""
    article = item.article
    doc = to_document(_with_story(article, story), item.analyzed, item.fingerprint)
    doc["origin"] = item.origin
    if item.simhash is not None:
        doc["simhash"] = item.simhash
        doc["simbands"] = " ".join(bands(item.simhash))
    return doc


def _with_story(article: Article, story: str) -> Article:
    return Article(
        article.id,
        article.title,
        article.body,
        article.date,
        article.source,
        article.url,
        article.lang,
        story,
    )


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
    return Prepared(article, analyzed, simhash, origin, fingerprint)


def read_one(path: Path) -> FileRead:
    """Read one file into articles and rejections, with its stamp."""
    try:
        stat = path.stat()
        stamp = FileStamp(str(path), stat.st_size, stat.st_mtime_ns)
    except OSError:
        stamp = None
    return FileRead(stamp, str(path), list(read_file(path)))


def prepare_chunk(chunk: list[tuple[str, Article | Rejected]]) -> list[Prepared | Rejected]:
    """``prepare`` of every article of ``chunk``; rejections pass through, in order."""
    return [item if isinstance(item, Rejected) else prepare(item, origin) for origin, item in chunk]


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def ahead(submitted: Iterable[Job], limit: int) -> Iterator[Job]:
    """The jobs of ``submitted``, each once at most ``limit`` - 1 later ones are submitted too.

    Submitting is pulling from ``submitted``: the caller waits for a job's
    result while later ones run, and no more than ``limit`` wait in memory
    (a pool's ``imap`` submits every job at once).
    """
    pending: deque[Job] = deque()
    for job in submitted:
        pending.append(job)
        if len(pending) >= limit:
            yield pending.popleft()
    while pending:
        yield pending.popleft()


SMALL_INPUT_BYTES = 1_000_000


def warm_up() -> None:
    """Load the stemmers and lemma tables in this process, so that the workers it forks
    share them.

    Not the language model (0.6 s of CPU, ~90 MB): only an article without a
    language needs it, and records that give theirs (every article of the
    benchmark corpora) never do. Loaded here, it kept the build on one core
    for that long before the workers started; a worker now loads it on its
    first article without a language (its own copy).
    """
    load_stemmers()


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

    ``pool``: a ``multiprocessing`` pool, or anything with its ``apply_async``
    (:class:`~indexer.segments.SegmentWorkers`).

    Reading a file (decoding, JSON, cleaning, language detection) costs about
    3 ms an article: done in the main process, it kept the other cores idle
    while a large file was read. At most ``IN_FLIGHT`` files a worker are read
    ahead of the one being consumed, so a folder of large files never sits
    whole in memory.
    """
    if pool is None:
        yield from map(read_one, files)
        return
    jobs = (pool.apply_async(read_one, (path,)) for path in files)
    for job in ahead(jobs, IN_FLIGHT * workers):
        yield job.get()


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

    def prepared(self, inputs: Iterable[Input]) -> Iterator[Prepared | Rejected]:
        """Every article of the inputs, prepared, and every rejection, in input order."""
        inputs = list(inputs)
        if not self.is_parallel(inputs):
            for chunk in _chunks(self._pairs(inputs), CHUNK_ARTICLES):
                yield from prepare_chunk(chunk)
            return
        warm_up()  # load the stemmers once, before the workers fork and share them
        context = multiprocessing.get_context("fork")
        with context.Pool(self.workers, exit_with_parent, (os.getpid(),)) as pool:
            pairs = self._pairs(inputs, pool)  # files are read (and cleaned) by the workers too
            chunks = _chunks(pairs, CHUNK_ARTICLES)
            jobs = (pool.apply_async(prepare_chunk, (chunk,)) for chunk in chunks)
            for job in ahead(jobs, IN_FLIGHT * self.workers):
                yield from job.get()

    def kept(
        self, inputs: Iterable[Input], workers: SegmentWorkers
    ) -> Iterator[tuple[Ticket, list[Summary | Rejected]]]:
        """Every chunk of the inputs, prepared and kept by one of ``workers``, in input order.

        Yields each chunk's ticket (to send the decisions back to the worker that holds
        it) and its items: a :class:`Summary` of each article, or a rejection.
        """
        pairs = self._pairs(list(inputs), workers)  # files are read by the workers too
        jobs = (workers.prepare(chunk) for chunk in _chunks(pairs, CHUNK_ARTICLES))
        for job in ahead(jobs, IN_FLIGHT * workers.count):
            yield job, job.get()

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
