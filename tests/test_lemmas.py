"""The French lemma table: derived from the installed simplemma once, then read from a file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from search import lemmas


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache folder for the table, and the process's table forgotten around the test."""
    monkeypatch.setenv("KIOSQUE_CACHE_DIR", str(tmp_path))
    lemmas.lemma_table.cache_clear()
    lemmas.identity.cache_clear()
    yield tmp_path
    lemmas.lemma_table.cache_clear()
    lemmas.identity.cache_clear()


def _refuse(lang: str) -> dict[str, str]:
    raise AssertionError("derived again instead of read from the cache file")


def test_the_table_is_derived_once_then_read_from_its_file(cache_dir: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    table = lemmas.lemma_table("fr")
    assert table["naquit"] == "naitre" and table["premiere"] == "premier"
    assert "ete" not in table and "paris" not in table  # the summer, the city
    path = lemmas.cache_path("fr")
    assert path is not None and path.parent == cache_dir and path.exists()

    lemmas.lemma_table.cache_clear()
    monkeypatch.setattr(lemmas, "derive", _refuse)
    assert lemmas.lemma_table("fr") == table


def test_a_damaged_cache_file_is_derived_again(cache_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    lemmas.cache_path("fr").write_text("half a line without its tab\n", encoding="utf-8")
    monkeypatch.setattr(lemmas, "derive", lambda lang: {"naquit": "naitre"})
    assert lemmas.lemma_table("fr") == {"naquit": "naitre"}
    assert lemmas.cache_path("fr").read_text(encoding="utf-8") == "naquit\tnaitre\n"


def test_a_cache_that_cannot_be_written_costs_only_the_file(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("", encoding="utf-8")
    lemmas._write(blocked / "lemmas.tsv", {"naquit": "naitre"})  # its folder is a file
    assert blocked.read_text(encoding="utf-8") == ""


def test_a_user_without_a_home_folder_has_no_cache_file(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("KIOSQUE_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert lemmas.cache_path("fr") is None


def test_only_french_has_a_table() -> None:
    assert lemmas.lemma_table("en") == {} and lemmas.lemma_table("es") == {}


def test_commands_say_when_they_derive_the_table(cache_dir: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from web.cli import main

    article = tmp_path / "article.txt"
    article.write_text("Victor Hugo naquit à Besançon.\n\nIl y naquit en 1802.", encoding="utf-8")
    build = ["index", "build", str(article), "--index-dir", str(tmp_path / "index")]
    first = CliRunner().invoke(main, build)
    assert first.exit_code == 0 and "deriving the French lemma table" in first.output
    assert lemmas.cache_path("fr").exists()
    again = CliRunner().invoke(main, ["search", "naître", "--index-dir", str(tmp_path / "index")])
    assert again.exit_code == 0 and "deriving" not in again.output
    assert "Victor Hugo" in again.output
