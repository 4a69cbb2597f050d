"""The project's own format: Markdown or text with YAML front matter declaring interview, participants, interviewers."""

from __future__ import annotations

from pathlib import Path

from qualcode.errors import InputError
from qualcode.ingest.transcripts import labels, metadata
from qualcode.ingest.transcripts.types import Transcript
from qualcode.text import yamlfile


def has_front_matter(text: str) -> bool:
    return text.split("\n", 1)[0].strip() == "---"


def parse(text: str, path: Path) -> Transcript:
    raw, body, body_line = metadata.split_front_matter(text)
    if raw is None:
        raise InputError("no front matter", path=path)
    if body_line == 1:
        raise InputError("front matter opened with '---' but never closed", path=path, line=1)
    meta = metadata.parse(yamlfile.load(raw, path, line_offset=1), path)
    if not meta.interview:
        raise InputError("front matter has no 'interview:' id", path=path, line=1)
    known = {labels.key(p.speaker): p.speaker for p in [*meta.participants, *meta.interviewers]}
    if not known:
        raise InputError("front matter declares no participants or interviewers", path=path, line=1)
    turns, notes = labels.parse_lines(
        body.split("\n"), path=str(path), first_line=body_line, convention="colon", known=known, strict=True
    )
    if not turns:
        raise InputError("no speaker turns after the front matter", path=path, line=body_line)
    return Transcript(path=str(path), format="qualcode-md", turns=turns, meta=meta, notes=notes)
