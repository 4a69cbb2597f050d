"""Documents without speakers (evaluation reports and other written evidence): paragraphs are the units.

A PDF is read page by page with pypdf, so each paragraph keeps its page for quotes; a .md or .txt document opens
with front matter naming it (`document: DOC-01`, title, date, language, attributes); a .docx or a text file without
front matter is a document when imported with --document. Markdown headings are not units: each paragraph carries
the heading it sits under as its context, as a survey answer carries its question. A document's words are no
person's: its units have one speaker, "document", never counted among participants.
"""

from __future__ import annotations

import re
from pathlib import Path

from qualcode.errors import InputError
from qualcode.ingest.transcripts import metadata, source
from qualcode.ingest.transcripts.types import Metadata, Participant, Transcript, Turn
from qualcode.output.render import plural
from qualcode.text import yamlfile

VOICE = "document"  # the one speaker label of a document's units
KEYS = {"document", "title", "date", "language", "attributes"}
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def is_document(text: str) -> bool:
    """Front matter that names a document (`document: ID`) rather than an interview."""
    raw, _, _ = metadata.split_front_matter(text)
    return bool(raw) and re.search(r"^document:", raw, re.M) is not None


def parse_text(text: str, path: Path, *, fmt: str = "document-md") -> Transcript:
    """A .md/.txt document, with or without front matter."""
    raw, body, first_line = metadata.split_front_matter(text)
    meta = _meta(yamlfile.load(raw, path, line_offset=1), path) if raw else Metadata()
    turns, section = [], None
    for line, block in _blocks(body, first_line):
        heading = HEADING.match(block) if "\n" not in block else None
        if heading:
            section = heading.group(1)
            continue
        turns.append(Turn(label=VOICE, text=" ".join(block.split()), line=line, context=section))
    return _document(path, fmt, turns, meta)


def parse_paragraphs(paragraphs: list[str], path: Path, fmt: str) -> Transcript:
    """A .docx read as a document: its non-empty paragraphs, in order."""
    turns = [Turn(label=VOICE, text=" ".join(p.split())) for p in paragraphs if p.strip()]
    return _document(path, fmt, turns, Metadata())


def parse_pdf(path: Path, *, max_bytes: int = source.MAX_BYTES) -> Transcript:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    data = source.read_bytes(path, max_bytes=max_bytes)
    # pypdf logs what it repairs ("EOF marker not found"); a library must not print, and a real fault raises.
    logger = logging.getLogger("pypdf")
    level, logger.level = logger.level, logging.CRITICAL + 1
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InputError("the PDF is encrypted: save an unprotected copy and import that", path=path)
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as e:
        raise InputError(f"not a readable PDF ({e})", path=path) from e
    finally:
        logger.setLevel(level)
    turns = []
    for number, page in enumerate(pages, 1):
        for para in _pdf_paragraphs(source.normalise(page)):
            turns.append(Turn(label=VOICE, text=para, page=number))
    if not turns:
        raise InputError(
            f"the PDF has no text layer on any of its {len(pages)} page(s) (a scanned document?): run it through "
            "OCR first, then import the result",
            path=path,
        )
    meta = Metadata(title=(reader.metadata.title if reader.metadata else None) or None)
    return _document(path, "document-pdf", turns, meta)


def _pdf_paragraphs(text: str) -> list[str]:
    """Paragraphs of a page's text: blank lines part them; a word broken at a line end is joined again."""
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    blocks = re.split(r"\n\s*\n", text)
    if len(blocks) == 1:  # many PDFs have no blank lines: a line ending a sentence ends a paragraph
        blocks = re.split(r"(?<=[.!?:])\n(?=[A-Z0-9•\-–])", text)
    return [" ".join(b.split()) for b in blocks if b.strip()]


def _blocks(body: str, first_line: int):
    # Blank lines part paragraphs; a body with none at all is written one paragraph per line (a Word document saved
    # as text, a list of comments), and its lines are the units rather than the whole text as one.
    parted = re.search(r"\n[ \t]*\n", body.strip("\n")) is not None
    line = first_line
    for block in re.split(r"(\n\s*\n)" if parted else r"(\n)", body):
        if block.strip() and not re.fullmatch(r"\n\s*\n", block):
            yield line + len(block) - len(block.lstrip("\n")), block.strip()
        line += block.count("\n")


def _meta(data, path: Path) -> Metadata:
    if not isinstance(data, dict):
        raise InputError("front matter must be a mapping (document:, title:, ...)", path=path)
    unknown = sorted(set(map(str, data)) - KEYS)
    if unknown:
        raise InputError(
            f"unknown key {unknown[0]!r} in a document's front matter (allowed: {', '.join(sorted(KEYS))})",
            path=path,
            line=data.line_of(unknown[0]),
        )
    return Metadata(
        interview=yamlfile.scalar(data.get("document")),
        title=yamlfile.scalar(data.get("title")),
        date=yamlfile.scalar(data.get("date")),
        language=metadata.declared_language(data, path),
        attributes={str(k): yamlfile.scalar(v) or "" for k, v in (data.get("attributes") or {}).items()},
    )


def _document(path: Path, fmt: str, turns: list[Turn], meta: Metadata) -> Transcript:
    if not turns:
        raise InputError("the document has no paragraphs of text", path=path)
    did = meta.interview or path.name.split(".")[0]
    meta.interview = did
    # The document's own voice: one speaker, no person (kind 'document' when stored).
    meta.participants = [Participant(id=f"{did}:{VOICE}", speaker=VOICE, name=meta.title)]
    return Transcript(path=str(path), format=fmt, turns=turns, meta=meta, kind="document",
                      notes=[f"a document: {plural(len(turns), 'paragraph')}"])  # fmt: skip
