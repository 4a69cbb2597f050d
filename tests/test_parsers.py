"""Every transcript format and label convention on small inline files, bad files with their exact messages,
and the import options that give speakers their metadata."""

from __future__ import annotations

import io
import json
import zipfile

import docx as pydocx
import pytest

from qualcode.errors import InputError
from qualcode.ingest.transcripts import parse_file
from tests.conftest import dump, write
from tests.conftest import query as rows


def parse(tmp_path, name: str, text: str):
    return parse_file(write(tmp_path / name, text))


def said(transcript) -> list[tuple[str, str]]:
    return [(t.label, t.text) for t in transcript.turns]


def timed(transcript) -> list[tuple[str, float | None, float | None]]:
    return [(t.label, t.start_s, t.end_s) for t in transcript.turns]


def error(tmp_path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(InputError) as e:
        parse_file(path)
    return str(e.value).removeprefix(f"{path}")


# ---------------------------------------------------------------- plain text: the label conventions

PLAIN = [
    (
        "colon",
        "Interviewer: How did it start?\nMs Sharma: With a letter.\nIt came late.\n",
        [("Interviewer", "How did it start?"), ("Ms Sharma", "With a letter.\nIt came late.")],
    ),
    (
        "french colon",
        "Enquêtrice : Bonjour.\nM. Diallo\u00a0: Bonjour\u00a0!\nEnquêtrice\u202f: Merci.\n",
        [("Enquêtrice", "Bonjour."), ("M. Diallo", "Bonjour !"), ("Enquêtrice", "Merci.")],
    ),
    (
        "bracket ids",
        "[id1] hello, I like the course.\n\n[id2] I am struggling.\n\n[id1] yes, I agree.\n",
        [("id1", "hello, I like the course."), ("id2", "I am struggling."), ("id1", "yes, I agree.")],
    ),
    (
        "bold with times",
        "**Emma** [0:00] Today we talk.\n\n**Kelly** [1:05]No space here.\n",
        [("Emma", "Today we talk."), ("Kelly", "No space here.")],
    ),
    (
        "dash",
        "I – How are you?\nR – Fine, thanks.\nI — And work?\n",
        [("I", "How are you?"), ("R", "Fine, thanks."), ("I", "And work?")],
    ),
]


@pytest.mark.parametrize(("case", "text", "expected"), PLAIN, ids=[p[0] for p in PLAIN])
def test_plain_conventions(tmp_path, case, text, expected):
    t = parse(tmp_path, "t.txt", text)
    assert (t.format, said(t)) == ("plain", expected)


def test_bold_convention_keeps_times(tmp_path):
    t = parse(tmp_path, "t.md", "**Emma** [0:00] Hi.\n\n**Kelly** [1:05] Yo.\n\n**Emma** [1:02:03] Bye.\n")
    assert timed(t) == [("Emma", 0.0, None), ("Kelly", 65.0, None), ("Emma", 3723.0, None)]


def test_inconsistent_spellings_of_one_speaker_merge_with_a_note(tmp_path):
    text = (
        "Interviewer1: Welcome.\n\nInterviewer 1: Shall we start?\n\nMs X: Yes.\n\n"
        " Interviewer 1: First question.\n\nMs X: Go on.\n"
    )
    t = parse(tmp_path, "t.txt", text)
    assert said(t) == [
        ("Interviewer 1", "Welcome.\n\nShall we start?"),
        ("Ms X", "Yes."),
        ("Interviewer 1", "First question."),
        ("Ms X", "Go on."),
    ]
    assert "merged speaker spellings 'Interviewer1' into 'Interviewer 1'" in t.notes


def test_urls_times_and_headings_are_never_speakers(tmp_path):
    text = (
        "# Interview: 12 May\n\nSource: https://example.org/x\n\nInt: Hello.\n"
        "https://example.org: not a speaker\n10:30: not a speaker either\n## Part 2: later\nP1: Hi.\n"
    )
    t = parse(tmp_path, "t.md", text)
    assert said(t) == [
        ("Int", "Hello.\nhttps://example.org: not a speaker\n10:30: not a speaker either\n## Part 2: later"),
        ("P1", "Hi."),
    ]


def test_plain_text_without_labels_is_one_speaker_per_paragraph(tmp_path):
    t = parse(tmp_path, "t.txt", "It began in May.\nThen June.\n\nLater it rained.\n")
    assert said(t) == [("Speaker", "It began in May.\nThen June."), ("Speaker", "Later it rained.")]


# ---------------------------------------------------------------- WebVTT

ZOOM = """WEBVTT

1
00:00:00.050 --> 00:00:01.790
Srijani Ghosh: Hi!

2
00:00:02.070 --> 00:00:04.050
Dr. Melissa Ko: Get this party started.

3
00:00:05.140 --> 00:00:08.310
Dr. Melissa Ko: Why are you
so dark?

4
00:00:08.500 --> 00:00:09.000
Hmm.

5
00:00:09.710 --> 00:00:11.670
Srijani Ghosh: So: the camera.
"""


def test_zoom_vtt_labels_merging_and_times(tmp_path):
    t = parse(tmp_path, "m.transcript.vtt", ZOOM)
    assert t.format == "vtt"
    assert said(t) == [
        ("Srijani Ghosh", "Hi!"),
        # Cue lines and consecutive cues of one speaker join with a space; "Hmm." has no label and continues.
        ("Dr. Melissa Ko", "Get this party started. Why are you so dark? Hmm."),
        ("Srijani Ghosh", "So: the camera."),
    ]
    assert timed(t) == [("Srijani Ghosh", 0.05, 1.79), ("Dr. Melissa Ko", 2.07, 9.0), ("Srijani Ghosh", 9.71, 11.67)]
    assert [turn.line for turn in t.turns] == [4, 8, 21]  # the cue timings
    # Kept where it is, but said: a listener's "Hmm." may be quoted as Dr. Ko's words. Line 14 ("so dark?") wraps a
    # labelled cue's text and is no caption of its own.
    assert t.notes == ['line 18: a caption without a speaker label ("Hmm.") is kept in Dr. Melissa Ko\'s turn']


TEAMS = """WEBVTT

a5c3d0f2-1f1e-4d5e-9d7c-3c4e1e7a5f10/12-0
00:00:01.000 --> 00:00:03.500
<v Alice Smith>Hello everyone, thanks</v>

a5c3d0f2-1f1e-4d5e-9d7c-3c4e1e7a5f10/13-0
00:00:03.600 --> 00:00:05.000
<v Alice Smith>for coming &amp; all.</v>

a5c3d0f2-1f1e-4d5e-9d7c-3c4e1e7a5f10/14-0
00:00:05.200 --> 00:00:07.000
<v Bob Okafor>Happy to be here.
Really.</v>

00:00:07.100 --> 00:00:08.000
Sure thing.

00:00:09.000 --> 00:00:10.000
<v Alice Smith>Good.</v>
<v Bob Okafor>Yes.</v>
"""


def test_teams_voices(tmp_path):
    t = parse(tmp_path, "teams.vtt", TEAMS)
    assert said(t) == [
        ("Alice Smith", "Hello everyone, thanks for coming & all."),
        ("Bob Okafor", "Happy to be here. Really. Sure thing."),
        ("Alice Smith", "Good."),
        ("Bob Okafor", "Yes."),
    ]
    assert timed(t)[:2] == [("Alice Smith", 1.0, 5.0), ("Bob Okafor", 5.2, 8.0)]
    assert t.notes == ['line 17: a caption without a speaker label ("Sure thing.") is kept in Bob Okafor\'s turn']


def test_captions_without_a_label_are_counted_in_one_note(cli, tmp_path):
    cues = [
        ("Ana Li", "Welcome."),
        (None, "Mm-hmm."),
        ("Ben", "So we started in May."),
        (None, "Right."),
        (None, "OK."),
    ]
    cues += [("Ana Li", "And then?"), (None, "Yes."), ("Ben", "Then it rained."), (None, "Wow.")]
    text = "WEBVTT\n" + "".join(
        f"\n00:00:{i:02d}.000 --> 00:00:{i:02d}.900\n{f'{who}: ' if who else ''}{what}\n"
        for i, (who, what) in enumerate(cues)
    )
    r = cli("import", write(tmp_path / "a.vtt", text))
    stderr = " ".join(r.stderr.split())
    assert stderr.count("without a speaker label") == 1
    assert (
        "a.vtt: 5 captions without a speaker label are kept in the turn before them (lines 7, 13, 16, 22, 28), "
        'e.g. line 7 ("Mm-hmm.") in Ana Li\'s turn'
    ) in stderr


def test_captions_without_speakers_split_at_pauses_of_two_seconds(tmp_path):
    text = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nIt began\nin May.\n\n"
        "00:00:03.999 --> 00:00:05.000\nThen June.\n\n"  # 1.999 s after the cue before: same turn
        "00:00:07.000 --> 00:00:08.000\nLater, rain.\n\n"  # exactly 2 s: a new turn
        "00:00:08.000 --> 00:00:09.000\n♪♪♪\n\n"
        "00:00:09.500 --> 00:00:10.000\nSo: yes.\n"
    )
    t = parse(tmp_path, "auto.vtt", text)
    assert said(t) == [("Speaker", "It began in May. Then June."), ("Speaker", "Later, rain. So: yes.")]
    assert timed(t) == [("Speaker", 1.0, 5.0), ("Speaker", 7.0, 10.0)]
    assert t.notes == [
        "dropped 1 cue(s) with no words, e.g. the cue at line 13: '♪♪♪'",
        "no speaker labels: one speaker 'Speaker', a new turn after each pause of 2 s or more",
    ]


