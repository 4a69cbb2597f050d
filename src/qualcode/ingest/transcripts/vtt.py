"""WebVTT captions (Zoom cloud transcripts, Microsoft Teams, captions without speakers) as speaker turns.

webvtt-py reads the cue syntax, in strict mode so that a malformed cue is an error instead of text silently
lost; this module decides who speaks. srt.py reuses everything below `parse`.

Speakers: a voice span ``<v Name>text</v>`` (Teams), or ``Name: text`` at the start of a cue line (Zoom; the
name may contain a period, ``Dr. Melissa Ko``). ``Name:`` labels count only when every cue, or at least two cues
and a tenth of all cues, carry one: a stray "Okay: so" in automatic captions is speech, not a speaker. A cue without
a label continues the previous speaker, because captioners cut one utterance into several cues; but it may as well
be a listener's "Hmm." that Zoom could not attribute, so the import says which cues it kept where (one note with
their count and first lines). Made a turn of an unknown speaker instead, it would be counted as one more person
interviewed in every figure. Consecutive cues of one speaker are one turn, their lines
joined with a space (cue lines are visual wraps, not paragraphs); the turn keeps the start of its first cue and
the end of its last. Cues with no letter or digit (``♪♪♪``, ``...``) are not speech and are dropped.

A file with no speaker labels at all (automatic captions, Whisper) becomes turns of one speaker "Speaker",
with a new turn wherever the gap between one cue's end and the next cue's start is 2 seconds or more. Turns
are what coders read and code: a whole recording as one turn is unusable, a turn per cue cuts sentences
apart, and a silence of 2 s or more is where a new thought, or an unlabelled change of speaker, usually starts.
"""

from __future__ import annotations

import ast
import html
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from qualcode.errors import InputError
from qualcode.ingest.transcripts import labels
from qualcode.ingest.transcripts.types import Transcript, Turn

PAUSE_MS = 2000
SPEAKER = "Speaker"  # the one speaker of a file without labels
UNKNOWN = "Unknown"  # who speaks in unlabelled cues before the first label
SPEECH = re.compile(r"[^\W_]")  # a letter or a digit
STAMP = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{1,2})[.,](\d{1,3})")
COLON = labels.CONVENTIONS["colon"]
# What a timing line looks like to a person, even with a broken arrow ("->", "=>", "—>").
LOOKS_LIKE_TIMINGS = re.compile(r"^\s*(?:\d+:)?\d+:\d+[,.]\d+\s*\S{1,4}\s*(?:\d+:)?\d+:\d+")


@dataclass
class Cue:
    start_ms: int
    end_ms: int
    lines: list[tuple[str | None, str]]  # (voice, text without tags) per cue line
    line: int | None = None  # line of the cue timings in the file

    @property
    def text(self) -> str:
        return " ".join(t for _, t in self.lines if t)


def parse(text: str, path: Path) -> Transcript:
    turns, notes = cue_turns(read_cues(text, path), path)
    return Transcript(path=str(path), format="vtt", turns=turns, notes=notes)


def read_cues(text: str, path: Path) -> list[Cue]:
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    lines = text.split("\n")
    lead = len(text) - len(text.lstrip("\n"))
    _check_text_outside_cues(lines, path)
    try:
        captions = webvtt.WebVTT.from_string(text[lead:], strict=True).captions
    except MalformedFileError as e:
        raise InputError("not a WebVTT file: the first line must be 'WEBVTT'", path=path, line=lead + 1) from e
    except MalformedCaptionError as e:
        raise _library_error(str(e), lines, path) from e
    cues = []
    for caption, line in zip(captions, locate(captions, lines), strict=True):
        # Per line, so that a cue holding two voices (one per line) is split between them.
        parts = [webvtt.Caption(text=[raw]) for raw in caption.lines]
        cue_lines = [(p.voice, html.unescape(p.text).strip()) for p in parts]
        cues.append(Cue(caption.start_time.in_milliseconds(), caption.end_time.in_milliseconds(), cue_lines, line))
    return cues


