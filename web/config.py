"""Settings of the web app: defaults, then ``KIOSQUE_*`` environment variables, then overrides.

Every setting has the name of its environment variable, so ``create_app({...})``
and the environment speak the same language; ``create_app`` also accepts the
short names (``INDEX_DIR`` for ``KIOSQUE_INDEX_DIR``...).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from search.cache import DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES

DEFAULTS: dict[str, Any] = {
    "KIOSQUE_INDEX_DIR": "index_data",
    "KIOSQUE_ADMIN_TOKEN": None,
    "KIOSQUE_CORS_ORIGINS": (),
    "KIOSQUE_MAX_BODY_BYTES": 10 * 1024 * 1024,
    "KIOSQUE_MAX_QUERY_CHARS": 1000,
    "KIOSQUE_PER_PAGE": 10,
    "KIOSQUE_RETRY_SECONDS": 2.0,
    "KIOSQUE_CACHE_SIZE": DEFAULT_MAX_ENTRIES,
    "KIOSQUE_CACHE_MB": DEFAULT_MAX_BYTES // 2**20,
}

_PARSERS = {
    "KIOSQUE_INDEX_DIR": str,
    "KIOSQUE_ADMIN_TOKEN": lambda value: value or None,
    "KIOSQUE_CORS_ORIGINS": lambda value: parse_origins(value),
    "KIOSQUE_MAX_BODY_BYTES": int,
    "KIOSQUE_MAX_QUERY_CHARS": int,
    "KIOSQUE_PER_PAGE": int,
    "KIOSQUE_RETRY_SECONDS": float,
    "KIOSQUE_CACHE_SIZE": lambda value: non_negative(int(value)),
    "KIOSQUE_CACHE_MB": lambda value: non_negative(int(value)),
}


class ConfigError(ValueError):
    """A setting whose value cannot be used (the message names the variable)."""


def non_negative(value: int) -> int:
    """``value`` when 0 or more; raises ValueError otherwise."""
    if value < 0:
        raise ValueError(value)
    return value


def parse_origins(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """``"https://a.example, https://b.example"`` (or a list) as a tuple of origins."""
    if not value:
        return ()
    parts = value.split(",") if isinstance(value, str) else value
    return tuple(part.strip().rstrip("/") for part in parts if part.strip())


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``KIOSQUE_*`` settings found in ``environ``, parsed.

    Raises ConfigError naming the variable when a value does not parse.
    """
    found: dict[str, Any] = {}
    for name, parse in _PARSERS.items():
        if name not in environ:
            continue
        try:
            found[name] = parse(environ[name])
        except ValueError:
            raise ConfigError(f"{name}={environ[name]!r} is not a valid value") from None
    return found


def canonical(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with short names (``INDEX_DIR``) spelled as settings (``KIOSQUE_INDEX_DIR``)."""
    named = {}
    for key, value in config.items():
        long = f"KIOSQUE_{key}"
        named[long if long in DEFAULTS or long == "KIOSQUE_ENGINE" else key] = value
    return named


def load(config: Mapping[str, Any] | None = None,
         environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults, then the environment, then ``config``; with Flask's MAX_CONTENT_LENGTH set."""
    settings = dict(DEFAULTS)
    settings.update(from_environment(os.environ if environ is None else environ))
    settings.update(canonical(config or {}))
    settings["KIOSQUE_CORS_ORIGINS"] = parse_origins(settings["KIOSQUE_CORS_ORIGINS"])
    settings["KIOSQUE_INDEX_DIR"] = str(settings["KIOSQUE_INDEX_DIR"])
    settings.setdefault("MAX_CONTENT_LENGTH", int(settings["KIOSQUE_MAX_BODY_BYTES"]))
    return settings
