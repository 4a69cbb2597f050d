"""Word documents (.docx), read with python-docx: each paragraph is a line, then the plain-text label rules.

A .docx is a zip archive from outside: it is opened within the budget every archive has (`qualcode.ingest.archive`),
and its document part must be well-formed XML without a DTD or entities. python-docx keeps an entity reference it
cannot resolve as a node of its own and drops the text after it ("X&e;Y" read as "X"), so such a file is refused
rather than imported short. Word never writes either.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from qualcode.errors import InputError
from qualcode.ingest.archive import UNPACKED_RATIO, Budget
from qualcode.ingest.transcripts import plain, source
from qualcode.ingest.transcripts.types import Transcript

# A document's text part, which python-docx parses whole in memory, may unpack to the transcript size limit
# (--max-size) itself: 20 MB of Word XML is several hundred thousand words, more than any interview, while a 200 MB
# part kept a machine busy for minutes with gigabytes of memory. The whole archive: archive.UNPACKED_RATIO times it.
DOCUMENT = "word/document.xml"


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
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        raise InputError(
            "not a .docx document: the file is not a zip archive (damaged, or a .doc saved under another name; "
            "save it as .docx)",
            path=path,
        ) from e
    with archive:
        hint = f" ({UNPACKED_RATIO} times --max-size; raise --max-size if the document is real)"
        budget = Budget(path, archive, max_total=UNPACKED_RATIO * max_bytes, hint=hint)
        member = budget.find(DOCUMENT)
        if member is None:
            raise InputError(f"not a .docx document: the archive has no {DOCUMENT}", path=path)
        if member.file_size > max_bytes:
            raise InputError(
                f"{DOCUMENT} unpacks to {member.file_size / 1_048_576:.0f} MB, more than --max-size "
                f"({max_bytes / 1_048_576:.0f} MB): refused (raise --max-size if the document is real)",
                path=path,
            )
        text = budget.read(member)
        if len(text) > max_bytes:  # a header that lies about the size is caught while reading
            raise InputError(f"{DOCUMENT} unpacks to more than --max-size: refused", path=path)
        _check_xml(text, path)
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as e:  # python-docx lets zipfile, lxml, KeyError and its own errors through unwrapped
        raise InputError(f"damaged .docx document: {e or type(e).__name__}", path=path) from e
    tables = [t for t in document.tables if any(c.text.strip() for row in t.rows for c in row.cells)]
    notes = [f"{len(tables)} table(s) with text were not imported: only paragraphs are read"] if tables else []
    return [p.text for p in document.paragraphs], notes


def _check_xml(data: bytes, path: Path) -> None:
    import xml.etree.ElementTree as ET

    import defusedxml
    import defusedxml.ElementTree as safe

    try:
        safe.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException:
        raise InputError(f"{DOCUMENT}: XML with a DTD or entities is refused", path=path) from None
    except ET.ParseError as e:
        line, column = e.position
        reason = str(e).split(": line ")[0]
        raise InputError(
            f"{DOCUMENT}: not well-formed XML at line {line}, column {column} ({reason}); the document is damaged: "
            "open it in Word and save it again",
            path=path,
        ) from None
    except LookupError as e:  # an XML declaration naming an encoding Python does not know
        raise InputError(f"{DOCUMENT}: {e}", path=path) from None
