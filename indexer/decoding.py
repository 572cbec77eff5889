"""Bytes to clean text: encoding detection, binary detection, line ends, NFC.

The rule, in order:

1. A byte-order mark decides (UTF-8, UTF-16 LE/BE); bytes that do not decode
   under the codec their BOM names are rejected.
2. NUL bytes or many control characters in the first 8 KB: "binary file".
3. Strict UTF-8.
4. Mostly UTF-8 with a few stray bytes (valid multi-byte sequences outnumber
   the invalid bytes): UTF-8, each stray byte read as cp1252. This is the
   page saved by a tool that pasted one legacy fragment into UTF-8 text.
5. A declared charset (``<meta charset>`` of an HTML page), if Python knows it.
6. cp1252, the Windows superset of latin-1, but only when the result is
   plausible Western European text (see ``plausible_legacy_text``).

Why no separate latin-1 step: cp1252 and latin-1 agree on every byte except
0x80-0x9F, which latin-1 maps to C1 control characters that no real text
contains. A file that cp1252 cannot decode holds one of the five bytes
cp1252 leaves undefined (0x81 0x8D 0x8F 0x90 0x9D); latin-1 would turn it
into a C1 control, so such a file is another code page (cp1256 Arabic,
cp1251 Cyrillic, Shift-JIS...) and latin-1 would only produce garbage.
Likewise cp1252 decodes a cp1251 or cp1256 file without error, but into
mojibake where almost every letter is outside ASCII. Both cases are rejected
as "not UTF-8 or a known legacy encoding" rather than indexed as garbage.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

SNIFF_BYTES = 8192
MAX_CONTROL_RATIO = 0.05
MAX_NON_ASCII_LETTER_RATIO = 0.30

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# C0 controls other than tab, LF, VT, FF, CR; ESC and DEL too.
_CONTROL_BYTES = frozenset(set(range(0x00, 0x09)) | set(range(0x0E, 0x20)) | {0x7F})
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_C1_CONTROLS = re.compile("[\u0080-\u009f]")
_NOT_DECLARABLE = frozenset({"utf-8", "cp1252", "latin-1", "iso8859-1", "ascii"})


class DecodeError(ValueError):
    """Bytes that cannot become text; the message is the human-readable reason."""


def decode_document(data: bytes, declared: str | None = None) -> str:
    """Decode a whole file's bytes into normalised text.

    ``declared`` is an encoding the document names for itself (an HTML meta
    charset); it is tried after UTF-8 and before cp1252.
    Raises DecodeError: "empty file", "binary file", or
    "not UTF-8 or a known legacy encoding".
    """
    text = normalise_text(decode_bytes(data, declared))
    if not text.strip():
        raise DecodeError("empty file")
    return text


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode bytes by the rule in the module docstring, without normalising.

    Raises DecodeError as ``decode_document`` does (empty only for no bytes at all).
    """
    if not data:
        raise DecodeError("empty file")
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _decode_with_bom(data[len(bom) :], codec)
    if looks_binary(data):
        raise DecodeError("binary file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(data):
        return data.decode("utf-8", errors="kiosque-cp1252-strays")
    declared_text = _decode_declared(data, declared)
    if declared_text is not None:
        return declared_text
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise DecodeError("not UTF-8 or a known legacy encoding") from None
    if not plausible_legacy_text(text):
        raise DecodeError("not UTF-8 or a known legacy encoding")
    return text


def normalise_text(text: str) -> str:
    """CRLF and CR to LF, a stray BOM character removed, Unicode NFC."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def looks_binary(data: bytes) -> bool:
    """NUL bytes, or more than 5% control bytes, in the first 8 KB."""
    head = data[:SNIFF_BYTES]
    if b"\x00" in head:
        return True
    controls = sum(1 for byte in head if byte in _CONTROL_BYTES)
    return controls > MAX_CONTROL_RATIO * len(head)


def plausible_legacy_text(text: str) -> bool:
    """Whether a legacy (cp1252) decoding reads like Western European text.

    French, Spanish, German or Portuguese text has a few accented letters
    among many ASCII ones (French news: about 4% of letters); another code
    page read as cp1252 gives words made almost only of accented letters.
    C1 controls never occur in real text.
    """
    if _C1_CONTROLS.search(text):
        return False
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return True
    non_ascii = sum(1 for char in letters if not char.isascii())
    return non_ascii <= MAX_NON_ASCII_LETTER_RATIO * len(letters)


def _decode_with_bom(data: bytes, codec: str) -> str:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        raise DecodeError(f"not valid {codec.upper()} despite its byte-order mark") from None
    if not text.strip():
        raise DecodeError("empty file")
    return text


def _mostly_utf8(data: bytes) -> bool:
    """Valid UTF-8 multi-byte sequences outnumber the bytes UTF-8 rejects."""
    valid = len(_UTF8_MULTIBYTE.findall(data))
    if valid == 0:
        return False
    invalid = _count_invalid_utf8(data)
    return valid > invalid


def _count_invalid_utf8(data: bytes) -> int:
    """Bytes UTF-8 rejects (about one replacement character each)."""
    replaced = data.decode("utf-8", errors="replace").count("\ufffd")
    return replaced - data.count("\ufffd".encode())


def _cp1252_strays(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: read bytes that are not UTF-8 as cp1252."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    stray = error.object[error.start : error.end]
    return stray.decode("cp1252", errors="replace"), error.end


codecs.register_error("kiosque-cp1252-strays", _cp1252_strays)


def _decode_declared(data: bytes, declared: str | None) -> str | None:
    """The text under the document's own declared encoding, if that is a usable one.

    UTF-8, cp1252 and latin-1 are skipped: the other steps already handle
    them (latin-1 declarations are very often cp1252 in fact). No plausibility
    check on letters here: a page that declares windows-1256 is Arabic.
    """
    if not declared:
        return None
    try:
        name = codecs.lookup(declared.strip()).name
    except LookupError:
        return None
    if name in _NOT_DECLARABLE or name.startswith(("utf-16", "utf-32")):
        return None
    try:
        text = data.decode(name)
    except UnicodeDecodeError:
        return None
    return None if _C1_CONTROLS.search(text) else text