def test_captions_before_the_first_label_are_an_unknown_speaker(tmp_path):
    text = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nTesting.\n\n00:00:02.000 --> 00:00:03.000\nAna Li: Hello.\n\n"
        "00:00:03.000 --> 00:00:04.000\nBen: Hi.\n"
    )
    t = parse(tmp_path, "a.vtt", text)
    assert said(t) == [("Unknown", "Testing."), ("Ana Li", "Hello."), ("Ben", "Hi.")]
    assert "captions start without a speaker label: the first turn is speaker 'Unknown'" in t.notes


def test_lowercase_display_names_count_when_they_recur(tmp_path):
    cues = [("maria lopez", "hi there"), ("Dr. Ko", "hello"), ("maria lopez", "bye"), (None, "so the answer: yes")]
    text = "WEBVTT\n" + "".join(
        f"\n00:00:0{i}.000 --> 00:00:0{i}.900\n{f'{who}: ' if who else ''}{what}\n"
        for i, (who, what) in enumerate(cues)
    )
    t = parse(tmp_path, "a.vtt", text)
    assert said(t) == [("maria lopez", "hi there"), ("Dr. Ko", "hello"), ("maria lopez", "bye so the answer: yes")]


def test_spellings_of_one_zoom_name_merge(tmp_path):
    text = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nDr. Ko: One.\n\n00:00:02.000 --> 00:00:03.000\nAna: Two.\n\n"
        "00:00:03.000 --> 00:00:04.000\nDr Ko: Three.\n\n00:00:04.000 --> 00:00:05.000\nDr. Ko: Four.\n"
    )
    t = parse(tmp_path, "a.vtt", text)
    assert said(t) == [("Dr. Ko", "One."), ("Ana", "Two."), ("Dr. Ko", "Three. Four.")]
    assert t.notes == ["merged speaker spellings 'Dr Ko' into 'Dr. Ko'"]


