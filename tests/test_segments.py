"""Workers that write their own segments: the same index as one writer, no failure ever hidden."""

from __future__ import annotations

import json
import os
import signal
import threading

import pytest
from whoosh import index as whoosh_index

from indexer import build_index, language, pipeline, segments
from indexer.pipeline import CHUNK_ARTICLES, Summary, warm_up
from indexer.postings import MemorySegmentWriter
from indexer.segments import SegmentWorkers, SegmentWriteError
from search import Article, SearchEngine, store


def _chunk(start: int, count: int) -> list[tuple[str, Article]]:
    return [
        (
            "<test>",
            Article(
                id=f"a{n}",
                title=f"Élection numéro {n}",
                body=f"Le scrutin {n} a eu lieu.",
                lang="fr",
            ),
        )
        for n in range(start, start + count)
    ]


def _empty_index(tmp_path):
    generation = store.create_generation(tmp_path)
    return generation, whoosh_index.open_dir(str(generation))


def _write_all(workers: SegmentWorkers, count: int, size: int = 7) -> None:
    """``count`` articles in chunks of ``size``, each decided to be written, in its own story."""
    for start in range(0, count, size):
        ticket = workers.prepare(_chunk(start, min(size, count - start)))
        summaries = ticket.get()
        assert all(isinstance(item, Summary) for item in summaries)
        workers.write(ticket, [(n, item.id) for n, item in enumerate(summaries)])


def _written_by_two_workers(tmp_path, count: int = 50) -> SearchEngine:
    """``count`` documents written by two segment workers, published; an engine on them."""
    warm_up()
    generation, index = _empty_index(tmp_path)
    with SegmentWorkers(index, 2, 32) as workers:
        _write_all(workers, count)
        assert workers.commit() == count
    store.publish(tmp_path, generation)
    return SearchEngine(tmp_path)


def test_segments_hold_every_document(tmp_path):
    engine = _written_by_two_workers(tmp_path)
    assert engine.document_count() == 50
    assert engine.stats()["segments"] == 2
    assert engine.search("election", per_page=100).total == 50
    assert engine.get("a49").title == "Élection numéro 49"


def test_only_the_decided_articles_are_written(tmp_path):
    """A worker writes the articles of a chunk it is told to, in the story it is told."""
    generation, index = _empty_index(tmp_path)
    with SegmentWorkers(index, 2, 32) as workers:
        ticket = workers.prepare(_chunk(0, 6))
        ticket.get()
        workers.write(ticket, [(1, "a1"), (4, "a1")])
        assert workers.commit() == 2
    store.publish(tmp_path, generation)
    engine = SearchEngine(tmp_path)
    assert engine.document_count() == 2
    assert engine.get("a4").story == "a1"
    assert engine.get("a0") is None


def test_a_worker_starts_a_new_segment_when_it_holds_too_many_postings(tmp_path, monkeypatch):
    """Postings wait in memory until a segment is written: past HELD_POSTINGS, a worker
    writes what it holds and goes on in a new segment, published with the others."""
    monkeypatch.setattr(segments, "HELD_POSTINGS", 60)  # read by the forked workers
    engine = _written_by_two_workers(tmp_path)
    assert engine.document_count() == 50
    assert engine.stats()["segments"] > 2
    assert engine.search("election", per_page=100).total == 50
    assert engine.search('"scrutin 17"').hits[0].id == "a17"


def test_a_failing_worker_fails_the_commit(tmp_path, monkeypatch):
    def document(item, story):
        doc = pipeline.document(item, story)
        if item.article.id == "a12":
            doc["no_such_field"] = "x"  # add_document raises UnknownFieldError in a child
        return doc

    monkeypatch.setattr(segments, "document", document)  # before the workers fork
    _, index = _empty_index(tmp_path)
    with pytest.raises(SegmentWriteError, match="no_such_field"):
        with SegmentWorkers(index, 2, 32) as workers:
            _write_all(workers, 20)
            workers.commit()
    assert whoosh_index.open_dir(index.storage.folder).doc_count() == 0


def test_a_segment_written_in_the_background_that_fails_fails_the_commit(tmp_path, monkeypatch):
    """A full segment is written by a thread of its worker while the next one fills:
    its failure is still reported, and nothing is published."""
    original = MemorySegmentWriter._flush_segment

    def flush(self):
        if threading.current_thread() is not threading.main_thread():
            raise OSError("no space left on device (injected)")
        original(self)

    monkeypatch.setattr(segments, "HELD_POSTINGS", 60)  # read by the forked workers
    monkeypatch.setattr(MemorySegmentWriter, "_flush_segment", flush)
    _assert_commit_fails(tmp_path, r"(?s)writing a segment failed.*injected")


