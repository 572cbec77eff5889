"""Readers: every input format, every kind of bad input and the reason it gives."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer import readers
from indexer.decoding import DecodeError, decode_bytes, decode_document
from indexer.jsonrecords import MAX_LINE_BYTES
from indexer.readers import (
    MAX_FILE_BYTES,
    SAMPLE_CORPUS_DIR,
    Rejected,
    list_files,
    parse_records,
    read_file,
    read_stream,
)
from search.records import Article

FIXTURES = Path(__file__).parent / "fixtures"
BAD = FIXTURES / "bad"


def only_article(path: Path) -> Article:
    [item] = read_file(path)
    assert isinstance(item, Article), item
    return item


def reasons(items: list[Article | Rejected]) -> list[tuple[int | None, str]]:
    return [(item.line, item.reason) for item in items if isinstance(item, Rejected)]


def manifest(folder: str) -> dict[str, Any]:
    return json.loads((FIXTURES / folder / "expected.json").read_text(encoding="utf-8"))


# --- JSON and JSONL ----------------------------------------------------------------------


def test_jsonl_malformed_line_is_rejected_and_the_rest_read() -> None:
    items = read_file(BAD / "malformed-line-3.jsonl")
    titles = [item.title for item in items if isinstance(item, Article)]
    assert len(titles) == 3 and titles[2] == "Bank of America reports losses of over US$2.2 billion"
    assert reasons(items) == [
        (3, "invalid JSON (Expecting ',' delimiter)"),
        (6, "record has no title"),
        (7, "record has no body"),
        (8, "date '31/02/2020' is not YYYY-MM-DD or ISO 8601"),
    ]
    assert (
        str(items[2])
        == f"{BAD / 'malformed-line-3.jsonl'}:3: invalid JSON (Expecting ',' delimiter)"
    )


def test_json_array_with_bad_records() -> None:
    items = read_file(BAD / "array-with-bad-records.json")
    assert [type(item).__name__ for item in items] == [
        "Article", "Rejected", "Rejected", "Rejected", "Article",
    ]  # fmt: skip
    assert reasons(items) == [
        (None, "record 2: record has no title"),
        (None, "record 3: record has no body"),
        (None, "record 4: a record must be a JSON object, not str"),
    ]


def test_json_single_record_keeps_every_field(tmp_path: Path) -> None:
    record = {
        "id": "x1",
        "title": "Titre",
        "body": "Le gouvernement a présenté son budget.",
        "date": "2021-03-04T10:00:00Z",
        "source": "Le Journal",
        "url": "https://example.org/x1",
        "lang": "fr-FR",
    }
    path = tmp_path / "one.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    article = only_article(path)
    assert (article.id, article.title, article.body, article.source, article.url) == (
        "x1", "Titre", record["body"], "Le Journal", "https://example.org/x1",
    )  # fmt: skip
    assert article.date == dt.date(2021, 3, 4)
    assert article.lang == "fr"  # the record's own language, its primary subtag


def test_json_file_holding_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "lines.json"
    lines = [{"title": f"Titre {n}", "body": "Le texte de l'article."} for n in range(3)]
    path.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    assert [item.title for item in read_file(path) if isinstance(item, Article)] == [
        "Titre 0", "Titre 1", "Titre 2",
    ]  # fmt: skip


def test_pretty_printed_json_error_has_its_line(tmp_path: Path) -> None:
    path = tmp_path / "pretty.json"
    path.write_text('{\n  "title": "x",\n  "body" "y"\n}\n', encoding="utf-8")
    assert reasons(read_file(path)) == [(3, "invalid JSON (Expecting ':' delimiter)")]


def test_not_json() -> None:
    assert reasons(read_file(BAD / "not-json.json")) == [(1, "invalid JSON (Expecting value)")]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("[]", "empty array: no records"),
        ("42", "a JSON document must be a record or an array, not int"),
        ("[" * 100_000 + "]" * 100_000, "invalid JSON (maximum recursion depth exceeded"),
        (
            '{"title": "x", "body": "y", "id": ' + "9" * 5000 + "}",
            "invalid JSON (Exceeds the limit",
        ),
    ],
    ids=["empty-array", "number", "deeply-nested", "huge-number"],
)
def test_json_documents_that_are_not_records(content: str, reason: str) -> None:
    [(line, got)] = reasons(parse_records(content, "post"))
    assert line is None and got.startswith(reason)


def test_parse_records_accepts_bytes_text_and_jsonl() -> None:
    record = {"title": "Titre", "body": "Un texte en français, assez long pour la langue."}
    for data in (json.dumps(record), json.dumps([record]).encode(), json.dumps(record) + "\n"):
        [article] = parse_records(data, "post")
        assert isinstance(article, Article) and article.lang == "fr"
    assert reasons(parse_records(b"", "post")) == [(None, "empty file")]
    assert reasons(parse_records(b"\x00\x01\x02", "post")) == [(None, "binary file")]


def test_jsonl_bom_cp1252_line_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    good = json.dumps({"title": "Premier", "body": "Texte."}).encode()
    legacy = '{"title": "Deuxième", "body": "Été"}'.encode("cp1252")
    path.write_bytes(b"\xef\xbb\xbf" + good + b"\r\n\r\n   \n" + legacy + b"\n")
    items = read_file(path)
    assert [item.title for item in items if isinstance(item, Article)] == ["Premier", "Deuxième"]


def test_jsonl_gz_sample_corpus() -> None:
    french = read_file(SAMPLE_CORPUS_DIR / "wikinews-fr.jsonl.gz")
    english = read_file(SAMPLE_CORPUS_DIR / "wikinews-en.jsonl.gz")
    assert len(french) == 1291 and len(english) == 2000
    assert all(isinstance(item, Article) and item.lang == "fr" for item in french)
    assert all(isinstance(item, Article) and item.lang == "en" for item in english)
    assert all(item.url.startswith("https://en.wikinews.org/") for item in english)


def test_sample_corpus_files_stay_small() -> None:
    for path in SAMPLE_CORPUS_DIR.glob("*.jsonl.gz"):
        assert path.stat().st_size < 2 * 1024 * 1024
    notice = (SAMPLE_CORPUS_DIR / "NOTICE").read_text(encoding="utf-8")
    assert "https://creativecommons.org/licenses/by/2.5/" in notice and "Wikinews" in notice


def test_truncated_gzip_keeps_the_records_before_the_damage(tmp_path: Path) -> None:
    lines = b"".join(
        json.dumps({"title": f"T{n}", "body": "Texte " * 50}).encode() + b"\n" for n in range(200)
    )
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gzip.compress(lines)[:-40])
    items = read_file(path)
    assert sum(isinstance(item, Article) for item in items) > 100
    [rejected] = [item for item in items if isinstance(item, Rejected)]
    assert rejected.reason.startswith("read error after line")


def test_not_really_gzip(tmp_path: Path) -> None:
    path = tmp_path / "plain.jsonl.gz"
    path.write_text('{"title": "x", "body": "y"}\n', encoding="utf-8")
    [rejected] = read_file(path)
    assert isinstance(rejected, Rejected) and "Not a gzipped file" in rejected.reason


def test_read_stream_from_stdin_like_streams() -> None:
    data = b'{"title": "A", "body": "Texte."}\n\nnot json\n{"title": "B", "body": "Texte."}\n'
    items = list(read_stream(io.BytesIO(data)))
    assert [getattr(item, "title", None) for item in items] == ["A", None, "B"]
    assert str(items[1]) == "<stdin>:3: invalid JSON (Expecting value)"
    assert [str(item) for item in read_stream(io.BytesIO(b""))] == ["<stdin>: empty input"]
    utf16 = '{"title": "A", "body": "B"}\n'.encode("utf-16")
    assert [item.reason for item in read_stream(io.BytesIO(utf16), "x")] == [
        "UTF-16 JSONL is not supported (convert it to UTF-8)"
    ]


def test_jsonl_line_over_the_limit_is_skipped_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge-line.jsonl"
    with path.open("wb") as stream:
        stream.write(b'{"title": "before", "body": "x"}\n{"title": "')
        chunk = b"a" * (1024 * 1024)
        for _ in range(MAX_LINE_BYTES // len(chunk) + 1):
            stream.write(chunk)
        stream.write(b'", "body": "x"}\n{"title": "after", "body": "y"}\n')
    items = read_file(path)
    assert [getattr(item, "title", None) for item in items] == ["before", None, "after"]
    assert items[1] == Rejected(str(path), "line too long (over 50.0 MB)", 2)


# --- text, HTML, encodings ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(manifest("plain")["pages"]))
def test_plain_text_articles(name: str) -> None:
    expected = manifest("plain")["pages"][name]
    article = only_article(FIXTURES / "plain" / name)
    assert article.title == expected["title"]
    assert article.body.split("\n\n") == expected["paragraphs"]
    assert article.lang == expected["lang"]
    assert (article.source, article.url, article.date) == ("", "", None)


@pytest.mark.parametrize("name", sorted(manifest("html")["pages"]))
def test_html_pages(name: str) -> None:
    html = manifest("html")
    expected = html["pages"][name]
    article = only_article(FIXTURES / "html" / name)
    assert article.title == expected["title"]
    assert article.source == expected["source"]
    assert article.url == expected["url"]
    assert article.date == (dt.date.fromisoformat(expected["date"]) if expected["date"] else None)
    assert article.lang == expected["lang"]
    assert article.body.split("\n\n") == expected["paragraphs"]
    for word in html["furniture_words"]:
        assert word not in article.body and word not in article.title


def test_html_title_fallbacks(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    path.write_text(
        "<html><head><title>Le titre | Site</title>"
        '<meta property="og:site_name" content="Site"></head>'
        "<body><header><h1>Logo du site</h1></header><p>Un texte.</p></body></html>",
        encoding="utf-8",
    )
    article = only_article(path)
    assert (article.title, article.source, article.body) == ("Le titre", "Site", "Un texte.")


def test_html_date_from_json_ld_and_rfc_2822(tmp_path: Path) -> None:
    page = (
        '<html><head><script type="application/ld+json">{"datePublished": "%s"}</script>'
        "</head><body><h1>Titre</h1><p>Texte.</p></body></html>"
    )
    for value, date in (("2020-05-06T07:08:09+0200", dt.date(2020, 5, 6)),
                        ("Wed, 02 Oct 2002 13:00:00 GMT", dt.date(2002, 10, 2))):  # fmt: skip
        path = tmp_path / "page.html"
        path.write_text(page % value, encoding="utf-8")
        assert only_article(path).date == date


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-16", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b""), ("latin-1", b"")],
)
def test_text_encodings(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    path = tmp_path / "page.txt"
    text = "Élection à Genève\r\nLes électeurs ont voté « oui » à l’accord.\r\n"
    if encoding == "latin-1":
        text = text.replace("’", "'").replace("« ", '"').replace(" »", '"')
    path.write_bytes(prefix + text.encode(encoding))
    article = only_article(path)
    assert article.title == "Élection à Genève"
    assert article.body.startswith("Les électeurs ont voté")


def test_decoding_rules() -> None:
    assert decode_bytes("café".encode()) == "café"
    mostly_utf8 = "Un café à Genève, déjà".encode() + b" \xe9t\xe9"  # one stray cp1252 word
    assert decode_bytes(mostly_utf8) == "Un café à Genève, déjà été"
    assert decode_document(b"a\r\nb\rc") == "a\nb\nc"
    assert decode_document("e\u0301t\u00e9".encode()) == "\u00e9t\u00e9"  # NFC
    assert decode_document(
        b"<meta charset=x>\xe3\xd1\xcd\xc8\xc7", declared="windows-1256"
    ).endswith("مرحبا")
    with pytest.raises(DecodeError, match="binary file"):
        decode_bytes(b"text\x00more")
    with pytest.raises(DecodeError, match="binary file"):
        decode_bytes(bytes(range(1, 32)) * 10)
    with pytest.raises(DecodeError, match="empty file"):
        decode_document(b" \n\t ")
    with pytest.raises(DecodeError, match="not UTF-8 or a known legacy encoding"):
        decode_bytes(b"abc \x81 def")  # cp1252 leaves 0x81 undefined; latin-1 gives a C1 control


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.txt", "empty file"),
        ("whitespace-only.html", "empty file"),
        ("binary.txt", "binary file"),
        ("cyrillic-cp1251.txt", "not UTF-8 or a known legacy encoding"),
        ("persian-cp1256.txt", "not UTF-8 or a known legacy encoding"),
        ("aggregator-no-title.txt", "record has no title"),
        ("aggregator-no-body.txt", "record has no body"),
    ],
)
def test_bad_inputs(name: str, reason: str) -> None:
    assert read_file(BAD / name) == [Rejected(str(BAD / name), reason)]


def test_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with path.open("wb") as stream:
        stream.truncate(MAX_FILE_BYTES + 2 * 1024 * 1024)  # sparse: nothing is written or read
    assert read_file(path) == [Rejected(str(path), "file too large (52.0 MB > 50.0 MB)")]


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("Titre\n\nTexte.", encoding="utf-8")
    if os.geteuid() != 0:  # root reads anything: there, inject the fault instead
        path.chmod(0)
        assert read_file(path) == [Rejected(str(path), "permission denied")]
        path.chmod(0o644)

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    assert read_file(path) == [Rejected(str(path), "permission denied")]


def test_unsupported_suffix_in_read_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.pdf"
    path.write_bytes(b"%PDF")
    assert read_file(path) == [Rejected(str(path), "unsupported file type (.pdf)")]


def test_every_article_has_a_language(tmp_path: Path) -> None:
    folders = [FIXTURES / "aggregator", FIXTURES / "html", FIXTURES / "plain", BAD]
    for found in list_files(folders):
        assert isinstance(found, Path)
        for item in read_file(found):
            assert isinstance(item, Rejected) or item.lang in ("fr", "en", "ar"), item


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=600) | st.text(max_size=300).map(str.encode))
@pytest.mark.parametrize("suffix", [".txt", ".html", ".json", ".jsonl"])
def test_read_file_never_raises(tmp_path: Path, suffix: str, data: bytes) -> None:
    path = tmp_path / f"input{suffix}"
    path.write_bytes(data)
    for item in read_file(path):
        assert isinstance(item, Article | Rejected)
    for item in parse_records(data, "post"):
        assert isinstance(item, Article | Rejected)


def test_rejected_str() -> None:
    assert str(Rejected("a.jsonl", "invalid JSON (x)", 3)) == "a.jsonl:3: invalid JSON (x)"
    assert str(Rejected("a.txt", "empty file")) == "a.txt: empty file"


# --- listing files --------------------------------------------------------------------------


def make_tree(root: Path) -> None:
    for name in ("b/2.jsonl", "b/1.txt", "a.html", "c/d/e.htm", "c/x.pdf", "z.JSON",
                 ".hidden/h.txt", "c/.h.txt", "c/corpus.jsonl.gz", "c/README"):  # fmt: skip
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")


def test_list_files_walks_directories_in_order(tmp_path: Path) -> None:
    make_tree(tmp_path)
    found = [path.relative_to(tmp_path).as_posix() for path in list_files([tmp_path])]
    assert found == ["a.html", "b/1.txt", "b/2.jsonl", "c/corpus.jsonl.gz", "c/d/e.htm", "z.JSON"]


def test_list_files_explicit_paths(tmp_path: Path) -> None:
    make_tree(tmp_path)
    given = [
        tmp_path / "c/x.pdf",
        tmp_path / "missing.txt",
        tmp_path / "a.html",
        tmp_path / "a.html",
    ]
    assert list(list_files(given)) == [
        Rejected(str(tmp_path / "c/x.pdf"), "unsupported file type (.pdf)"),
        Rejected(str(tmp_path / "missing.txt"), "no such file or directory"),
        tmp_path / "a.html",
    ]


def test_symlink_loops(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Titre\n\nTexte.", encoding="utf-8")
    (tmp_path / "docs" / "back").symlink_to(tmp_path / "docs")  # a directory loop
    (tmp_path / "docs" / "x.txt").symlink_to(tmp_path / "docs" / "y.txt")
    (tmp_path / "docs" / "y.txt").symlink_to(tmp_path / "docs" / "x.txt")  # a file loop
    found = list(list_files([tmp_path / "docs"]))
    assert found == [
        tmp_path / "docs" / "a.txt",
        Rejected(str(tmp_path / "docs" / "back"), "symlink loop"),
        Rejected(str(tmp_path / "docs" / "x.txt"), "symlink loop"),
        Rejected(str(tmp_path / "docs" / "y.txt"), "symlink loop"),
    ]
    assert read_file(tmp_path / "docs" / "x.txt") == [
        Rejected(str(tmp_path / "docs" / "x.txt"), "symlink loop")
    ]


def test_unreadable_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(readers.os, "scandir", scandir)
    assert list(list_files([tmp_path])) == [Rejected(str(tmp_path / "locked"), "permission denied")]


def test_sample_corpus_dir_lists_the_bundled_files() -> None:
    names = [path.name for path in list_files([SAMPLE_CORPUS_DIR]) if isinstance(path, Path)]
    assert names == ["maghress-seed-page.txt", "wikinews-en.jsonl.gz", "wikinews-fr.jsonl.gz"]
