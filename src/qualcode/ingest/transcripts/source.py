"""Reading a transcript file into normalised text: size, binary and encoding checks, BOM and line ends."""

from __future__ import annotations

import codecs
import unicodedata
from pathlib import Path

from qualcode.errors import InputError

MAX_BYTES = 20 * 1024 * 1024


def read_bytes(path: Path, *, max_bytes: int = MAX_BYTES) -> bytes:
    try:
        if path.exists() and not path.is_file():
            raise InputError("not a regular file (a device, a pipe or a socket)", path=path)
        size = path.stat().st_size
        if size <= max_bytes:
            with path.open("rb") as f:  # never more than the limit, even if the file grows meanwhile
                data = f.read(max_bytes + 1)
            size = len(data)
        if size > max_bytes:
            raise InputError(
                f"file is {size / 1_048_576:.1f} MB; transcripts over {max_bytes / 1_048_576:.0f} MB are refused "
                "(split it, or raise the limit with --max-size)",
                path=path,
            )
    except OSError as e:
        raise InputError(f"cannot read file: {e.strerror or e}", path=path) from e
    if not data.strip():
        raise InputError("file is empty", path=path)
    return data


# Byte order marks that name an encoding. UTF-32 first: its little-endian mark begins with UTF-16's.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
BINARY = "binary file, not a text transcript (NUL bytes found)"


def bom_encoding(data: bytes) -> str | None:
    return next((enc for bom, enc in BOMS if data.startswith(bom)), None)


def decode(data: bytes, path: Path, encoding: str | None = None) -> str:
    """Decode and normalise (see normalise), so stored offsets are stable.

    The encoding is --encoding when given, else the one a UTF-16 or UTF-32 byte order mark names, else UTF-8 (with
    or without its mark). The binary check comes after decoding, on characters: UTF-16 and UTF-32 text is full of
    zero bytes, but a NUL character anywhere in decoded text means the file is not a transcript, and it is refused
    whole rather than imported in part.
    """
    enc = encoding or bom_encoding(data) or "utf-8"
    if encoding is None and enc == "utf-8" and b"\x00" in data:
        # before decoding: a binary file is seldom valid UTF-8 either, and this message says more
        raise InputError(
            f"{BINARY}; if it is UTF-16 text without a byte order mark, name it with --encoding utf-16-le", path=path
        )
    try:
        text = data.decode("utf-8-sig" if enc.lower().replace("_", "-") in ("utf-8", "utf8") else enc)
    except LookupError as e:
        raise InputError(f"unknown encoding {enc!r}", path=path) from e
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InputError(
            f"not valid {enc} at byte {e.start} (line {line}); name the file's encoding with --encoding, "
            "for example --encoding cp1252",
            path=path,
            line=line,
        ) from e
    if "\x00" in text:
        raise InputError(BINARY, path=path)
    return normalise(text)


# No-break spaces are typography, not words: Word puts U+00A0 or U+202F before a French colon ("Nom\u00a0: texte")
# and caption tools leave them mid-sentence, where they would defeat label detection and phrase search.
NO_BREAK_SPACES = ("\u00a0", "\u202f")


def normalise(text: str) -> str:
    """BOM dropped, CRLF/CR to LF, no-break spaces to spaces, NFC."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    for char in NO_BREAK_SPACES:  # str.replace is many times faster than str.translate on long text
        if char in text:
            text = text.replace(char, " ")
    return unicodedata.normalize("NFC", text)


def read_text(path: Path, encoding: str | None = None, *, max_bytes: int = MAX_BYTES) -> str:
    text = decode(read_bytes(path, max_bytes=max_bytes), path, encoding)
    if not text.strip():
        raise InputError("file has no text", path=path)
    return text