def _assert_commit_fails(tmp_path, match):
    """Writing 50 articles with two workers fails with ``match``, and nothing is published."""
    generation, index = _empty_index(tmp_path)
    with pytest.raises(SegmentWriteError, match=match):
        with SegmentWorkers(index, 2, 32) as workers:
            _write_all(workers, 50)
            workers.commit()
    assert whoosh_index.open_dir(str(generation)).doc_count() == 0


def test_a_job_that_raises_reports_its_traceback(tmp_path):
    _, index = _empty_index(tmp_path)
    with pytest.raises(SegmentWriteError, match="ZeroDivisionError"):
        with SegmentWorkers(index, 2, 32) as workers:
            workers.apply_async(divmod, (1, 0)).get()


def test_a_killed_worker_fails_the_build(tmp_path):
    _, index = _empty_index(tmp_path)
    with pytest.raises(SegmentWriteError, match="died"):
        with SegmentWorkers(index, 2, 32) as workers:
            os.kill(workers.processes[1].pid, signal.SIGKILL)
            workers.processes[1].join()
            _write_all(workers, 300)
            workers.commit()


def test_a_worker_that_writes_fewer_documents_fails_the_commit(tmp_path, monkeypatch):
    """The count written by each worker must equal the count decided for it."""
    original = segments._Owner.write

    def write_one_less(self, ticket, decisions):
        original(self, ticket, decisions[:-1] if ticket == 3 else decisions)

    monkeypatch.setattr(segments._Owner, "write", write_one_less)  # before the workers fork
    _assert_commit_fails(tmp_path, r"wrote \d+ of \d+ documents")


def test_parallel_build_matches_serial_build(tmp_path, monkeypatch, engine_articles):
    monkeypatch.setattr("indexer.pipeline.SMALL_INPUT_BYTES", 0)  # use the worker processes
    monkeypatch.setattr("indexer.pipeline.CHUNK_ARTICLES", 3)  # chunks in both workers
    serial = build_index(engine_articles, tmp_path / "one", workers=1)
    parallel = build_index(engine_articles, tmp_path / "two", workers=2)
    assert serial.indexed == parallel.indexed == len(engine_articles)
    assert serial.grouped == parallel.grouped
    one, two = SearchEngine(tmp_path / "one"), SearchEngine(tmp_path / "two")
    assert two.stats()["segments"] == 2
    for query in ("élection", "Kyrgyzstan", "football", '"coupe du monde"'):
        first, second = one.search(query, per_page=50), two.search(query, per_page=50)
        assert first.total == second.total
        assert sorted(h.id for h in first.hits) == sorted(h.id for h in second.hits)
        assert first.facets == second.facets
    stories = {doc_id: one.get(doc_id).story for doc_id in (a.id for a in engine_articles)}
    assert {doc_id: two.get(doc_id).story for doc_id in stories} == stories
    assert CHUNK_ARTICLES > 3  # the real size is back


def test_workers_detect_the_language_of_articles_without_one(tmp_path, monkeypatch):
    """The build's main process does not load the language model before the workers
    fork (records that give their language never need it); a worker loads it for an
    article without a language."""
    monkeypatch.setattr("indexer.pipeline.SMALL_INPUT_BYTES", 0)  # use the worker processes
    monkeypatch.setattr("indexer.language._identifier", None)  # as in a fresh process
    records = [
        {"id": "fr1", "title": "Le gouvernement annonce une réforme", "body": "Les députés "
         "ont voté la loi sur les retraites après un long débat à l'Assemblée nationale."},
        {"id": "en1", "title": "The government announces a reform", "body": "Members of "
         "parliament voted the pension law after a long debate in the national assembly."},
    ]  # fmt: skip
    source = tmp_path / "feed.jsonl"
    source.write_text("\n".join(json.dumps(record) for record in records), encoding="utf-8")
    report = build_index([source], tmp_path / "index", workers=2)
    assert report.indexed == 2
    assert language._identifier is None  # loaded by the workers only
    engine = SearchEngine(tmp_path / "index")
    assert (engine.get("fr1").lang, engine.get("en1").lang) == ("fr", "en")
