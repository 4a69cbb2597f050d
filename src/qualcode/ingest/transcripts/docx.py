"""Word documents (.docx), read with python-docx: each paragraph is a line, then the plain-text label rules."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from qualcode.errors import InputError
from qualcode.ingest.transcripts import plain, source
from qualcode.ingest.transcripts.types import Transcript

# XML compresses about tenfold; an archive that unpacks far beyond that is a zip bomb, not a transcript.
UNPACKED_RATIO = 10


def parse(path: Path, *, max_bytes: int = source.MAX_BYTES) -> Transcript:
    texts, notes = paragraphs(path, max_bytes=max_bytes)
    text = source.normalise("\n".join(texts))
    if not text.strip():
        raise InputError("document has no text in its paragraphs", path=path)
    transcript = plain.parse_lines(text.split("\n"), path, fmt="docx")
    transcript.notes.extend(notes)
    return transcript


def paragraphs(path: Path, *, max_bytes: int = source.MAX_BYTES) -> tuple[list[str], list[str]]:
    """(the document's paragraphs as text, notes); a soft line break inside a paragraph is a line of its own."""
    data = source.read_bytes(path, max_bytes=max_bytes)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(i.file_size for i in archive.infolist())
    except zipfile.BadZipFile as e:
        raise InputError(
            "not a .docx document: the file is not a zip archive (damaged, or a .doc saved under another name; "
            "save it as .docx)",
            path=path,
        ) from e
    if "word/document.xml" not in names:
        raise InputError("not a .docx document: the archive has no word/document.xml", path=path)
    if unpacked > UNPACKED_RATIO * max_bytes:
        raise InputError(
            f"document unpacks to {unpacked / 1_048_576:.0f} MB; transcripts over "
            f"{UNPACKED_RATIO * max_bytes / 1_048_576:.0f} MB unpacked are refused (raise the limit with --max-size)",
            path=path,
        )
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as e:  # python-docx lets zipfile, lxml, KeyError and its own errors through unwrapped
        raise InputError(f"damaged .docx document: {e or type(e).__name__}", path=path) from e
    tables = [t for t in document.tables if any(c.text.strip() for row in t.rows for c in row.cells)]
    notes = [f"{len(tables)} table(s) with text were not imported: only paragraphs are read"] if tables else []
    return [p.text for p in document.paragraphs], notes
