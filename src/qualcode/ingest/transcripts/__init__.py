"""Transcript parsers: one module per format, all yielding the same Transcript of speaker turns."""

from __future__ import annotations

from pathlib import Path

from qualcode.errors import InputError
from qualcode.ingest.transcripts import frontmatter, plain, source
from qualcode.ingest.transcripts.types import Interviewer, Metadata, Participant, Transcript, Turn

__all__ = ["EXTENSIONS", "Interviewer", "Metadata", "Participant", "Transcript", "Turn", "parse_file"]

EXTENSIONS = {".md", ".markdown", ".txt", ".text", ".vtt", ".srt", ".docx"}


def parse_file(path: Path, *, encoding: str | None = None, max_bytes: int = source.MAX_BYTES) -> Transcript:
    """Read one transcript file in any supported format. Raises InputError naming the file (and line)."""
    ext = path.suffix.lower()
    if ext not in EXTENSIONS:
        raise InputError(
            f"unknown extension {ext or '(none)'!r}; qualcode reads {', '.join(sorted(EXTENSIONS))}", path=path
        )
    if ext == ".docx":
        from qualcode.ingest.transcripts import docx

        return docx.parse(path, max_bytes=max_bytes)
    text = source.read_text(path, encoding, max_bytes=max_bytes)
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