def _check_text_outside_cues(lines: list[str], path: Path) -> None:
    """A blank line inside a cue's text ends the cue; webvtt-py then drops the rest without a word."""
    start, block = 0, []
    for n, line in enumerate([*lines, ""]):
        if line:  # as in WebVTT, only an empty line ends a block, not one of spaces
            block.append(line)
            continue
        outside = block and start > 0 and not any("-->" in x for x in block)
        timings = next((x for x in block[:2] if LOOKS_LIKE_TIMINGS.match(x)), None) if outside else None
        if timings is not None:
            raise InputError(
                f"malformed WebVTT cue timings {timings.strip()!r}: expected a line like "
                "00:00:01.000 --> 00:00:04.000 after a blank line",
                path=path,
                line=n - len(block) + 1 + block.index(timings),
            )
        if outside and not block[0].startswith(("NOTE", "STYLE", "REGION")):
            raise InputError(
                f"text outside any cue: {block[0].strip()!r} (a blank line ends a cue; remove it, "
                "or give the text its own cue timings)",
                path=path,
                line=n - len(block) + 1,
            )
        if block:
            start += 1
        block = []


def _library_error(message: str, lines: list[str], path: Path) -> InputError:
    """webvtt-py ends its messages with the offending block or value; find its line in the file."""
    value = None
    at = min((i for i in (message.find(c) for c in "['\"") if i >= 0), default=-1)
    if at >= 0:
        try:
            value = ast.literal_eval(message[at:])
        except (ValueError, SyntaxError):
            value = None
    if isinstance(value, list) and value:
        block = [str(x) for x in value]
        timings = [x for x in block if "-->" in x] or block
        for i in range(len(lines)):
            if lines[i : i + len(block)] == block:
                line = i + 1 + block.index(timings[-1])
                return InputError(
                    f"malformed WebVTT cue timings {timings[-1].strip()!r}: expected a line like "
                    "00:00:01.000 --> 00:00:04.000 after a blank line",
                    path=path,
                    line=line,
                )
    if isinstance(value, str) and value:
        line = next((i for i, x in enumerate(lines, 1) if value in x), None)
        if message.startswith("Invalid timestamp"):
            return InputError(
                f"invalid WebVTT timestamp {value!r} (expected HH:MM:SS.mmm, minutes and seconds below 60)",
                path=path,
                line=line,
            )
        return InputError(f"malformed WebVTT: {message}", path=path, line=line)
    return InputError(f"malformed WebVTT: {message}", path=path)


def stamp_ms(text: str) -> int | None:
    m = STAMP.search(text)
    if not m:
        return None
    h, mi, s, frac = m.groups()
    return ((int(h or 0) * 60 + int(mi)) * 60 + int(s)) * 1000 + int(frac.ljust(3, "0"))


def locate(captions: list, lines: list[str]) -> list[int | None]:
    """The line of each caption's timings, for notes; the library does not keep line numbers."""
    timings = [(n, stamp_ms(x)) for n, x in enumerate(lines, 1) if "-->" in x]
    out: list[int | None] = []
    pos = 0
    for caption in captions:
        start = caption.start_time.in_milliseconds()
        found = next((i for i in range(pos, len(timings)) if timings[i][1] == start), None)
        out.append(timings[found][0] if found is not None else None)
        pos = found + 1 if found is not None else pos
    return out


def cue_turns(cues: list[Cue], path: Path) -> tuple[list[Turn], list[str]]:
    """Cues to turns: by speaker label when the file has labels, else one speaker split at pauses."""
    notes: list[str] = []
    if not cues:
        raise InputError("no cues: the file has no captions (timings followed by text)", path=path)
    for c in cues:
        if c.end_ms < c.start_ms:
            raise InputError(
                f"cue ends ({_clock(c.end_ms)}) before it starts ({_clock(c.start_ms)})", path=path, line=c.line
            )
    speech = [c for c in cues if SPEECH.search(c.text)]
    silent = [c for c in cues if not SPEECH.search(c.text)]
    if silent:
        example = next((c for c in silent if c.text), silent[0])
        where = f"the cue at line {example.line}: " if example.line else ""
        notes.append(f"dropped {len(silent)} cue(s) with no words, e.g. {where}{example.text!r}")
    if not speech:
        raise InputError("no speech in the captions: every cue is empty or has no words", path=path)
    segments = _segments(speech)
    if segments is None:
        notes.append(
            f"no speaker labels: one speaker {SPEAKER!r}, a new turn after each pause of {PAUSE_MS / 1000:g} s or more"
        )
        return _split_at_pauses(speech), notes
    turns, spellings = [], []
    unlabelled: list[tuple[int | None, str, Turn]] = []  # (line, text, the turn it joined) of captions without a label
    previous = None
    for cue, label, text, line in segments:
        if label is None and not turns:
            label = UNKNOWN
            notes.append(f"captions start without a speaker label: the first turn is speaker {UNKNOWN!r}")
        if label is not None:
            spellings.append(label)
        elif cue is not previous:  # not the wrapped second line of a labelled cue: a caption of its own
            unlabelled.append((line, text, turns[-1]))
        previous = cue
        if turns and (label is None or labels.key(label) == labels.key(turns[-1].label)):
            turns[-1].text = f"{turns[-1].text} {text}"
            turns[-1].end_s = cue.end_ms / 1000
        else:
            turns.append(Turn(label, text, line=cue.line, start_s=cue.start_ms / 1000, end_s=cue.end_ms / 1000))
    notes.extend(labels.unify_spellings(turns, spellings))
    if unlabelled:
        notes.append(_unlabelled_note(unlabelled))
    return turns, notes