BAD_VTT = [
    (
        "no-header.vtt",
        "1\n00:00:01.000 --> 00:00:02.000\nA: hi\n",
        ":1: not a WebVTT file: the first line must be 'WEBVTT'",
    ),
    (
        "srt-times.vtt",
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nA: hi\n\n00:00:03,000 --> 00:00:04,000\nB: yo\n",
        ":6: malformed WebVTT cue timings '00:00:03,000 --> 00:00:04,000': expected a line like "
        "00:00:01.000 --> 00:00:04.000 after a blank line",
    ),
    (
        "no-blank.vtt",
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nA: hi\n00:00:03.000 --> 00:00:04.000\nB: yo\n",
        ":5: malformed WebVTT cue timings '00:00:03.000 --> 00:00:04.000': expected a line like "
        "00:00:01.000 --> 00:00:04.000 after a blank line",
    ),
    (
        "bad-time.vtt",
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nA: hi\n\n00:00:03.000 --> 00:00:62.000\nB: yo\n",
        ":6: invalid WebVTT timestamp '00:00:62.000' (expected HH:MM:SS.mmm, minutes and seconds below 60)",
    ),
    (
        "outside.vtt",
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nA: hi\n\nsecond paragraph\n",
        ":6: text outside any cue: 'second paragraph' (a blank line ends a cue; remove it, or give the text "
        "its own cue timings)",
    ),
    (
        "setting.vtt",
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000 align:sideways\nA: hi\n",
        ":3: malformed WebVTT: Invalid cue setting 'align:sideways'",
    ),
    (
        "music.vtt",
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n♪♪♪\n",
        ": no speech in the captions: every cue is empty or has no words",
    ),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD_VTT, ids=[b[0] for b in BAD_VTT])
