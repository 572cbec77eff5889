"""Whoosh reading without a private copy of the index per searcher.

whoosh-reloaded 2.7.5 maps each compound segment file (``*.seg``) with
``mmap`` and hands out its parts as ``BufferFile`` objects, but
``BufferFile.__init__`` wraps its buffer in ``io.BytesIO(buf)``, and
``BytesIO`` copies a memoryview it is given. Every searcher therefore held a
private copy of the postings and term files of every segment it opened
(about 50 MB a searcher on the 3,300-article sample index, 180 MB on the
26,000-article one), and since Kiosque keeps one searcher per server thread,
a ``kiosque serve`` process grew to 900 MB (sample) and 2.9 GB (26k) after
50 requests. And each searcher mapped each segment again: a page of the
index read by eight threads counted eight times in the process's RSS.

:func:`apply` patches two things, for every process that opens an index:

* ``BufferFile`` reads a memoryview through :class:`ViewFile`, a file object
  that slices the view instead of copying it (``BytesIO`` still wraps
  ``bytes``, which it shares without copying);
* a compound segment is mapped once per process, whatever the number of
  readers (:func:`shared_map`); the map is released when its last reader and
  its last view are gone, so a merged-away segment does not stay mapped.
"""

from __future__ import annotations

import mmap
import os
import threading
import weakref
from io import BytesIO
from typing import Any

from whoosh.codec import base as codec_base
from whoosh.filedb import compound, structfile

__all__ = ["ViewFile", "apply", "shared_map"]


class ViewFile:
    """A read-only file over a memoryview: reads slice it, nothing is copied up front."""

    __slots__ = ("_view", "_pos")

    def __init__(self, view: memoryview) -> None:
        self._view = view
        self._pos = 0

    def read(self, size: int | None = -1) -> bytes:
        start = self._pos
        end = len(self._view) if size is None or size < 0 else min(start + size, len(self._view))
        self._pos = max(start, end)
        return bytes(self._view[start:end])

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(memoryview(buffer).cast("B")))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        start = self._pos
        limit = len(self._view) if size is None or size < 0 else min(start + size, len(self._view))
        end = start
        view = self._view
        while end < limit:
            end += 1
            if view[end - 1] == 10:  # b"\n"
                break
        self._pos = end
        return bytes(view[start:end])

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            offset += self._pos
        elif whence == os.SEEK_END:
            offset += len(self._view)
        if offset < 0:
            raise ValueError(f"negative seek position {offset}")
        self._pos = offset
        return offset

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        """Nothing to flush: the file is read-only."""

    def close(self) -> None:
        """Drop the view (the mapping it came from is closed when no view is left)."""
        self._view = memoryview(b"")
        self._pos = 0


def _buffer_file_init(
    self: structfile.BufferFile, buf: Any, name: str | None = None, onclose: Any = None
) -> None:
    self._buf = buf
    self._name = name
    self.file = BytesIO(buf) if isinstance(buf, bytes) else ViewFile(memoryview(buf))
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


_maps: weakref.WeakValueDictionary[tuple[int, int, int, int], mmap.mmap] = (
    weakref.WeakValueDictionary()
)
_maps_lock = threading.Lock()


def shared_map(fileno: int) -> mmap.mmap:
    """A read-only map of a whole file, shared by every caller in the process.

    The file is identified by device, inode, size and modification time, so
    a file replaced under the same name gets a map of its own.
    """
    stat = os.fstat(fileno)
    key = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _maps_lock:
        mapped = _maps.get(key)
        if mapped is None:
            mapped = mmap.mmap(fileno, 0, access=mmap.ACCESS_READ)
            _maps[key] = mapped
        return mapped


class SharedCompoundStorage(compound.CompoundStorage):
    """A compound segment read through the process's one map of its file."""

    def __init__(self, dbfile: structfile.StructFile) -> None:
        self._file = dbfile
        self.is_closed = False
        self._locks: dict[str, Any] = {}
        dbfile.seek(0)
        diroffset = dbfile.read_long()
        dbfile.read_int()  # the directory's length
        dbfile.seek(diroffset)
        self._dir = dbfile.read_pickle()
        self._options = dbfile.read_pickle()
        self._source = shared_map(dbfile.fileno())
        dbfile.close()
        self._file = None

    def close(self) -> None:
        """Forget the shared map (other readers may still use it; it closes with the last)."""
        if self.is_closed:
            raise Exception("Already closed")  # as Whoosh's CompoundStorage does
        self.is_closed = True
        self._source = None


def _open_compound_file(self: codec_base.Segment, storage: Any) -> compound.CompoundStorage:
    dbfile = storage.open_file(self.make_filename(self.COMPOUND_EXT))
    if getattr(storage, "supports_mmap", False) and getattr(dbfile, "is_real", False):
        return SharedCompoundStorage(dbfile)
    return compound.CompoundStorage(dbfile, use_mmap=False)


def apply() -> None:
    """Patch whoosh-reloaded in this process (idempotent)."""
    structfile.BufferFile.__init__ = _buffer_file_init  # type: ignore[method-assign]
    codec_base.Segment.open_compound_file = _open_compound_file  # type: ignore[method-assign]
