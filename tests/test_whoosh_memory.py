"""Searchers share one map of each segment and keep no private copy of the index."""

from __future__ import annotations

import gc
import io
import os
import threading
import weakref
from pathlib import Path
from typing import Any

import pytest
from conftest import ENGINE_ARTICLES

from indexer import build_index
from search import SearchEngine
from search.whoosh_memory import SharedCompoundStorage, ViewFile, shared_map

SAMPLE = b"first line\nsecond line\n\x00\x01\x02 no newline at the end"


def _compound_storages(engine: SearchEngine) -> list[Any]:
    return [leaf.storage().a for leaf, _ in engine.searcher().reader().leaf_readers()]


def _in_thread(function: Any) -> Any:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    thread.join()
    return result[0]


@pytest.mark.parametrize(
    "steps",
    [
        [("read", 5), ("read", 0), ("tell",), ("read", -1), ("read", 3)],
        [("readline",), ("readline",), ("readline",), ("readline",)],
        [("seek", 6, 0), ("readline", 3), ("seek", -4, 2), ("read", 10), ("seek", -2, 1)],
        [("seek", 500, 0), ("read", 4), ("tell",), ("read", None)],
    ],
)
def test_view_file_reads_like_bytesio(steps: list[tuple[Any, ...]]) -> None:
    view, reference = ViewFile(memoryview(SAMPLE)), io.BytesIO(SAMPLE)
    for name, *args in steps:
        assert getattr(view, name)(*args) == getattr(reference, name)(*args), (name, args)
    buffer, expected = bytearray(7), bytearray(7)
    assert view.readinto(buffer) == reference.readinto(expected) and buffer == expected


def test_searchers_of_two_threads_share_each_segment_map(engine_index: Path) -> None:
    engine = SearchEngine(engine_index)
    mine = _compound_storages(engine)
    theirs = _in_thread(lambda: _compound_storages(engine))
    assert mine and all(isinstance(storage, SharedCompoundStorage) for storage in mine)
    assert [s._source for s in mine] == [s._source for s in theirs]
    assert all(a is not b for a, b in zip(mine, theirs, strict=True))  # one reader a thread
    assert all(a._source is b._source for a, b in zip(mine, theirs, strict=True))


def test_segment_files_are_read_without_a_copy(engine: SearchEngine) -> None:
    storage = _compound_storages(engine)[0]
    name = next(name for name in storage.list() if name.endswith(".pst"))
    assert isinstance(storage.open_file(name).file, ViewFile)


def test_closing_one_reader_leaves_the_others_working(engine_index: Path) -> None:
    engine = SearchEngine(engine_index)
    expected = [hit.id for hit in engine.search("Maroc").hits]
    _in_thread(lambda: (engine.search("Maroc"), engine.close()))
    assert [hit.id for hit in engine.search("Maroc").hits] == expected
    assert engine.get(expected[0]) is not None


def test_a_map_is_released_with_its_last_reader(tmp_path: Path) -> None:
    build_index([ENGINE_ARTICLES], tmp_path, workers=1)  # an index no other test reads
    engine = SearchEngine(tmp_path)
    maps = [weakref.ref(storage._source) for storage in _compound_storages(engine)]
    assert engine.search("Maroc").hits
    engine.close()
    del engine
    gc.collect()
    assert maps and all(ref() is None for ref in maps)


def test_a_replaced_file_gets_its_own_map(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"old contents")
    with path.open("rb") as handle:
        old = shared_map(handle.fileno())
        with path.open("rb") as again:
            assert shared_map(again.fileno()) is old
    replacement = tmp_path / "file.new"
    replacement.write_bytes(b"new contents, longer")
    os.replace(replacement, path)
    with path.open("rb") as handle:
        assert shared_map(handle.fileno())[:3] == b"new"
    assert old[:3] == b"old"