def test_malformed_vtt(tmp_path, name, text, message):
    assert error(tmp_path, name, text) == message


# ---------------------------------------------------------------- SubRip


def test_srt_with_name_prefixes(tmp_path):
    text = (
        "1\n00:00:01,000 --> 00:00:04,000\nJOHN: Hello\nMARY: Hi John\n\n"
        "2\n00:00:04,500 --> 00:00:06,000\nhow are you\n\n"
        "3\n00:00:06,000 --> 00:00:07,000\n<i>JOHN: Fine.</i>\n"
    )
    t = parse(tmp_path, "a.srt", text)
    assert t.format == "srt"
    assert said(t) == [("JOHN", "Hello"), ("MARY", "Hi John how are you"), ("JOHN", "Fine.")]
    assert timed(t) == [("JOHN", 1.0, 4.0), ("MARY", 1.0, 6.0), ("JOHN", 6.0, 7.0)]


def test_srt_without_speakers_drops_music_and_splits_at_pauses(tmp_path):
    text = (
        "1\r\n00:00:01,000 --> 00:00:02,000\r\nHello and welcome.\r\n\r\n"
        "2\r\n00:00:02,500 --> 00:00:03,000\r\n♪♪♪\r\n\r\n"
        "3\r\n00:00:03,100 --> 00:00:04,000\r\nThis is the show.\r\n\r\n"
        "4\r\n00:00:06,000 --> 00:00:07,000\r\n2019.\r\n"
    )
    t = parse(tmp_path, "a.srt", text)
    # '2019.' has no letters but is speech; '♪♪♪' is not.
    assert said(t) == [("Speaker", "Hello and welcome. This is the show."), ("Speaker", "2019.")]
    assert "dropped 1 cue(s) with no words, e.g. the cue at line 6: '♪♪♪'" in t.notes


