"""SubRip subtitles (.srt, e.g. from Whisper), with or without ``Name:`` prefixes.

webvtt-py reads the cues; speakers, merging, pauses and dropped music cues follow the WebVTT rules (see vtt).
webvtt-py's SubRip reader has no strict mode: it drops a cue whose timings it cannot read and glues a block
it does not recognise onto the previous cue's text. Both would lose or garble speech without a word, so the
timing lines are checked here first.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from qualcode.errors import InputError
from qualcode.ingest.transcripts import vtt
from qualcode.ingest.transcripts.types import Transcript

# What a timing line looks like to a person, even with a broken arrow or separator.
LOOKS_LIKE_TIMINGS = re.compile(r"^\s*\d+:\d+:\d+[,.]\d+\s*\S{1,4}\s*\d+:\d+")
EXAMPLE = "00:00:01,000 --> 00:00:04,000"


def parse(text: str, path: Path) -> Transcript:
    import webvtt
    from webvtt.errors import MalformedFileError
    from webvtt.srt import SRTCueBlock

    lines = text.split("\n")
    lead = len(text) - len(text.lstrip("\n"))
    for n, line in enumerate(lines, 1):
        if "-->" not in line and not LOOKS_LIKE_TIMINGS.match(line):
            continue
        if not SRTCueBlock.CUE_TIMINGS_PATTERN.match(line):
            raise InputError(
                f"malformed SRT timings {line.strip()!r} (expected a line like {EXAMPLE})", path=path, line=n
            )
        if n < 2 or not lines[n - 2].strip().isdigit():
            raise InputError(
                f"SRT cue timings {line.strip()!r} without a cue number on the line before", path=path, line=n
            )
    try:
        captions = webvtt.WebVTT.from_buffer(io.StringIO(text[lead:]), format="srt").captions
    except MalformedFileError as e:
        raise InputError(
            f"not a SubRip file: it must begin with a cue number, then a line of timings such as {EXAMPLE}",
            path=path,
            line=lead + 1,
        ) from e
    cues = [
        vtt.Cue(
            c.start_time.in_milliseconds(),
            c.end_time.in_milliseconds(),
            [(None, x.strip()) for x in c.text.split("\n")],
            line,
        )
        for c, line in zip(captions, vtt.locate(captions, lines), strict=True)
    ]
    turns, notes = vtt.cue_turns(cues, path)
    return Transcript(path=str(path), format="srt", turns=turns, notes=notes)