def _unlabelled_note(unlabelled: list[tuple[int | None, str, Turn]]) -> str:
    """Captions kept in the turn before them, said once: their count, first lines and an example."""
    line, text, turn = unlabelled[0]
    quote = f'"{text if len(text) <= 40 else text[:39] + "…"}"'
    if len(unlabelled) == 1:
        at = f"line {line}: " if line else ""
        return f"{at}a caption without a speaker label ({quote}) is kept in {turn.label}'s turn"
    lines = [str(n) for n, _, _ in unlabelled[:5] if n] + (["…"] if len(unlabelled) > 5 else [])
    listed = f" (lines {', '.join(lines)})" if line else ""
    example = f"line {line} ({quote})" if line else f"({quote})"
    return (
        f"{len(unlabelled)} captions without a speaker label are kept in the turn before them{listed}, "
        f"e.g. {example} in {turn.label}'s turn"
    )


def _clock(ms: int) -> str:
    s, ms = divmod(ms, 1000)
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{ms:03d}"


def _segments(cues: list[Cue]) -> list[tuple[Cue, str | None, str, int | None]] | None:
    """(cue, label or None, text, line in the file) per cue line; None when the file carries no speaker labels."""
    found: list[tuple[Cue, str | None, str, str | None, int | None]] = []  # the 4th item: a `Name:` candidate
    for cue in cues:
        voiced = any(voice for voice, _ in cue.lines)
        for i, (voice, text) in enumerate(cue.lines):
            if not text:
                continue
            m = None if voiced else COLON.match(text)
            line = cue.line + 1 + i if cue.line else None  # a cue's text lines follow its timings
            if voice:
                found.append((cue, voice.strip(), text, None, line))
            elif m:
                found.append((cue, None, text, m.group("label").strip(), line))
            else:
                found.append((cue, None, text, None, line))
    recurring = Counter(labels.key(c) for *_, c, _ in found if c)
    accepted = {
        c
        for *_, c, _ in found
        if c
        and (
            labels.plausible(c, "colon")
            # Zoom prints display names as typed ("maria lopez"); a name that recurs is a speaker, a
            # lowercase phrase before a colon is prose, and prose does not repeat itself.
            or (recurring[labels.key(c)] >= 2 and labels.plausible(c, "colon", lowercase_ok=True))
        )
    }
    labelled = len({id(cue) for cue, _, _, c, _ in found if c in accepted})
    voices = any(voice for _, voice, *_ in found)
    # A stray "Okay: so..." in automatic captions is not a speaker convention: labels count when every cue
    # has one, or when at least two cues and a tenth of all cues do.
    if not voices and labelled < len(cues) and (labelled < 2 or labelled * 10 < len(cues)):
        return None
    out: list[tuple[Cue, str | None, str, int | None]] = []
    for cue, voice, text, c, line in found:
        if voice:
            out.append((cue, voice, text, line))
        elif c in accepted:
            rest = COLON.match(text).group("rest").strip()
            out.append((cue, c, rest, line))
        else:
            out.append((cue, None, text, line))
    return [segment for segment in out if segment[2]]


def _split_at_pauses(cues: list[Cue]) -> list[Turn]:
    turns: list[Turn] = []
    prev_end = 0
    for cue in cues:
        if turns and cue.start_ms - prev_end < PAUSE_MS:
            turns[-1].text = f"{turns[-1].text} {cue.text}"
            turns[-1].end_s = cue.end_ms / 1000
        else:
            turns.append(Turn(SPEAKER, cue.text, line=cue.line, start_s=cue.start_ms / 1000, end_s=cue.end_ms / 1000))
        prev_end = cue.end_ms
    return turns
