"""Source texts from REFI-QDA files: normalising them without losing offsets, UTF-16 offsets, turns found in place.

qualcode stores every text with LF line ends and in NFC, and indexes it in code points. A REFI source may use CRLF,
decomposed accents, or (NVivo) count offsets in UTF-16 code units; each selection's offsets are carried through
every change, so a coding still covers the same characters.

Imported sources become turns *in place*: the text is stored exactly as the file has it (after normalisation) and
turns are spans of it, never a rewritten "Label: text" transcript, because rewriting would move every offset.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from qualcode.ingest.transcripts import labels

LABEL_COVERAGE = 0.5  # share of the text in labelled paragraphs before speaker labels are believed


def normalise(raw: str, offsets: set[int]) -> tuple[str, dict[int, tuple[int, int]]]:
    """(text with LF and NFC, offset in RAW → (offset rounded down, offset rounded up) in text).

    An offset inside a unit that normalisation changes (between CR and LF, inside a combining sequence) has no exact
    image: a selection's start is rounded down and its end up, so it keeps every character it had.
    """
    if "\r" not in raw and unicodedata.is_normalized("NFC", raw):
        return raw, {o: (o, o) for o in offsets}
    pieces: list[str] = []
    out: dict[int, tuple[int, int]] = {}
    wanted = sorted(o for o in offsets if 0 <= o <= len(raw))
    w = 0
    i = n = 0
    while i < len(raw):
        j = i + 1
        if raw[i] == "\r":
            j += raw.startswith("\n", j)
            unit = "\n"
        else:
            while j < len(raw) and _continues(raw[j]):
                j += 1
            unit = unicodedata.normalize("NFC", raw[i:j])
        while w < len(wanted) and wanted[w] < j:
            o = wanted[w]
            out[o] = (n, n) if o == i else (n, n + len(unit))
            w += 1
        pieces.append(unit)
        n += len(unit)
        i = j
    for o in wanted[w:]:
        out[o] = (n, n)
    return "".join(pieces), out


def _continues(c: str) -> bool:
    # Combining marks, and Hangul vowel/final jamo, compose with what precedes them.
    return unicodedata.combining(c) != 0 or 0x1160 <= ord(c) <= 0x11FF


# The origin of a file whose offsets are UTF-16 code units: qualcode writes it after its name and version when asked
# for NVivo's offsets, and reads offsets so whenever an origin says it (or names NVivo).
UTF16_ORIGIN = "offsets in UTF-16 code units"


def counts_utf16(origin: str) -> bool:
    """Whether a file from ORIGIN counts offsets in UTF-16 code units."""
    folded = origin.casefold()
    return "nvivo" in folded or UTF16_ORIGIN.casefold() in folded


def code_points_to_utf16(text: str, offsets: set[int]) -> dict[int, int]:
    """Code-point offsets → UTF-16 code-unit offsets: each character beyond the Basic Multilingual Plane counts two."""
    beyond = [i for i, c in enumerate(text) if ord(c) > 0xFFFF]
    return {o: o + bisect.bisect_left(beyond, o) for o in offsets}


def utf16_to_code_points(text: str, offsets: set[int]) -> dict[int, int] | None:
    """UTF-16 code-unit offsets → code-point offsets; None when one falls inside a surrogate pair (so not UTF-16)."""
    units = [0]
    for c in text:
        units.append(units[-1] + (2 if ord(c) > 0xFFFF else 1))
    out = {}
    for o in offsets:
        i = bisect.bisect_left(units, o)
        if i == len(units) or units[i] != o:
            if o > units[-1]:
                out[o] = o - units[-1] + len(text)  # past the end: left for the range check to report
                continue
            return None
        out[o] = i
    return out


def utf16_length(text: str) -> int:
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


NOT_RECORDED = "not recorded"  # the speaker of text no label attributes: a document's own words


@dataclass
class Segment:
    label: str  # a speaker label, or NOT_RECORDED
    start: int  # the unit's text in the interview text
    end: int


def segments(
    text: str, selections: list[tuple[int, int]], *, declared: list[str] = (), infer: bool = False
) -> tuple[list[Segment], list[str]]:
    """The units a source is cut into: speaker turns when its labels can be trusted, paragraphs otherwise.

    Labels are trusted when the file declares them (the speaker labels of its cases: qualcode's own exports) or when
    INFER is asked for and most of the text sits in paragraphs that open with one (a journal article has "Abstract:"
    lines; a comment list has a few "Word:" lines). Otherwise the source is a document: its paragraphs are the units,
    a paragraph joined to the next where a selection runs across them, so every coding lies inside one unit. Nothing
    is left out: text before the first label is a unit of its own, of no recorded speaker.
    """
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    matches = None
    if declared or infer:
        convention = labels.detect_convention(lines)
        found = [labels.match_line(line.rstrip(), convention) if convention else None for line in lines]
        named = any(m and labels.key(m.label) in {labels.key(d) for d in declared} for m in found)
        # Declared labels vouch for the transcript's convention (its interviewers' labels too); a guess needs most of
        # the text to open with labels.
        if convention and (named or (infer and _coverage(lines, found) >= LABEL_COVERAGE)):
            matches = found
    if matches is not None:
        return _labelled(text, lines, starts, matches)
    notes = ["no speaker labels were used: each paragraph is a unit of the document's own text"] if infer else []
    return _paragraphs(text, selections), notes


def _coverage(lines: list[str], matches: list) -> float:
    total = covered = 0
    inside = False
    for line, m in zip(lines, matches, strict=True):
        if not line.strip():
            inside = False
            continue
        inside = inside or m is not None
        total += len(line)
        covered += len(line) if inside else 0
    return covered / total if total else 0.0


def _labelled(text: str, lines: list[str], starts: list[int], matches: list) -> tuple[list[Segment], list[str]]:
    spellings: dict[str, Counter] = {}
    heads = []
    for i, m in enumerate(matches):
        if m:
            spellings.setdefault(labels.key(m.label), Counter())[m.label] += 1
            heads.append(i)
    canonical = {k: c.most_common(1)[0][0] for k, c in spellings.items()}
    notes = []
    out = []
    a, b = _strip(text, 0, starts[heads[0]])
    if b > a:
        out.append(Segment(NOT_RECORDED, a, b))
        notes.append("the text before the first speaker label is a unit of its own, of no recorded speaker")
    for n, i in enumerate(heads):
        m = matches[i]
        line = lines[i].rstrip()
        a = starts[i] + len(line) - len(m.rest)
        b = starts[heads[n + 1]] if n + 1 < len(heads) else len(text)
        a, b = _strip(text, a, b)
        if b > a:
            out.append(Segment(canonical[labels.key(m.label)], a, b))
    for k, counter in spellings.items():
        others = sorted(s for s in counter if s != canonical[k])
        if others:
            notes.append(f"speaker {canonical[k]!r} is also written {', '.join(map(repr, others))}")
    return out, notes


def _paragraphs(text: str, selections: list[tuple[int, int]]) -> list[Segment]:
    # Paragraphs are separated by blank lines; a text with no blank line at all is a list written one entry per line
    # (open-ended answers, comments, notes), and its lines are the units, not the whole text as one.
    unit = r"(?:[^\n]|\n(?![ \t]*\n))+" if re.search(r"\n[ \t]*\n", text) else r"[^\n]+"
    spans = []
    for m in re.finditer(unit, text):
        a, b = _strip(text, m.start(), m.end())
        if b > a:
            spans.append((a, b))
    # A selection that runs from one paragraph into the next joins them: a coding must lie inside one unit.
    by_start = sorted(selections)
    out: list[list[int]] = []
    i, reach = 0, -1  # reach: the furthest end of the selections that start before the current unit ends
    for a, b in spans:
        if out:
            while i < len(by_start) and by_start[i][0] < out[-1][1]:
                reach = max(reach, by_start[i][1])
                i += 1
            if reach > a:
                out[-1][1] = b
                continue
        out.append([a, b])
    return [Segment(NOT_RECORDED, a, b) for a, b in out]


def _strip(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b
