"""Parallel segment writing: the same index as one writer, and no failure ever hidden."""

from __future__ import annotations

import os
import signal

import pytest
from whoosh import index as whoosh_index

from indexer import build_index, segments
from indexer.segments import SegmentWriteError, SegmentWriters
from search import Article, SearchEngine, store
from search.schema import to_document


def _docs(count: int) -> list[dict]:
    return [
        to_document(
            Article(
                id=f"a{n}",
                title=f"Élection numéro {n}",
                body=f"Le scrutin {n} a eu lieu.",
                lang="fr",
            )  # fmt: skip
        )
        for n in range(count)
    ]


def _empty_index(tmp_path):
    generation = store.create_generation(tmp_path)
    return generation, whoosh_index.open_dir(str(generation))


def _written_by_two_writers(tmp_path, count: int = 50) -> SearchEngine:
    """``count`` documents written by two segment writers, published; an engine on them."""
    generation, index = _empty_index(tmp_path)
    with SegmentWriters(index, 2, 32) as writers:
        for doc in _docs(count):
            writers.add(doc)
        assert writers.commit() == count
    store.publish(tmp_path, generation)
    return SearchEngine(tmp_path)


def test_segments_hold_every_document(tmp_path, monkeypatch):
    monkeypatch.setattr(segments, "BATCH_DOCS", 7)
    engine = _written_by_two_writers(tmp_path)
    assert engine.document_count() == 50
    assert engine.stats()["segments"] == 2
    assert engine.search("election", per_page=100).total == 50
    assert engine.get("a49").title == "Élection numéro 49"


def test_a_writer_starts_a_new_segment_when_it_holds_too_many_postings(tmp_path, monkeypatch):
    """Postings wait in memory until a segment is written: past HELD_POSTINGS, a writer
    writes what it holds and goes on in a new segment, published with the others."""
    monkeypatch.setattr(segments, "BATCH_DOCS", 5)
    monkeypatch.setattr(segments, "HELD_POSTINGS", 60)  # read by the forked writers
    engine = _written_by_two_writers(tmp_path)
    assert engine.document_count() == 50
    assert engine.stats()["segments"] > 2
    assert engine.search("election", per_page=100).total == 50
    assert engine.search('"scrutin 17"').hits[0].id == "a17"


def test_a_failing_writer_fails_the_commit(tmp_path, monkeypatch):
    monkeypatch.setattr(segments, "BATCH_DOCS", 5)
    _, index = _empty_index(tmp_path)
    docs = _docs(20)
    docs[12]["no_such_field"] = "x"  # add_document raises UnknownFieldError in a child
    with pytest.raises(SegmentWriteError, match="no_such_field"):
        with SegmentWriters(index, 2, 32) as writers:
            for doc in docs:
                writers.add(doc)
            writers.commit()
    assert whoosh_index.open_dir(index.storage.folder).doc_count() == 0


def test_a_killed_writer_fails_the_commit(tmp_path):
    _, index = _empty_index(tmp_path)
    with pytest.raises(SegmentWriteError, match="died"):
        with SegmentWriters(index, 2, 32) as writers:
            os.kill(writers.processes[1].pid, signal.SIGKILL)
            writers.processes[1].join()
            for doc in _docs(300):
                writers.add(doc)
            writers.commit()


def test_parallel_build_matches_serial_build(tmp_path, monkeypatch, engine_articles):
    monkeypatch.setattr(segments, "BATCH_DOCS", 3)
    monkeypatch.setattr("indexer.pipeline.SMALL_INPUT_BYTES", 0)  # use the worker processes
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
