"""Otter.ai text export: a ``Name  m:ss`` header line (two or more spaces before the time), then the text.

Whatever comes before the first header (a Markdown title, "## Details", "Transcription is provided by
https://otter.ai") is a preamble, not a turn, and is reported in the notes. The "Transcribed by https://otter.ai"
footer is dropped. Each turn keeps its header time as start_s; Otter gives no end times.
"""

from __future__ import annotations

import re
from pathlib import Path

from qualcode.errors import InputError
from qualcode.ingest.transcripts import labels
from qualcode.ingest.transcripts.types import Transcript, Turn

HEADER = re.compile(rf"^(?P<label>\S(?:.*?\S)?) {{2,}}(?P<time>{labels.TIME})[ \t]*$")
FOOTER = re.compile(r"^\s*transcribed by https?://(www\.)?otter\.ai/?\s*$", re.I)


def header(line: str) -> tuple[str, float] | None:
    m = HEADER.match(line)
    # Otter prints the speaker names the user typed, lowercase included; the header shape is the evidence.
    if not m or not labels.plausible(m.group("label"), "bracket"):
        return None
    return m.group("label"), labels.clock_seconds(m.group("time"))


def detect(text: str) -> bool:
    found = 0
    for line in text.split("\n"):
        if header(line):
            found += 1
            if found == 2:
                return True
    return False


def parse(text: str, path: Path) -> Transcript:
    lines = text.split("\n")
    notes: list[str] = []
    turns: list[Turn] = []
    spellings: list[str] = []
    paragraphs: list[list[str]] = []
    preamble: list[int] = []
    blank = False

    def close() -> None:
        if turns:
            turns[-1].text = "\n\n".join("\n".join(p) for p in paragraphs if p)

    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        h = header(raw)
        if h:
            label, start = h
            spellings.append(label)
            if turns and labels.key(turns[-1].label) == labels.key(label):
                paragraphs.append([])  # one speaker again after a header: a new paragraph of the same turn
            else:
                close()
                turns.append(Turn(label, "", line=n, start_s=start))
                paragraphs = [[]]
            blank = False
        elif not line:
            blank = True
        elif FOOTER.match(line):
            notes.append(f"dropped the Otter footer {line!r} (line {n})")
        elif not turns:
            preamble.append(n)
        else:
            if blank and paragraphs[-1]:
                paragraphs.append([])
            paragraphs[-1].append(line)
            blank = False
    close()
    if preamble:
        first = lines[preamble[0] - 1].strip()
        notes.insert(
            0,
            f"lines {preamble[0]}-{preamble[-1]} before the first speaker header are a preamble, not a turn "
            f"(starting {first!r})",
        )
    turns = [t for t in turns if t.text]
    if not turns:
        raise InputError("Otter transcript has speaker headers but no text under them", path=path)
    notes.extend(labels.unify_spellings(turns, spellings))
    # A header left without text can leave one speaker's turns side by side.
    turns = labels.merge_adjacent(turns)
    return Transcript(path=str(path), format="otter", turns=turns, notes=notes)
