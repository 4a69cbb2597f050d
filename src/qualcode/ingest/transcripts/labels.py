"""Speaker labels in running text: the conventions real transcripts use, and what is never a speaker.

Conventions: ``Name: text`` and ``Name : text`` (French spacing), ``[id1] text``, ``**Name** [m:ss] text``,
``I – text``. A URL, a clock time or a Markdown heading is never a speaker.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass

from qualcode.errors import InputError
from qualcode.ingest.transcripts.types import Turn

TIME = r"\d{1,2}(?::\d{2}){1,2}"
CONVENTIONS: dict[str, re.Pattern] = {
    "bold": re.compile(rf"^\*\*(?P<label>[^*\n]{{1,48}}?):?\*\*:?[ \t]*(?:\[(?P<time>{TIME})\])?[ \t]*(?P<rest>.*)$"),
    "bracket": re.compile(r"^\[(?P<label>[^\]\n]{1,40})\][ \t]*(?P<rest>.*)$"),
    "colon": re.compile(r"^[ \t]{0,3}(?P<label>[^\s:#>*|\-][^:\n]{0,47}?)[ \t]?:[ \t]+(?P<rest>.*)$"),
    "dash": re.compile(r"^[ \t]{0,3}(?P<label>[^\s\-–—#>*|][^\n–—]{0,30}?)[ \t]+[–—-][ \t]+(?P<rest>.*)$"),
}
# Words that open a line with a colon but never name a speaker.
NOT_SPEAKERS = {
    "note",
    "notes",
    "nb",
    "ps",
    "update",
    "edit",
    "source",
    "sources",
    "link",
    "url",
    "date",
    "time",
    "location",
    "subject",
    "title",
    "transcript",
    "transcription",
    "summary",
    "tags",
    "re",
    "fwd",
    "copyright",
    "example",
    "examples",
    "warning",
    "disclaimer",
    "duration",
    "recording",
    "attendees",
    "participants",
    "agenda",
    "minutes",
}
LABEL_CHARS = re.compile(r"^[\w .'’()\-]+$")
INTERVIEWER = re.compile(
    r"^(interviewer|moderator|facilitator|experimenter|evaluator|researcher|host|int|ev|q)\s*\d*$|^i$", re.I
)
SPELLING = re.compile(r"[\s._\-’']+")
CLOCK_ONLY = re.compile(r"[\d :.]+")
DIGIT = re.compile(r"\d")


@functools.lru_cache(maxsize=4096)  # a transcript repeats a handful of labels on every turn
def key(label: str) -> str:
    """Spelling-insensitive identity: 'Interviewer1', 'Interviewer 1' and ' interviewer 1' are one speaker."""
    return SPELLING.sub("", label).casefold()


@functools.lru_cache(maxsize=4096)  # every turn's label is checked, and a transcript has a handful
def plausible(label: str, convention: str, *, lowercase_ok: bool = False) -> bool:
    """Could this be a speaker? lowercase_ok accepts lowercase words, for tools that print display names as typed."""
    label = label.strip()
    if not label or len(label) > 48 or not LABEL_CHARS.match(label):
        return False
    low = label.casefold()
    if low in NOT_SPEAKERS or "http" in low or "www." in low or CLOCK_ONLY.fullmatch(label):
        return False
    words = label.split()
    if convention in ("bold", "bracket"):
        return len(words) <= 6
    if len(words) > (4 if convention == "colon" else 3):
        return False
    if lowercase_ok:
        return True
    # Running prose ("Transcription is provided by") has lowercase words; names and ids do not.
    lower_words = [w for w in words if w[0].islower() and not DIGIT.search(w)]
    return not lower_words or (len(words) == 1 and INTERVIEWER.match(label) is not None)


@dataclass
class Match:
    label: str
    rest: str
    time: float | None


def match_line(line: str, convention: str) -> Match | None:
    m = CONVENTIONS[convention].match(line)
    if not m or not plausible(m.group("label"), convention):
        return None
    t = m.groupdict().get("time")
    return Match(m.group("label").strip(), m.group("rest"), clock_seconds(t) if t else None)


def clock_seconds(text: str) -> float:
    parts = [float(p) for p in text.split(":")]
    total = 0.0
    for p in parts:
        total = total * 60 + p
    return total


def detect_convention(lines: list[str]) -> str | None:
    """The convention most lines follow; None when no line carries a plausible label."""
    counts = Counter()
    for line in lines:
        for name in CONVENTIONS:
            if match_line(line, name):
                counts[name] += 1
                break
    if not counts:
        return None
    best, n = counts.most_common(1)[0]
    return best if n >= 2 or len([x for x in lines if x.strip()]) <= 3 else None


def parse_lines(
    lines: list[str],
    *,
    path: str,
    first_line: int = 1,
    convention: str | None,
    known: dict[str, str] | None = None,
    strict: bool = False,
) -> tuple[list[Turn], list[str]]:
    """Split lines into turns.

    known maps key(label) → canonical label. With strict=True (front matter declares every speaker), a line that
    looks like an undeclared label is an error, and text before the first label is an error.
    Returns (turns, notes); notes report merged spellings.
    """
    turns: list[Turn] = []
    spellings: list[str] = []  # every label as written, for unify_spellings
    paragraphs: list[list[str]] = []  # paragraphs of the current turn
    blank_pending = False

    def close() -> None:
        if turns and paragraphs:
            turns[-1].text = "\n\n".join("\n".join(p).strip() for p in paragraphs if "".join(p).strip())

    for offset, raw in enumerate(lines):
        lineno = first_line + offset
        line = raw.rstrip()
        if not line.strip():
            blank_pending = True
            continue
        m = match_line(line, convention) if convention else None
        if m and known is not None and key(m.label) not in known:
            if strict:
                raise InputError(
                    f"unknown speaker label {m.label!r}: declare it under participants: (speaker:) or interviewers:",
                    path=path,
                    line=lineno,
                )
            m = None
        if m:
            label = known[key(m.label)] if known is not None else m.label
            spellings.append(m.label)
            if turns and key(turns[-1].label) == key(label):
                paragraphs.append([m.rest])  # the same speaker again: one turn, paragraph break kept
            else:
                close()
                turns.append(Turn(label=label, text="", line=lineno, start_s=m.time))
                paragraphs = [[m.rest]]
        elif not turns:
            if strict:
                raise InputError("text before the first speaker label", path=path, line=lineno)
            if convention is None:
                turns.append(Turn(label="Speaker", text="", line=lineno))
                paragraphs = [[line.strip()]]
            # otherwise: a preamble before the first label (a title, a note); it is not part of any turn
        elif blank_pending or not paragraphs:
            if convention is None:
                close()  # no labels at all: each paragraph is a turn of the one speaker
                turns.append(Turn(label="Speaker", text="", line=lineno))
                paragraphs = [[line.strip()]]
            else:
                paragraphs.append([line.strip()])
        else:
            paragraphs[-1].append(line.strip())
        blank_pending = False
    close()
    turns = [t for t in turns if t.text]
    notes = unify_spellings(turns, spellings, known)
    # Without labels each paragraph stays a turn of its own; otherwise one speaker's run is one turn.
    return (merge_adjacent(turns) if convention else turns), notes


def unify_spellings(turns: list[Turn], spellings: list[str], known: dict[str, str] | None = None) -> list[str]:
    """One speaker written several ways: every turn gets the most frequent spelling (or the declared one).

    spellings holds each label as written, once per occurrence. Returns notes saying what was merged.
    """
    counters: dict[str, Counter] = {}
    for label in spellings:
        counters.setdefault(key(label), Counter())[label] += 1
    notes: list[str] = []
    canonical: dict[str, str] = {}
    for k, counter in counters.items():
        best = known[k] if known is not None else counter.most_common(1)[0][0]
        canonical[k] = best
        others = sorted(s for s in counter if s != best)
        if others:
            notes.append(f"merged speaker spellings {', '.join(repr(s) for s in others)} into {best!r}")
    for t in turns:
        t.label = canonical.get(key(t.label), t.label)
    return notes


def merge_adjacent(turns: list[Turn]) -> list[Turn]:
    out: list[Turn] = []
    for t in turns:
        if out and out[-1].label == t.label:
            out[-1].text = f"{out[-1].text}\n\n{t.text}"
            out[-1].end_s = t.end_s if t.end_s is not None else out[-1].end_s
        else:
            out.append(t)
    return out
