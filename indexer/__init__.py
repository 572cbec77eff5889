"""Kiosque's indexer: article files in, a Whoosh index out.

from indexer import build_index, add_documents
report = build_index(["articles/"], "index_data")
"""

from .build import BuildReport, add_documents, build_index, delete_documents
from .locking import IndexBusy

__all__ = ["BuildReport", "IndexBusy", "add_documents", "build_index", "delete_documents"]
