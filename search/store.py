"""Where an index lives on disk, and how a new one replaces the old atomically.

An index directory holds generations (``gen-*`` folders, each a complete
Whoosh index) and a ``CURRENT`` file naming the live one. A rebuild writes a
new generation beside the live one and swaps ``CURRENT`` with one atomic
rename, so readers see the old index or the new one, never a partial one;
a build killed half way leaves only an unreferenced folder behind.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index

from . import lemmas, whoosh_memory, whoosh_patches
from .schema import SCHEMA_VERSION, build_schema

whoosh_patches.apply()  # fixes of whoosh-reloaded bugs, for every process that opens an index
whoosh_memory.apply()  # no private copy of the index per searcher

CURRENT_FILE = "CURRENT"
META_FILE = "kiosque.json"
GENERATION_PREFIX = "gen-"


class IndexNotFound(Exception):
    """No usable index in a directory; the message says how to build one."""


def rebuild_hint(index_dir: Path) -> str:
    """The command that builds an index in ``index_dir``."""
    return f"build it with: kiosque index build PATH... --index-dir {index_dir}"


def current_generation(index_dir: str | os.PathLike[str]) -> Path | None:
    """The live generation folder, or None when there is none."""
    root = Path(index_dir)
    try:
        name = (root / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return root / name if name else None


def generation_stamp(index_dir: str | os.PathLike[str]) -> tuple[int, int] | None:
    """A cheap fingerprint of ``CURRENT`` that changes when a new generation is published."""
    try:
        stat = os.stat(Path(index_dir) / CURRENT_FILE)
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns)


def open_index(index_dir: str | os.PathLike[str]) -> whoosh_index.Index:
    """Open the live index. Raises IndexNotFound (missing, outdated or unreadable index)."""
    root = Path(index_dir)
    generation = current_generation(root)
    if generation is None or not generation.is_dir():
        raise IndexNotFound(f"no index in {root}; {rebuild_hint(root)}")
    check_analysis(root, read_meta(generation))
    try:
        return whoosh_index.open_dir(str(generation))
    except Exception as error:  # whoosh raises many types for damaged indexes
        raise IndexNotFound(
            f"the index in {root} cannot be read ({error}); {rebuild_hint(root)}"
        ) from error


def check_analysis(root: Path, meta: dict[str, Any]) -> None:
    """Raise IndexNotFound when the index was analyzed otherwise than this Kiosque would
    analyze its queries: another schema, or French stemmed with another lemma table (an
    index built before tables were recorded is taken as it is)."""
    rebuild = f"rebuild the index with: kiosque index build PATH... --index-dir {root}"
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise IndexNotFound(f"the index in {root} has schema version {version}, this "
                            f"Kiosque needs {SCHEMA_VERSION}; {rebuild}")
    recorded = meta.get("lemmas")
    if recorded is not None and recorded != lemmas.identity():
        raise IndexNotFound(
            f"the index in {root} stemmed French words with another lemma table than this "
            f"Kiosque's (the index's came from simplemma {meta.get('simplemma', '?')}, this "
            f"one's from simplemma {lemmas.source_version()}); {rebuild}"
        )


def read_meta(generation: Path) -> dict[str, Any]:
    """The Kiosque metadata of a generation, or {} when absent or unreadable."""
    try:
        return json.loads((generation / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def create_generation(index_dir: str | os.PathLike[str]) -> Path:
    """A new, empty, unpublished generation folder with the current schema."""
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    name = f"{GENERATION_PREFIX}{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    generation = root / name
    generation.mkdir()
    whoosh_index.create_in(str(generation), build_schema())
    meta = {"schema_version": SCHEMA_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "lemmas": lemmas.identity(), "simplemma": lemmas.source_version()}
    (generation / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    return generation


def publish(index_dir: str | os.PathLike[str], generation: Path) -> None:
    """Make ``generation`` the live index with one atomic rename, then drop stale ones.

    The generation just replaced is kept, so a reader that opened it a moment
    ago can finish its query; older ones and abandoned builds are removed.
    """
    root = Path(index_dir)
    previous = current_generation(root)
    temporary = root / f"{CURRENT_FILE}.{uuid.uuid4().hex[:8]}.tmp"
    temporary.write_text(generation.name + "\n", encoding="utf-8")
    os.replace(temporary, root / CURRENT_FILE)
    keep = {generation.name, previous.name if previous else ""}
    remove_stale_generations(root, keep)


def remove_stale_generations(root: Path, keep: set[str]) -> None:
    """Remove generation folders and temporary files not in ``keep``."""
    for path in root.iterdir():
        if path.name.startswith(GENERATION_PREFIX) and path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(f"{CURRENT_FILE}.") and path.name.endswith(".tmp"):
            path.unlink(missing_ok=True)
