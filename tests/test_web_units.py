"""The small pieces of web/: settings, dates, parameters, links, tokens, the access log."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from web import config, create_app
from web.auth import check_token
from web.errors import ApiError
from web.i18n import format_date, format_number, format_seconds
from web.params import SearchParams, parse_search
from web.security import allowed_origin
from web.serve import AccessLog
from web.views import safe_url, toggled

# glibc's malloc and free through ctypes, for the probes below (each run in a process of its
# own, since the settings they test are for a process's life).
LIBC_PREAMBLE = (
    "import ctypes, sys\n"
    "libc = ctypes.CDLL(None)\n"
    "libc.malloc.restype = ctypes.c_void_p\n"
    "libc.malloc.argtypes = [ctypes.c_size_t]\n"
    "libc.free.argtypes = [ctypes.c_void_p]\n"
)


def run_malloc_probe(probe: str, mode: str) -> str:
    """What ``LIBC_PREAMBLE + probe`` prints, run with ``mode`` as its argument."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", LIBC_PREAMBLE + probe, mode], cwd=root,
                          check=True, capture_output=True, text=True)
    return done.stdout.strip()


def test_settings_defaults_then_environment_then_config() -> None:
    environ = {"KIOSQUE_INDEX_DIR": "/srv/idx", "KIOSQUE_CORS_ORIGINS": "https://a.example, "
               "https://b.example/", "KIOSQUE_MAX_BODY_BYTES": "2048", "KIOSQUE_ADMIN_TOKEN": ""}
    settings = config.load({"KIOSQUE_PER_PAGE": 20}, environ)
    assert settings["KIOSQUE_INDEX_DIR"] == "/srv/idx"
    assert settings["KIOSQUE_CORS_ORIGINS"] == ("https://a.example", "https://b.example")
    assert settings["MAX_CONTENT_LENGTH"] == 2048 and settings["KIOSQUE_PER_PAGE"] == 20
    assert settings["KIOSQUE_ADMIN_TOKEN"] is None
    overridden = config.load({"KIOSQUE_INDEX_DIR": "other"}, environ)
    assert overridden["KIOSQUE_INDEX_DIR"] == "other"
    assert config.load(None, {})["KIOSQUE_INDEX_DIR"] == "index_data"


def test_create_app_reads_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("KIOSQUE_INDEX_DIR", str(tmp_path))
    monkeypatch.setenv("KIOSQUE_ADMIN_TOKEN", "from-env")
    app = create_app()
    assert app.config["KIOSQUE_INDEX_DIR"] == str(tmp_path)
    assert app.config["KIOSQUE_ADMIN_TOKEN"] == "from-env"
    assert app.extensions["kiosque"].index_dir == tmp_path


def test_a_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(config.ConfigError, match="KIOSQUE_MAX_BODY_BYTES"):
        config.load(None, {"KIOSQUE_MAX_BODY_BYTES": "ten"})


@pytest.mark.parametrize("date, lang, text", [
    (dt.date(2022, 4, 20), "fr", "20 avril 2022"),
    (dt.date(2022, 4, 20), "en", "April 20, 2022"),
    (dt.date(2017, 5, 1), "fr", "1er mai 2017"),
    (dt.date(2017, 8, 1), "en", "August 1, 2017"),
    ("2016-02-11", "fr", "11 février 2016"),
    ("2016-12-25", "fr", "25 décembre 2016"),
    (None, "fr", ""),
])
def test_format_date(date: Any, lang: str, text: str) -> None:
    assert format_date(date, lang) == text


def test_numbers_and_seconds() -> None:
    assert format_number(12345, "fr") == "12\u202f345" and format_number(12345, "en") == "12,345"
    assert format_seconds(0.0123, "fr") == "0,012" and format_seconds(0.0123, "en") == "0.012"


def test_search_parameters_round_trip_through_the_url() -> None:
    args = MultiDict([("q", " élection "), ("lang", "fr,EN"), ("lang", "fr"), ("source", "A"),
                      ("from", "2020-01-01"), ("sort", "newest"), ("page", "3"),
                      ("per_page", "250"), ("recency", "false"), ("expand", "on")])
    params = parse_search(args)
    assert params == SearchParams(q="élection", page=3, per_page=100, lang=("fr", "en"),
                                  source=("A",), date_from=dt.date(2020, 1, 1), sort="newest",
                                  recency=False, expand=True)
    assert params.url(page=2) == ("/?q=%C3%A9lection&lang=fr&lang=en&source=A&from=2020-01-01"
                                  "&sort=newest&per_page=100&recency=0&expand=1&page=2")
    assert SearchParams().url() == "/"
    assert parse_search(MultiDict()).engine_kwargs()["lang"] is None


def test_only_web_links_are_linked() -> None:
    assert safe_url("https://fr.wikinews.org/wiki/X") == "https://fr.wikinews.org/wiki/X"
    for bad in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "", None,
                "//evil.example", "http://[::1"):
        assert safe_url(bad) is None
    assert toggled(("fr",), "fr") == () and toggled(("fr",), "en") == ("fr", "en")


