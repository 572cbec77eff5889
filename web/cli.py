"""The ``kiosque`` command: build and update an index, search it, serve it.

Exit status: 0 success; 1 done, but some inputs were rejected (each named on
stderr); 2 usage error or unusable index, with a one-line hint.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from indexer import BuildReport, IndexBusy, add_documents, build_index, delete_documents
from indexer.readers import SAMPLE_CORPUS_DIR
from search import IndexNotFound, SearchEngine, SearchError, lemmas
from search.analysis import load_stemmers
from search.cache import DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES
from search.store import current_generation

INDEX_DIR_ENV = "KIOSQUE_INDEX_DIR"
DEFAULT_INDEX_DIR = "index_data"


class UnusableIndex(click.ClickException):
    """An index that cannot be opened or written: exit status 2, with a hint."""

    exit_code = 2


def index_dir_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--index-dir DIR``, else ``$KIOSQUE_INDEX_DIR``, else ``index_data/``."""
    return click.option(
        "--index-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar=INDEX_DIR_ENV,
        default=DEFAULT_INDEX_DIR,
        show_default=True,
        help=f"Index directory (default: ${INDEX_DIR_ENV}, else {DEFAULT_INDEX_DIR}/).",
    )(command)


@contextmanager
def library_errors() -> Iterator[None]:
    """Turn the library's errors into one-line messages with exit status 2."""
    try:
        yield
    except IndexNotFound as error:
        raise UnusableIndex(str(error)) from None
    except IndexBusy as error:
        raise UnusableIndex(str(error)) from None
    except SearchError as error:
        raise click.UsageError(str(error)) from None


def load_analysis() -> None:
    """Load the stemmers and lemma tables now, saying so first when the French table must be
    derived (the first time on a machine: seconds with nothing else on the screen)."""
    if lemmas.needs_deriving():
        click.echo("deriving the French lemma table from the installed simplemma "
                   "(once on this machine, a few seconds)...", err=True)
    load_stemmers()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kiosque")
def main() -> None:
    """Kiosque: full-text search for news articles in French and English."""


@main.group()
def index() -> None:
    """Build, update and inspect the index."""


@index.command("build")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes for reading and analysis (default: one per core).",
)
@index_dir_option
def index_build(paths: tuple[str, ...], workers: int | None, index_dir: Path) -> None:
    """Rebuild the index from PATHS (files, folders, or - for JSONL on stdin).

    The new index is written beside the old one, which keeps serving until
    the new one is complete.
    """
    load_analysis()
    with library_errors(), progress_bar("indexing") as progress:
        report = build_index(
            list(paths), index_dir, workers=workers, progress=progress, stdin=sys.stdin.buffer
        )
    finish(report, "built")


@index.command("add")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes for reading and analysis.",
)
@click.option("--force", is_flag=True, help="Read files even if unchanged since they were indexed.")
@index_dir_option
def index_add(paths: tuple[str, ...], workers: int, force: bool, index_dir: Path) -> None:
    """Add articles from PATHS, replacing those with the same id.

    Files unchanged since they were last indexed are skipped.
    """
    load_analysis()
    with library_errors(), progress_bar("adding") as progress:
        report = add_documents(
            list(paths),
            index_dir,
            workers=workers,
            progress=progress,
            stdin=sys.stdin.buffer,
            skip_unchanged=not force,
        )
    finish(report, "added")


@index.command("delete")
@click.argument("ids", nargs=-1, required=True)
@index_dir_option
def index_delete(ids: tuple[str, ...], index_dir: Path) -> None:
    """Remove the articles with these IDS."""
    with library_errors():
        removed = delete_documents(ids, index_dir)
    missing = [doc_id for doc_id in ids if doc_id not in removed]
    click.echo(f"deleted {len(removed)} article(s)")
    for doc_id in missing:
        click.echo(f"not found: {doc_id}", err=True)
    sys.exit(1 if missing else 0)


