"""French words stemmed from their lemma: the table, derived from the installed simplemma.

Snowball strips suffixes, so it leaves apart what inflection changes inside the word
(« naquit », « né », « naître »; « meurt », « mourir ») and what folding hides from it
(« première » and « premier »). The table maps a folded word to the folded lemma to stem
instead, keyed by the folded word so that « creees » stems as « créées ».

Why it is derived here and not committed: simplemma's code is MIT, but its lexicons come
from sources under their own licences (ODbL, CC BY-SA...), so a table made from them is
not ours to redistribute. The installed package is read instead (as NLTK's stemmers are),
once per machine: deriving takes seconds, so the table is kept in a cache file named by
simplemma's version and this derivation's, and read from there (a fraction of a second).

Left out: the auxiliaries (« été », the summer, is not « être »), words the lexicon knows
as names (« Paris » is not « pari »), stop words, single letters, and a folded word whose
accented spellings stem differently (« cote »: côte, coté, côté).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable
from functools import cache
from importlib.metadata import version
from pathlib import Path

LEMMATIZED_LANGUAGES = frozenset({"fr"})
DERIVATION = 1  # raise when the rules below change: older cache files are then ignored
AUXILIARIES = frozenset({"être", "avoir"})


@cache
def lemma_table(lang: str) -> dict[str, str]:
    """Folded word -> folded lemma (about 50,000 French words); {} for other languages."""
    if lang not in LEMMATIZED_LANGUAGES:
        return {}
    path = cache_path(lang)
    if path is not None:
        try:
            return _read(path)
        except (OSError, ValueError):
            pass
    table = derive(lang)
    if path is not None:
        _write(path, table)
    return table


@cache
def identity() -> dict[str, str]:
    """A digest of each language's table, recorded in an index's metadata: an index and its
    queries must stem with the same table, and a simplemma upgrade may change it (a digest,
    not simplemma's version, so that an upgrade that leaves the table alone needs no rebuild)."""
    return {lang: _digest(lemma_table(lang)) for lang in sorted(LEMMATIZED_LANGUAGES)}


def _digest(table: dict[str, str]) -> str:
    text = "".join(f"{word}\t{lemma}\n" for word, lemma in sorted(table.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def source_version() -> str:
    """The installed simplemma's version, named in the message that asks for a rebuild."""
    return version("simplemma")


def cache_path(lang: str) -> Path | None:
    """Where the derived table is kept: ``$KIOSQUE_CACHE_DIR``, else the user's cache folder;
    None for a user without a home folder (a service account): the table is then derived by
    each process."""
    folder = os.environ.get("KIOSQUE_CACHE_DIR")
    if not folder:
        try:
            base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        except RuntimeError:  # no $HOME and no entry in the password database
            return None
        folder = str(Path(base) / "kiosque")
    name = f"lemmas-{lang}-simplemma-{source_version()}-{DERIVATION}.tsv"
    return Path(folder) / name


def needs_deriving() -> bool:
    """True when a lemma table has no cache file yet, so that loading it will take seconds
    (for a command to say why it pauses)."""
    paths = [cache_path(lang) for lang in LEMMATIZED_LANGUAGES]
    return any(path is None or not path.exists() for path in paths)


def _read(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("\t", 1) for line in lines if line)


def _write(path: Path, table: dict[str, str]) -> None:
    """Write the table whole or not at all (a reader never sees half a file); a cache that
    cannot be written (read-only home) only means deriving it again next time."""
    written = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent,
                                         delete=False, suffix=".tmp") as out:
            written = out.name
            out.writelines(f"{word}\t{lemma}\n" for word, lemma in table.items())
        os.replace(written, path)
    except OSError:
        if written is not None:  # a full disk: no half-written file left behind
            Path(written).unlink(missing_ok=True)


def derive(lang: str) -> dict[str, str]:
    """The table, from simplemma's lexicon: a folded word -> its folded lemma, where every
    accented spelling of the folded word agrees and the lemma's stem differs from the word's."""
    from simplemma import lemmatize

    from .analysis import _is_stop, fold, stem

    stems: dict[str, set[str]] = defaultdict(set)
    lemmas: dict[str, str] = {}
    for word in _lexicon_words(lang):
        if _is_stop(word, lang):
            continue
        folded = fold(word)
        found = _lemma_of(word, lang, lemmatize)
        stems[folded].add(stem(lang, fold(found) if found else folded))
        if found:
            lemmas[folded] = fold(found)
    return {
        folded: lemma for folded, lemma in sorted(lemmas.items())
        if len(stems[folded]) == 1 and stem(lang, lemma) != stem(lang, folded)
    }


def _lexicon_words(lang: str) -> list[str]:
    """The lowercase words of simplemma's dictionary of a language."""
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    words = DefaultDictionaryFactory().get_dictionary(lang)
    return sorted({key for key in words if key.isalpha() and key == key.lower()})


def _lemma_of(word: str, lang: str, lemmatize: Callable[..., str]) -> str | None:
    """The lemma to stem instead of the word, or None (see the module's docstring)."""
    from .analysis import _is_stop, lower_form

    if len(word) < 2 or _is_stop(word, lang):
        return None
    found = lower_form(lemmatize(word, lang=lang))
    if found == word or found in AUXILIARIES or _is_stop(found, lang):
        return None
    name = word[0].upper() + word[1:]
    if lemmatize(name, lang=lang) == name:
        return None
    return found