def test_tokens() -> None:
    with pytest.raises(ApiError) as forbidden:
        check_token("Bearer x", None)
    assert forbidden.value.status == 403
    for header in (None, "", "Bearer", "Token abc", "Bearer wrong", "bearer abcX"):
        with pytest.raises(ApiError) as unauthorized:
            check_token(header, "abc")
        assert unauthorized.value.status == 401
    check_token("Bearer abc", "abc")
    check_token("bearer  abc ", "abc")


def test_allowed_origins() -> None:
    allowed = ("https://a.example",)
    assert allowed_origin("https://a.example", allowed) == "https://a.example"
    assert allowed_origin("https://a.example.evil", allowed) is None
    assert allowed_origin(None, allowed) is None
    assert allowed_origin("https://x", ("*",)) == "*"
    assert allowed_origin("https://a.example", ()) is None


def test_access_log_middleware(caplog: pytest.LogCaptureFixture) -> None:
    closed: list[bool] = []

    class Body(list[bytes]):
        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("404 NOT FOUND", [("Content-Type", "text/plain")])
        return Body([b"no"])

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/x", "QUERY_STRING": "q=1",
               "REMOTE_ADDR": "10.0.0.1"}
    with caplog.at_level(logging.INFO, logger="kiosque.access"):
        body = AccessLog(app)(environ, lambda status, headers, exc_info=None: None)
        assert list(body) == [b"no"]
        assert not caplog.records
        body.close()
    assert closed == [True]
    assert len(caplog.records) == 1
    assert caplog.records[0].name == "kiosque.access"
    assert caplog.records[0].getMessage().startswith('10.0.0.1 "GET /x?q=1" 404 ')


def test_short_setting_names_are_accepted(tmp_path: Any) -> None:
    app = create_app({"INDEX_DIR": str(tmp_path), "ADMIN_TOKEN": "t", "TESTING": True})
    assert app.config["KIOSQUE_INDEX_DIR"] == str(tmp_path)
    assert app.config["KIOSQUE_ADMIN_TOKEN"] == "t" and app.config["TESTING"] is True


def test_the_threads_of_a_server_share_one_malloc_arena_where_glibc_runs() -> None:
    """Eight threads allocating at once: glibc gives each its own arena, unless the
    server's limit was set first; counted by glibc itself (``malloc_info``). In a process
    of its own: the setting is for the process's life."""
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt(M_ARENA_MAX) is glibc's")
    probe = (
        "import os, tempfile, threading\n"
        "from web.serve import limit_malloc_arenas\n"
        "libc.fopen.restype = ctypes.c_void_p\n"
        "libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]\n"
        "libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]\n"
        "libc.fclose.argtypes = [ctypes.c_void_p]\n"
        "if sys.argv[1] == 'limited':\n"
        "    assert limit_malloc_arenas() is True\n"
        "together = threading.Barrier(8)\n"
        "def allocate():\n"
        "    together.wait()\n"
        "    blocks = [libc.malloc(4096) for _ in range(100)]\n"
        "    together.wait()\n"
        "    for block in blocks:\n"
        "        libc.free(block)\n"
        "threads = [threading.Thread(target=allocate) for _ in range(8)]\n"
        "for thread in threads:\n"
        "    thread.start()\n"
        "for thread in threads:\n"
        "    thread.join()\n"
        "path = os.path.join(tempfile.mkdtemp(), 'malloc.xml')\n"
        "handle = libc.fopen(path.encode(), b'w')\n"
        "libc.malloc_info(0, handle)\n"
        "libc.fclose(handle)\n"
        "print(open(path).read().count('<heap nr='))\n"
    )
    assert int(run_malloc_probe(probe, "limited")) == 1
    assert int(run_malloc_probe(probe, "default")) > 1  # glibc's own behaviour: the test can tell


def test_the_heap_is_trimmed_by_one_thread_a_process_where_glibc_runs() -> None:
    import platform
    import threading

    from web.serve import trim_heap_every

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc_trim is glibc's")
    assert trim_heap_every(3600) is True and trim_heap_every(3600) is True
    trimmers = [thread for thread in threading.enumerate() if thread.name == "kiosque-heap-trim"]
    assert len(trimmers) == 1 and trimmers[0].daemon and trimmers[0].is_alive()


def test_the_mmap_threshold_is_fixed_where_glibc_runs() -> None:
    """Once fixed, glibc no longer raises its mmap threshold when a big mapped block is
    freed: a 2 MB block allocated after a 4 MB one was freed is still mapped (it came from
    the heap before). In a process of its own: the setting is for the process's life."""
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt(M_MMAP_THRESHOLD) is glibc's")
    probe = (
        "from web.serve import fix_mmap_threshold\n"
        "class Info(ctypes.Structure):\n"
        "    _fields_ = [(n, ctypes.c_size_t) for n in 'abcdefghij']\n"
        "libc.mallinfo2.restype = Info\n"
        "if sys.argv[1] == 'fixed':\n"
        "    assert fix_mmap_threshold() is True\n"
        "libc.free(libc.malloc(4 << 20))\n"
        "before = libc.mallinfo2().e\n"
        "block = libc.malloc(2 << 20)\n"
        "print(libc.mallinfo2().e - before >= 2 << 20)\n"
    )
    assert run_malloc_probe(probe, "fixed") == "True"
    # glibc's own threshold moved: the test can tell
    assert run_malloc_probe(probe, "default") == "False"
