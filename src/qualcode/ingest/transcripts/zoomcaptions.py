"""Zoom "save captions" text: a ``[Name] HH:MM:SS`` line, then what was said on the next line(s).

Zoom writes a new fragment every few seconds, so one speaker's consecutive fragments are one turn, joined with
a space. start_s counts from the first timestamp, because the clock times are the meeting's wall clock. Zoom
keeps no end times. Fragments with the same timestamp (people talking over each other) stay in file order.
"""

from __future__ import annotations

import re
from pathlib import Path

from qualcode.errors import InputError
from qualcode.ingest.transcripts import labels
from qualcode.ingest.transcripts.types import Transcript, Turn

HEADER = re.compile(r"^\[(?P<label>[^\]\n]{1,60})\] (?P<time>\d{1,2}:\d{2}:\d{2})[ \t]*$")
DAY_S = 24 * 3600


def header(line: str) -> tuple[str, float] | None:
    m = HEADER.match(line.strip())
    if not m:
        return None
    label = m.group("label").strip()
    # Display names are free text, so only what is never a speaker is refused: a URL, a time, nothing.
    low = label.casefold()
    if not label or "http" in low or "www." in low or re.fullmatch(r"[\d :.]+", label):
        return None
    return label, labels.clock_seconds(m.group("time"))


def detect(text: str) -> bool:
    first = next((line for line in text.split("\n") if line.strip()), "")
    return header(first) is not None


def parse(text: str, path: Path) -> Transcript:
    turns: list[Turn] = []
    spellings: list[str] = []
    origin: float | None = None
    prev = 0.0
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        h = header(line)
        if h is None:
            if not turns:
                raise InputError("text before the first '[Name] HH:MM:SS' line", path=path, line=n)
            turns[-1].text = f"{turns[-1].text} {line}".strip()
            continue
        label, clock = h
        if origin is None:
            origin = prev = clock
        # A meeting that runs past midnight starts its clock again at 00:00:00.
        while clock + DAY_S / 2 < prev:
            clock += DAY_S
        prev = clock
        spellings.append(label)
        if turns and labels.key(turns[-1].label) == labels.key(label):
            continue
        turns.append(Turn(label, "", line=n, start_s=clock - origin))
    turns = [t for t in turns if t.text]
    if not turns:
        raise InputError("Zoom captions with speaker lines but no text", path=path)
    notes = labels.unify_spellings(turns, spellings)
    return Transcript(path=str(path), format="zoom-captions", turns=labels_merged(turns), notes=notes)


def labels_merged(turns: list[Turn]) -> list[Turn]:
    """After empty fragments are gone, one speaker's turns may touch: join them with a space, as fragments."""
    out: list[Turn] = []
    for t in turns:
        if out and out[-1].label == t.label:
            out[-1].text = f"{out[-1].text} {t.text}"
        else:
            out.append(t)
    return out
