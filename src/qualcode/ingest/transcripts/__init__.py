"""Transcript parsers: one module per format, all yielding the same Transcript of speaker turns."""

from __future__ import annotations

from pathlib import Path

from qualcode.errors import InputError
from qualcode.ingest.transcripts import frontmatter, plain, source
from qualcode.ingest.transcripts.types import Interviewer, Metadata, Participant, Transcript, Turn

__all__ = ["EXTENSIONS", "Interviewer", "Metadata", "Participant", "Transcript", "Turn", "parse_file"]

EXTENSIONS = {".md", ".markdown", ".txt", ".text", ".vtt", ".srt", ".docx", ".pdf", ".csv", ".xlsx"}


def parse_file(
    path: Path, *, encoding: str | None = None, max_bytes: int = source.MAX_BYTES, document: bool = False, survey=None
) -> Transcript:
    """Read one file in any supported format: a transcript, a document (PDF, a text or Word file with --document or
    with `document:` front matter) or survey answers (CSV, xlsx). Raises InputError naming the file (and line)."""
    ext = path.suffix.lower()
    if ext not in EXTENSIONS:
        raise InputError(
            f"unknown extension {ext or '(none)'!r}; qualcode reads {', '.join(sorted(EXTENSIONS))}", path=path
        )
    if ext in (".csv", ".xlsx"):
        from qualcode.ingest.transcripts import survey as surveys

        return surveys.parse(path, survey or surveys.Spec(), encoding=encoding, max_bytes=max_bytes)
    if ext == ".pdf":
        from qualcode.ingest.transcripts import document as documents

        return documents.parse_pdf(path, max_bytes=max_bytes)
    if ext == ".docx":
        from qualcode.ingest.transcripts import docx

        if document:
            from qualcode.ingest.transcripts import document as documents

            texts, notes = docx.paragraphs(path, max_bytes=max_bytes)
            transcript = documents.parse_paragraphs(texts, path, "document-docx")
            transcript.notes.extend(notes)
            return transcript
        return docx.parse(path, max_bytes=max_bytes)
    text = source.read_text(path, encoding, max_bytes=max_bytes)
    from qualcode.ingest.transcripts import document as documents

    if document or documents.is_document(text):
        return documents.parse_text(text, path)
    if ext == ".vtt" or text.lstrip().startswith("WEBVTT"):
        from qualcode.ingest.transcripts import vtt

        return vtt.parse(text, path)
    if ext == ".srt":
        from qualcode.ingest.transcripts import srt

        return srt.parse(text, path)
    if frontmatter.has_front_matter(text):
        return frontmatter.parse(text, path)
    from qualcode.ingest.transcripts import otter, zoomcaptions

    if otter.detect(text):
        return otter.parse(text, path)
    if zoomcaptions.detect(text):
        return zoomcaptions.parse(text, path)
    return plain.parse(text, path)