@index.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@index_dir_option
def index_stats(as_json: bool, index_dir: Path) -> None:
    """Show how many articles the index holds, by language, source and year."""
    with library_errors():
        stats = SearchEngine(index_dir).stats()
    if as_json:
        click.echo(json.dumps(stats, ensure_ascii=False, indent=2))
        return
    click.echo(f"index: {stats['index_dir']} ({stats['generation']})")
    click.echo(f"documents: {stats['documents']}  segments: {stats['segments']}")
    for name, counts in stats["facets"].items():
        shown = ", ".join(f"{key} {count}" for key, count in list(counts.items())[:10])
        more = f" (+{len(counts) - 10} more)" if len(counts) > 10 else ""
        click.echo(f"{name}: {shown}{more}")


@main.command("search")
@click.argument("query")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--per-page", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--lang", multiple=True, help="Only this language (repeatable).")
@click.option("--source", multiple=True, help="Only this source (repeatable).")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="Published on or after.")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Published on or before.")
@click.option(
    "--sort",
    type=click.Choice(["relevance", "newest", "oldest"]),
    default="relevance",
    show_default=True,
)
@click.option("--no-recency", is_flag=True, help="Rank by relevance alone, without freshness.")
@click.option("--expand", is_flag=True, help="List every article of a story separately.")
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON as GET /api/search.")
@index_dir_option
def search_command(
    query: str,
    page: int,
    per_page: int,
    lang: tuple[str, ...],
    source: tuple[str, ...],
    date_from: str | None,
    date_to: str | None,
    sort: str,
    no_recency: bool,
    expand: bool,
    as_json: bool,
    index_dir: Path,
) -> None:
    """Search the index for QUERY (see the README for the query language)."""
    load_analysis()
    with library_errors():
        result = SearchEngine(index_dir).search(
            query,
            page=page,
            per_page=per_page,
            lang=list(lang) or None,
            source=list(source) or None,
            date_from=date_from,
            date_to=date_to,
            sort=sort,
            recency=not no_recency,
            expand_stories=expand,
        )
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    print_results(result)


def print_results(result: Any) -> None:
    """Results for a terminal: title, source, date, language and snippet."""
    shown = len(result.hits)
    first = (result.page - 1) * result.per_page + 1
    if result.suggestion:
        click.echo(f"did you mean: {result.suggestion}")
    if not shown:
        click.echo(f"no results for {result.query!r}")
        return
    click.echo(f"{result.total} result(s), {first}-{first + shown - 1}:")
    for number, hit in enumerate(result.hits, start=first):
        meta = " · ".join(part for part in (hit.source, str(hit.date or ""), hit.lang) if part)
        click.echo(f"\n{number}. {marked(hit.title_html)}  [{hit.id}]")
        click.echo(f"   {meta}")
        click.echo(f"   {marked(hit.snippet_html)}")
        for member in hit.story:
            click.echo(f"   also in {member.source or '?'}: {member.title} [{member.id}]")


def marked(fragment: str) -> str:
    """Highlighted HTML as terminal text: marks in bold."""
    parts = re.split(r"(<mark>.*?</mark>)", fragment)
    return "".join(
        click.style(html.unescape(part[6:-7]), bold=True)
        if part.startswith("<mark>")
        else html.unescape(part)
        for part in parts
    )


