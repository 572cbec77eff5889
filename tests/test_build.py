"""Building and updating indexes: atomic rebuilds, incremental updates, duplicates, locks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer import IndexBusy, add_documents, build_index, delete_documents
from indexer.locking import write_lock
from indexer.readers import SAMPLE_CORPUS_DIR
from search import Article, SearchEngine, store

SEED_PAGE = SAMPLE_CORPUS_DIR / "maghress-seed-page.txt"


def write_jsonl(path: Path, articles: list[Article]) -> Path:
    path.write_text(
        "\n".join(json.dumps(a.to_dict(), ensure_ascii=False) for a in articles), encoding="utf-8"
    )
    return path


def test_seed_page_is_found_first_with_its_fields(tmp_path):
    report = build_index([SEED_PAGE], tmp_path, workers=1)
    assert report.indexed == 1 and not report.failures
    hit = SearchEngine(tmp_path).search("Blinken Marrakech").hits[0]
    assert hit.title == "Antony Blinken attendu au Maroc pour réunion de la coalition anti-Daech"
    assert hit.source == "Maroc Diplomatique"
    assert hit.date.isoformat() == "2022-04-20"
    assert hit.lang == "fr"


def test_ticker_headlines_are_not_indexed(tmp_path):
    build_index([SEED_PAGE], tmp_path, workers=1)
    engine = SearchEngine(tmp_path)
    # "Kamaz" and "Niamey" appear only in the page's ticker of other headlines
    assert engine.search("Kamaz").total == 0
    assert engine.search("Niamey").total == 0


def test_workers_give_the_same_index(tmp_path, engine_articles):
    source = write_jsonl(tmp_path / "a.jsonl", engine_articles)
    serial = build_index([source], tmp_path / "one", workers=1)
    parallel = build_index([source], tmp_path / "two", workers=2)
    assert serial.indexed == parallel.indexed == len(engine_articles)
    one, two = SearchEngine(tmp_path / "one"), SearchEngine(tmp_path / "two")
    for query in ("élection", "Kyrgyzstan", "football"):
        assert [h.id for h in one.search(query).hits] == [h.id for h in two.search(query).hits]


def test_duplicates_are_indexed_once_and_counted(tmp_path, engine_articles):
    first = engine_articles[0]
    same_url = Article(
        id="copy-1", title="Autre titre", body="Autre texte.", url=first.url, lang="fr"
    )
    same_text = Article(id="copy-2", title=first.title.upper(), body=first.body + "  ", lang="fr")
    report = build_index(
        [write_jsonl(tmp_path / "d.jsonl", [first, same_url, same_text])], tmp_path / "index"
    )
    assert (report.indexed, report.duplicates) == (1, 2)


def test_add_replaces_by_id_and_skips_unchanged_files(tmp_path, engine_articles):
    index_dir = tmp_path / "index"
    source = write_jsonl(tmp_path / "a.jsonl", engine_articles[:3])
    assert add_documents([source], index_dir).indexed == 3
    again = add_documents([source], index_dir)
    assert again.indexed == 0 and again.skipped_files == 1
    changed = Article(
        id=engine_articles[0].id, title="Titre corrigé", body="Texte corrigé.", lang="fr"
    )
    add_documents([changed], index_dir)
    engine = SearchEngine(index_dir)
    assert engine.document_count() == 3
    assert engine.get(changed.id).title == "Titre corrigé"


def test_an_id_repeated_in_one_addition_is_written_once(tmp_path, engine_articles):
    """Whoosh's update_document replaces documents of earlier commits only: without the
    check, both records of one file with the same id were written."""
    index_dir = tmp_path / "index"
    build_index(engine_articles[:2], index_dir, workers=1)
    first = Article(id="same", title="Premier titre", body="Le port de Rabat.", lang="fr")
    second = Article(id="same", title="Second titre", body="Le port de Casablanca.", lang="fr")
    report = add_documents([write_jsonl(tmp_path / "twice.jsonl", [first, second])], index_dir)
    assert (report.indexed, report.duplicates) == (1, 1)
    engine = SearchEngine(index_dir)
    assert engine.document_count() == 3
    assert engine.get("same").title == "Premier titre"
    assert engine.search("Casablanca").total == 0


def test_many_small_additions_merge_their_segments(tmp_path, engine_articles):
    """Whoosh merges small segments at commit; one-article segments hold inlined postings
    (whoosh_patches), which made every such merge fail from about the fifth addition."""
    index_dir = tmp_path / "index"
    build_index(engine_articles[:10], index_dir, workers=1)
    added = engine_articles[10:22]
    for article in added:
        assert add_documents([article], index_dir).indexed == 1
    ix = store.open_index(index_dir)
    with ix.reader() as reader:
        segments = len(list(reader.leaf_readers()))
    assert segments < len(added), "no merge happened: the test no longer tests merging"
    engine = SearchEngine(index_dir, cache_size=0)
    assert engine.document_count() == 22
    assert all(engine.get(article.id).title == article.title for article in added)
    first = added[0]
    assert first.id in [hit.id for hit in engine.search(f'"{first.title}"', per_page=100).hits]
    assert delete_documents([first.id], index_dir) == [first.id]
    assert SearchEngine(index_dir).document_count() == 21


def test_delete_removes_and_a_readd_reads_the_file_again(tmp_path, engine_articles):
    index_dir = tmp_path / "index"
    source = write_jsonl(tmp_path / "a.jsonl", engine_articles[:3])
    add_documents([source], index_dir)
    assert delete_documents([engine_articles[1].id, "unknown"], index_dir) == [
        engine_articles[1].id
    ]
    assert SearchEngine(index_dir).document_count() == 2
    assert add_documents([source], index_dir).indexed == 3


def test_bad_inputs_are_named_and_the_rest_is_indexed(tmp_path, engine_articles):
    good = write_jsonl(tmp_path / "good.jsonl", engine_articles[:2])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "ok", "body": "fine"}\n{broken\n{"title": "no body"}\n')
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    report = build_index([good, bad, empty, tmp_path / "missing.json"], tmp_path / "index")
    assert report.indexed == 3
    reasons = dict(report.failures)
    assert f"{bad}:2" in reasons and f"{bad}:3" in reasons
    assert str(empty) in reasons and str(tmp_path / "missing.json") in reasons


def test_a_second_writer_waits_then_fails_clearly(tmp_path, engine_articles):
    with write_lock(tmp_path):
        with pytest.raises(IndexBusy, match="another process"):
            add_documents(engine_articles[:1], tmp_path, lock_timeout=0.2)
    assert add_documents(engine_articles[:1], tmp_path).indexed == 1


def test_a_failed_build_leaves_the_previous_index(tmp_path, engine_articles, monkeypatch):
    build_index([write_jsonl(tmp_path / "a.jsonl", engine_articles)], tmp_path / "index")
    before = [h.id for h in SearchEngine(tmp_path / "index").search("élection").hits]

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("indexer.build._write", explode)
    with pytest.raises(RuntimeError):
        build_index([tmp_path / "a.jsonl"], tmp_path / "index")
    generations = [p for p in (tmp_path / "index").iterdir() if p.name.startswith("gen-")]
    assert len(generations) == 1
    assert [h.id for h in SearchEngine(tmp_path / "index").search("élection").hits] == before


def test_killing_a_build_leaves_the_previous_index_answering(tmp_path, engine_articles):
    index_dir = tmp_path / "index"
    build_index([write_jsonl(tmp_path / "small.jsonl", engine_articles)], index_dir)
    engine = SearchEngine(index_dir)
    before = {q: [h.id for h in engine.search(q).hits] for q in ("élection", "football")}
    big = tmp_path / "big.jsonl"
    with big.open("w", encoding="utf-8") as out:
        for copy in range(300):
            for article in engine_articles:
                record = article.to_dict() | {
                    "id": f"{article.id}-{copy}",
                    "url": f"{article.url}?{copy}",
                    "body": f"{article.body} copie {copy}",
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    command = [
        sys.executable,
        "-m",
        "web.cli",
        "index",
        "build",
        str(big),
        "--index-dir",
        str(index_dir),
        "--workers",
        "1",
    ]
    for delay in (0.5, 1.5, 3.0):
        process = subprocess.Popen(
            command,
            cwd=Path(__file__).parents[1],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        after = SearchEngine(index_dir)
        assert after.document_count() == len(engine_articles)
        assert {q: [h.id for h in after.search(q).hits] for q in before} == before
        assert {q: [h.id for h in engine.search(q).hits] for q in before} == before
    assert store.current_generation(index_dir).is_dir()
