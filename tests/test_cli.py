"""The kiosque command through click's runner, on real indexes."""

from __future__ import annotations

import json

from click.testing import CliRunner

from indexer.readers import SAMPLE_CORPUS_DIR
from web.cli import main

SEED_PAGE = str(SAMPLE_CORPUS_DIR / "maghress-seed-page.txt")


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None):
    return CliRunner().invoke(main, list(args), env=env, input=input)


def test_build_then_search_json_gives_the_seed_article(tmp_path):
    built = run("index", "build", SEED_PAGE, "--index-dir", str(tmp_path))
    assert built.exit_code == 0, built.output
    assert "1 indexed" in built.output
    result = run("search", "Blinken Marrakech", "--json", "--index-dir", str(tmp_path))
    assert result.exit_code == 0
    data = json.loads(result.output)
    first = data["hits"][0]
    assert (
        first["title"] == "Antony Blinken attendu au Maroc pour réunion de la coalition anti-Daech"
    )
    assert (first["source"], first["date"], first["lang"]) == (
        "Maroc Diplomatique",
        "2022-04-20",
        "fr",
    )
    assert set(data) >= {"query", "total", "page", "per_page", "suggestion", "hits", "facets"}


def test_index_dir_from_the_environment(tmp_path):
    env = {"KIOSQUE_INDEX_DIR": str(tmp_path)}
    assert run("index", "build", SEED_PAGE, env=env).exit_code == 0
    result = run("search", "coalition", env=env)
    assert result.exit_code == 0 and "Antony Blinken" in result.output


def test_text_output_lists_hits(tmp_path):
    run("index", "build", SEED_PAGE, "--index-dir", str(tmp_path))
    result = run("search", "Daech", "--index-dir", str(tmp_path))
    assert "1 result(s)" in result.output and "Maroc Diplomatique" in result.output


def test_missing_index_exits_2_with_a_hint(tmp_path):
    result = run("search", "x", "--index-dir", str(tmp_path / "none"))
    assert result.exit_code == 2
    assert "kiosque index build" in result.output
    assert run("index", "stats", "--index-dir", str(tmp_path / "none")).exit_code == 2


def test_usage_errors_exit_2(tmp_path):
    assert run("search").exit_code == 2
    assert run("search", "x", "--sort", "random", "--index-dir", str(tmp_path)).exit_code == 2
    run("index", "build", SEED_PAGE, "--index-dir", str(tmp_path))
    bad_date = run("search", "x", "--from", "2022-13-01", "--index-dir", str(tmp_path))
    assert bad_date.exit_code == 2 and "from" in bad_date.output


def test_rejected_inputs_exit_1_and_are_named(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "t", "body": "b"}\n{oops\n')
    result = run("index", "build", str(bad), "--index-dir", str(tmp_path / "i"))
    assert result.exit_code == 1
    assert f"{bad}:2" in result.output and "1 indexed" in result.output


def test_add_from_stdin_delete_and_stats(tmp_path):
    index = ["--index-dir", str(tmp_path)]
    records = "\n".join(
        json.dumps(
            {
                "id": f"n{i}",
                "title": f"Note {i}",
                "body": "Un texte.",
                "lang": "fr",
                "date": "2021-05-0" + str(i + 1),
            }
        )
        for i in range(3)
    )
    added = run("index", "add", "-", *index, input=records)
    assert added.exit_code == 0, added.output
    stats = json.loads(run("index", "stats", "--json", *index).output)
    assert stats["documents"] == 3 and stats["facets"]["year"] == {"2021": 3}
    deleted = run("index", "delete", "n1", "zzz", *index)
    assert deleted.exit_code == 1 and "not found: zzz" in deleted.output
    assert json.loads(run("index", "stats", "--json", *index).output)["documents"] == 2


def test_default_workers_is_one_per_core_at_most_four(monkeypatch) -> None:  # noqa: ANN001
    from web import cli

    monkeypatch.setattr(cli.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert cli.default_workers() == cli.MAX_DEFAULT_WORKERS == 4
    monkeypatch.setattr(cli.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert cli.default_workers() == 2
