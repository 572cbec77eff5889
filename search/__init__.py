"""Kiosque's search library: analysis, schema, engine and snippets.

The embeddable API::

    from search import SearchEngine
    engine = SearchEngine("index_data")
    page = engine.search("Blinken Maroc")
"""

from .engine import SearchEngine, SearchError
from .records import Article, RecordError
from .results import Hit, ResultPage, StoryMember
from .schema import SCHEMA_VERSION
from .store import IndexNotFound

__all__ = [
    "SCHEMA_VERSION",
    "Article",
    "Hit",
    "IndexNotFound",
    "RecordError",
    "ResultPage",
    "SearchEngine",
    "SearchError",
    "StoryMember",
]
