"""Near-duplicate hashes: the hash from the analysis's own words is the hash from its postings."""

from __future__ import annotations

import gc
from itertools import islice

import pytest

from indexer import build_index
from indexer.readers import SAMPLE_CORPUS_DIR, Rejected, list_files, read_file
from indexer.stories import simhash_indexed, simhash_postings
from search.analysis import indexed_text

FILLER = " ".join(f"mot{n} suivant{n}" for n in range(20))


@pytest.mark.parametrize(
    "text",
    [
        # an alias whose folded form was met before the word at its position
        f"Il y a 1000 habitants. {FILLER} Puis 1 000 autres, et 1 000 encore.",
        f"Un porteparole parle. {FILLER} Le porte-parole répond au porte-parole.",
        f"Le porte-parole parle. {FILLER} Un porteparole répond.",
        f"À 12 h 30 et 12h30 : {FILLER} l'armée, O.N.U., e-mail, 3,5 et 1 000 000.",
        "Trop court pour un hash.",
        "",
    ],
)
def test_the_hash_of_the_words_is_the_hash_of_the_postings(text):
    for lang in ("fr", "en"):
        indexed = indexed_text(text, lang)
        assert simhash_indexed(indexed) == simhash_postings(indexed.postings)


def test_the_same_hashes_on_the_sample_corpus():
    articles = (
        item
        for path in list_files([SAMPLE_CORPUS_DIR])
        if not isinstance(path, Rejected)
        for item in read_file(path)
        if not isinstance(item, Rejected)
    )
    hashed = 0
    for article in islice(articles, 400):
        indexed = indexed_text(article.body, article.lang)
        expected = simhash_postings(indexed.postings)
        assert simhash_indexed(indexed) == expected, article.id
        hashed += expected is not None
    assert hashed > 100


def test_a_build_leaves_the_garbage_collector_as_it_found_it(tmp_path, engine_articles):
    assert gc.isenabled()
    build_index(engine_articles, tmp_path / "index", workers=1)
    assert gc.isenabled()
    gc.disable()
    try:
        build_index(engine_articles, tmp_path / "index", workers=1)
        assert not gc.isenabled()
    finally:
        gc.enable()
