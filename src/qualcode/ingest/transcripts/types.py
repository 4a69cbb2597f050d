"""What every transcript parser yields: speaker turns in document order, plus whatever metadata the file carries."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Turn:
    label: str
    text: str
    line: int | None = None
    start_s: float | None = None
    end_s: float | None = None
    page: int | None = None  # a document paragraph's page
    context: str | None = None  # what the unit answers or sits under: a survey question, a section heading


@dataclass
class Participant:
    id: str
    speaker: str
    gender: str | None = None
    name: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    line: int | None = None  # where a metadata file declares the speaker label, for its errors


@dataclass
class Interviewer:
    id: str
    speaker: str
    name: str | None = None
    line: int | None = None  # where a metadata file declares the speaker label, for its errors


@dataclass
class Metadata:
    """Front matter or sidecar content. Everything is optional except where a format demands it."""

    interview: str | None = None
    title: str | None = None
    date: str | None = None
    language: str | None = None
    language_detected: bool = False  # guessed from the text, not declared
    attributes: dict[str, str] = field(default_factory=dict)
    participants: list[Participant] = field(default_factory=list)
    interviewers: list[Interviewer] = field(default_factory=list)


@dataclass
class Transcript:
    path: str
    format: str
    turns: list[Turn]
    meta: Metadata = field(default_factory=Metadata)
    notes: list[str] = field(default_factory=list)
    kind: str = "interview"  # interview | survey | document
