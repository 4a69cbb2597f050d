"""Plain text (and the text of .docx files) without front matter, in whichever label convention it uses."""

from __future__ import annotations

from pathlib import Path

from qualcode.ingest.transcripts import labels
from qualcode.ingest.transcripts.types import Transcript

CONVENTION_NAMES = {
    "colon": "Name: text",
    "bracket": "[id] text",
    "bold": "**Name** [m:ss] text",
    "dash": "Name – text",
    None: "no speaker labels",
}


def parse_lines(lines: list[str], path: Path, fmt: str = "plain", known: dict[str, str] | None = None) -> Transcript:
    convention = labels.detect_convention(lines)
    turns, notes = labels.parse_lines(lines, path=str(path), convention=convention, known=None)
    notes.insert(0, f"speaker convention: {CONVENTION_NAMES[convention]}")
    if convention is None:
        notes.append("no speaker labels found: each paragraph is a turn of one speaker 'Speaker'")
    return Transcript(path=str(path), format=fmt, turns=turns, notes=notes)


def parse(text: str, path: Path) -> Transcript:
    return parse_lines(text.split("\n"), path)