BAD_SRT = [
    (
        "arrow.srt",
        "1\n00:00:01,000 --> 00:00:04,000\nHello\n\n2\n00:00:05,000 -> 00:00:06,000\nBye\n",
        ":6: malformed SRT timings '00:00:05,000 -> 00:00:06,000' (expected a line like 00:00:01,000 --> 00:00:04,000)",
    ),
    (
        "time.srt",
        "1\n00:00:01,000 --> 00:00:04,000\nHello\n\n2\n00:00:05,000 --> 00:00:xx,000\nBye\n",
        ":6: malformed SRT timings '00:00:05,000 --> 00:00:xx,000' (expected a line like 00:00:01,000 --> "
        "00:00:04,000)",
    ),
    (
        "number.srt",
        "1\n00:00:01,000 --> 00:00:04,000\nHello\n\n00:00:05,000 --> 00:00:06,000\nBye\n",
        ":5: SRT cue timings '00:00:05,000 --> 00:00:06,000' without a cue number on the line before",
    ),
    (
        "notsrt.srt",
        "Just some notes\nabout the talk\nand more\n",
        ":1: not a SubRip file: it must begin with a cue number, then a line of timings such as "
        "00:00:01,000 --> 00:00:04,000",
    ),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD_SRT, ids=[b[0] for b in BAD_SRT])
def test_malformed_srt(tmp_path, name, text, message):
    assert error(tmp_path, name, text) == message


# ---------------------------------------------------------------- Otter.ai and Zoom saved captions

OTTER = """# Interview with Ana

## Details

Interview took place on 2 March 2022.
Transcription is provided by https://otter.ai.

Ana Li  0:00  
Hello there.
Second line.

Ana Li  0:05
And more.

Ben  0:09
Hi.

ana li  1:02:03
Bye.

Transcribed by https://otter.ai
"""  # noqa: W291 - Otter leaves trailing spaces after the header time


def test_otter_export(tmp_path):
    t = parse(tmp_path, "ana.txt", OTTER)
    assert t.format == "otter"
    assert said(t) == [("Ana Li", "Hello there.\nSecond line.\n\nAnd more."), ("Ben", "Hi."), ("Ana Li", "Bye.")]
    assert timed(t) == [("Ana Li", 0.0, None), ("Ben", 9.0, None), ("Ana Li", 3723.0, None)]
    assert t.notes == [
        "lines 1-6 before the first speaker header are a preamble, not a turn (starting '# Interview with Ana')",
        "dropped the Otter footer 'Transcribed by https://otter.ai' (line 21)",
        "merged speaker spellings 'ana li' into 'Ana Li'",
    ]


ZOOM_CAPTIONS = (
    "[Ana Li] 23:59:50\r\nHello, um\r\n\r\n[Ana Li] 23:59:55\r\nwelcome.\r\n\r\n"
    "[G3P1] 00:00:03\r\nThanks.\r\n\r\n[Ana Li] 00:00:03\r\nSo…\r\nlet us start.\r\n"
)


def test_zoom_saved_captions(tmp_path):
    t = parse(tmp_path, "captions.txt", ZOOM_CAPTIONS)
    assert t.format == "zoom-captions"
    assert said(t) == [("Ana Li", "Hello, um welcome."), ("G3P1", "Thanks."), ("Ana Li", "So… let us start.")]
    # Relative to the first timestamp, across midnight; the same second twice is overlapping speech.
    assert timed(t) == [("Ana Li", 0.0, None), ("G3P1", 13.0, None), ("Ana Li", 13.0, None)]


# ---------------------------------------------------------------- which parser reads which file

DISPATCH = [
    ("a.txt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nA: hi\n", "vtt"),
    ("a.md", OTTER, "otter"),
    ("a.md", ZOOM_CAPTIONS, "zoom-captions"),
    ("a.txt", "[id1] hello\n\n[id2] 10:30 is late\n", "plain"),
    ("a.md", "**Emma** [0:00] Hi.\n\n**Kelly** [0:10] Yo.\n", "plain"),
    ("a.txt", "Ana  0:05\nHello.\n\nBen: Hi.\n\nAna: Bye.\n", "plain"),  # one Otter-like header is not Otter
    ("a.md", "---\ninterview: X\nparticipants: [A]\n---\nA: hi\n", "qualcode-md"),
]