def server_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--host``, ``--port``, ``--threads``, ``--workers`` and the result cache's bounds,
    shared by serve and demo."""
    options = [
        click.option("--host", default="127.0.0.1", show_default=True),
        click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True),
        click.option("--threads", type=click.IntRange(1, 256), default=8, show_default=True,
                     help="Threads of each server process."),
        click.option("--workers", type=click.IntRange(1, 64), default=None,
                     help="Server processes sharing the port (default: one per core, at most 4; "
                     "1: a single process)."),
        click.option("--cache-size", type=click.IntRange(0), envvar="KIOSQUE_CACHE_SIZE",
                     default=DEFAULT_MAX_ENTRIES, show_default=True,
                     help="Results kept in memory by each server process for repeated "
                     "requests (0: no cache); a commit empties it."),
        click.option("--cache-mb", type=click.IntRange(0), envvar="KIOSQUE_CACHE_MB",
                     default=DEFAULT_MAX_BYTES // 2**20, show_default=True,
                     help="At most this many MB of cached results a process."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


MAX_DEFAULT_WORKERS = 4  # each process holds its own caches; more must be asked for


def default_workers() -> int:
    """One server process per core this process may run on, at most MAX_DEFAULT_WORKERS."""
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


@main.command("serve")
@server_options
@index_dir_option
def serve_command(host: str, port: int, threads: int, workers: int | None, cache_size: int,
                  cache_mb: int, index_dir: Path) -> None:
    """Serve the search page and the JSON API with waitress."""
    load_analysis()
    cache = CacheBounds(cache_size, cache_mb)
    with library_errors():
        engine = cache.engine(index_dir)  # fail now, with the hint, not on the first request
    serve(index_dir, host, port, threads, workers, engine, cache)


@main.command("demo")
@server_options
@index_dir_option
def demo_command(host: str, port: int, threads: int, workers: int | None, cache_size: int,
                 cache_mb: int, index_dir: Path) -> None:
    """Index the bundled sample corpus if the index is empty, then serve it."""
    load_analysis()
    if current_generation(index_dir) is None:
        click.echo(f"indexing the sample corpus into {index_dir} (once)...", err=True)
        with library_errors(), progress_bar("indexing") as progress:
            report = build_index([SAMPLE_CORPUS_DIR], index_dir, progress=progress)
        summarize(report, "built")
    serve(index_dir, host, port, threads, workers, None, CacheBounds(cache_size, cache_mb))


@dataclass(frozen=True)
class CacheBounds:
    """``--cache-size`` and ``--cache-mb``: the result cache of each server process."""

    entries: int = DEFAULT_MAX_ENTRIES
    megabytes: int = DEFAULT_MAX_BYTES // 2**20

    def engine(self, index_dir: Path) -> SearchEngine:
        return SearchEngine(index_dir, cache_size=self.entries,
                            cache_bytes=self.megabytes * 2**20)

    def settings(self, index_dir: Path) -> dict[str, Any]:
        """The settings of ``create_app``."""
        return {"INDEX_DIR": str(index_dir), "CACHE_SIZE": self.entries,
                "CACHE_MB": self.megabytes}


def serve(index_dir: Path, host: str, port: int, threads: int, workers: int | None,
          engine: SearchEngine | None = None, cache: CacheBounds = CacheBounds()) -> None:
    """Run the web app under waitress until interrupted.

    One process shares one engine between its threads; with several workers,
    each process opens its own (``engine`` only proved the index opens).
    """
    from web import create_app
    from web.serve import run
    from web.workers import can_fork, run_workers

    workers = workers or default_workers()
    if workers > 1 and not can_fork():
        raise click.UsageError("--workers above 1 needs os.fork (POSIX); use --workers 1")
    click.echo(f"serving {index_dir} on http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    if workers == 1:
        engine = engine or cache.engine(index_dir)
        run(create_app({**cache.settings(index_dir), "ENGINE": engine}), host, port, threads)
        return
    del engine  # each worker opens its own, after the fork
    try:
        run_workers(lambda: create_app(cache.settings(index_dir)), host, port, threads,
                    workers)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror}") from None


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on a terminal; nothing when stderr is not one."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(desc=label, unit=" articles", file=sys.stderr, leave=False) as bar:
        yield bar.update


def summarize(report: BuildReport, verb: str) -> None:
    """Print each rejection on stderr, then a closing summary."""
    for path, reason in report.failures:
        click.echo(f"rejected: {path}: {reason}", err=True)
    parts = [
        f"{verb}: {report.indexed} indexed",
        f"{report.duplicates} duplicate(s)",
        f"{len(report.failures)} rejected",
        f"{report.grouped} grouped into stories",
    ]
    if report.skipped_files:
        parts.append(f"{report.skipped_files} unchanged file(s) skipped")
    parts.append(f"{report.seconds:.1f} s ({report.docs_per_second:.1f} docs/s)")
    click.echo(", ".join(parts), err=True)


def finish(report: BuildReport, verb: str) -> None:
    """Summarize and exit 1 when some inputs were rejected."""
    summarize(report, verb)
    sys.exit(1 if report.failures else 0)


if __name__ == "__main__":
    main()