@pytest.mark.parametrize(("name", "text", "fmt"), DISPATCH)
def test_dispatch_by_content(tmp_path, name, text, fmt):
    assert parse(tmp_path, name, text).format == fmt


# ---------------------------------------------------------------- .docx


def docx_bytes(*paragraphs: str, table: bool = False) -> bytes:
    document = pydocx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    if table:
        document.add_table(rows=1, cols=2).rows[0].cells[0].text = "a cell"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_paragraphs_follow_the_plain_text_rules(tmp_path):
    path = tmp_path / "int.docx"
    path.write_bytes(
        docx_bytes("Interviewer: Hello.", "Ms Sharma\u00a0: Bonjour.", "Second line.", "", "Interviewer: Bye.")
    )
    t = parse_file(path)
    assert t.format == "docx"
    assert said(t) == [("Interviewer", "Hello."), ("Ms Sharma", "Bonjour.\nSecond line."), ("Interviewer", "Bye.")]


def test_docx_tables_are_reported(tmp_path):
    path = tmp_path / "int.docx"
    path.write_bytes(docx_bytes("A: hi", "B: ho", table=True))
    assert "1 table(s) with text were not imported: only paragraphs are read" in parse_file(path).notes


def _damaged_docx() -> bytes:
    good = zipfile.ZipFile(io.BytesIO(docx_bytes("A: hi")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for item in good.infolist():
            z.writestr(item, b"<w:document><broken" if item.filename == "word/document.xml" else good.read(item))
    return out.getvalue()


def _zip_without_document() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("notes.txt", "hello")
    return out.getvalue()


BAD_DOCX = [
    (
        "truncated",
        lambda: docx_bytes("A: hi", "B: ho")[:2000],
        ": not a .docx document: the file is not a zip archive (damaged, or a .doc saved under another name; "
        "save it as .docx)",
    ),
    (
        "plain text",
        lambda: b"A: hi\n",
        ": not a .docx document: the file is not a zip archive (damaged, or a "
        ".doc saved under another name; save it as .docx)",
    ),
    ("other zip", _zip_without_document, ": not a .docx document: the archive has no word/document.xml"),
    (
        "broken xml",
        _damaged_docx,
        ": word/document.xml: not well-formed XML at line 1, column 0 (unbound prefix); the document is damaged: open "
        "it in Word and save it again",
    ),
    ("no text", lambda: docx_bytes("", "  "), ": document has no text in its paragraphs"),
]


@pytest.mark.parametrize(("case", "make", "message"), BAD_DOCX, ids=[b[0] for b in BAD_DOCX])
def test_bad_docx(tmp_path, case, make, message):
    assert error(tmp_path, "int.docx", make()) == message


def test_docx_respects_max_bytes(tmp_path):
    path = tmp_path / "big.docx"
    path.write_bytes(docx_bytes(*["P1: " + "word " * 2000] * 300))
    size = path.stat().st_size
    assert size < 100 * 1024  # 3.5 MB of XML compresses to a few kilobytes
    with pytest.raises(InputError, match=r"big.docx: file is 0.0 MB; transcripts over 0 MB are refused"):
        parse_file(path, max_bytes=size - 1)
    # Small on disk, large unpacked: refused before python-docx expands it.
    with pytest.raises(InputError) as e:
        parse_file(path, max_bytes=100 * 1024)
    assert str(e.value) == (
        f"{path}: zip bomb: the archive unpacks to more than the 1.0 MB limit (10 times --max-size; raise --max-size "
        "if the document is real)"
    )


# ---------------------------------------------------------------- through the CLI: metadata for caption files

CLASS_VTT = """WEBVTT

1
00:00:01.000 --> 00:00:03.000
Dr. Melissa Ko: Welcome, everyone.

2
00:00:03.500 --> 00:00:05.000
Conor Healy: Thanks. Shall I share my screen?

3
00:00:05.500 --> 00:00:06.000
Ana Li: Yes please.
"""

CLASS_YML = """interview: CLASS-01
title: Student engagement
date: 2024-01-24
attributes: {course: Sociology 101}
interviewers:
  - id: EV1
    speaker: Dr Melissa Ko
    name: Melissa Ko
participants:
  - id: P001
    speaker: Conor Healy
    gender: male
    role: instructor
"""


def test_sidecar_gives_a_vtt_file_its_metadata(cli, db_path, tmp_path):
    write(tmp_path / "in" / "class.yml", CLASS_YML)
    vtt = write(tmp_path / "in" / "class.transcript.vtt", CLASS_VTT)
    [res] = json.loads(cli("import", vtt, "--format", "json").stdout)
    assert (res["interview"], res["format"], res["turns"], res["speakers"]) == ("CLASS-01", "vtt", 3, 3)
    assert "metadata from class.yml" in res["notes"]
    assert rows(db_path, "SELECT id, title, date FROM interviews") == [("CLASS-01", "Student engagement", "2024-01-24")]
    assert rows(db_path, "SELECT name, value FROM interview_attributes") == [("course", "Sociology 101")]
    assert rows(db_path, "SELECT label, participant_id, interviewer_id FROM speakers ORDER BY id") == [
        ("Dr. Melissa Ko", None, "EV1"),
        ("Conor Healy", "P001", None),
        ("Ana Li", "CLASS-01:Ana Li", None),
    ]
    assert rows(db_path, "SELECT id, name, gender FROM participants ORDER BY id") == [
        ("CLASS-01:Ana Li", "Ana Li", "not recorded"),
        ("P001", "Conor Healy", "man"),
    ]
    assert rows(db_path, "SELECT participant_id, name, value FROM participant_attributes") == [
        ("P001", "role", "instructor")
    ]
    assert rows(db_path, "SELECT id, name FROM interviewers") == [("EV1", "Melissa Ko")]
    assert rows(db_path, "SELECT idx, start_s, end_s FROM turns ORDER BY idx") == [
        (0, 1.0, 3.0),
        (1, 3.5, 5.0),
        (2, 5.5, 6.0),
    ]
    assert "speaker 'Ana Li' has no metadata: participant CLASS-01:Ana Li, gender not recorded" in res["notes"]


def test_speaker_map_and_interviewer_options_on_a_vtt_file(cli, db_path, tmp_path):
    vtt = write(tmp_path / "class.vtt", CLASS_VTT)
    cli("import", vtt, "--speaker-map", "Conor Healy=P900, ana li=P901", "--interviewer", "Dr. Melissa Ko")
    assert rows(db_path, "SELECT label, participant_id, interviewer_id FROM speakers ORDER BY id") == [
        ("Dr. Melissa Ko", None, "Dr. Melissa Ko"),
        ("Conor Healy", "P900", None),
        ("Ana Li", "P901", None),
    ]
    assert rows(db_path, "SELECT id, gender FROM participants ORDER BY id") == [
        ("P900", "not recorded"),
        ("P901", "not recorded"),
    ]


def test_a_malformed_vtt_file_changes_nothing(cli, db_path, tmp_path):
    cli("import", write(tmp_path / "ok.vtt", CLASS_VTT))
    before = dump(db_path)
    bad = write(tmp_path / "bad.vtt", CLASS_VTT.replace("00:00:03.500 --> 00:00:05.000", "00:00:03.500 --> 5"))
    r = cli("import", bad, expect=1)
    assert f"{bad}:8: malformed WebVTT cue timings '00:00:03.500 --> 5'" in r.stderr
    assert "Traceback" not in r.output
    assert dump(db_path) == before
