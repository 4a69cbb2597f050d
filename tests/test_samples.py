"""Real transcripts from ../shared/samples/transcripts, imported in place through the CLI.

Every expected number below was counted on the file itself, independently of qualcode, as each comment says.
The files are read where they are and never copied into the repository (see ../shared/samples/SOURCE.md).
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import SAMPLES, needs_samples
from tests.conftest import query as rows

pytestmark = needs_samples

DIR = SAMPLES / "transcripts"


def imported(cli, name: str, *options: str) -> tuple[dict, dict]:
    """Import one sample; return the import result and the stored interview (show --format json)."""
    [result] = json.loads(cli("import", DIR / name, *options, "--format", "json").stdout)
    assert result["status"] == "imported", result
    shown = json.loads(cli("show", result["interview"], "--format", "json").stdout)
    return result, shown


def speakers_in_order(shown: dict) -> list[str]:
    return list(dict.fromkeys(t["speaker"] for t in shown["turns"]))


# (file, format, turns, speakers in order of first appearance)
SAMPLES_EXPECTED = [
    # 7 lines start with "[idN]" (grep -c '^\[id'), read by eye: id1 id2 id3 id1 id3 id1 id2, no speaker twice in a row.
    ("bracket-ids-focus-group.txt", "plain", 7, ["id1", "id2", "id3"]),
    # All 108 non-blank lines match '^\*\*[^*]+\*\* ?\[\d+:\d{2}\]' (grep -c on both agree); `uniq` on the
    # names leaves 108, so no two consecutive turns share a speaker; sort | uniq -c gives the four names.
    ("markdown-bold-speakers.md", "plain", 108, ["Emma", "Kelly", "Ali", "Lindsey"]),
    # 53 header lines match '^\S.*\S  +\d{1,2}:\d{2}\s*$' (26 Carolyn Lu, 27 Jonas Rosland); `uniq` keeps 53, so
    # the speakers alternate; after line 9 there are exactly 53 other non-blank lines, one text line per header.
    ("otter-oral-history.md", "otter", 53, ["Jonas Rosland", "Carolyn Lu"]),
    # 753 cues (grep -c -- '-->'), one text line each, no colon anywhere in the text. An awk script over the
    # timings in milliseconds counts 44 gaps of >= 2000 ms between one cue's end and the next one's start, so
    # 45 turns; no gap lies within 60 ms of 2 s, so rounding cannot move the count. The one music cue (753,
    # '♪♪♪') starts where cue 752 ends, so dropping it changes no split.
    ("whisper-no-speakers.srt", "srt", 45, ["Speaker"]),
    # 102 cues, 101 with "Name: " (80 Conor Healy, 8 Srijani Ghosh, 6 Shreeharsh Kelkar, 5 Dr. Melissa Ko,
    # 2 Ryan Sloan) and one "Hmm." without a label; `uniq -c` over the cue speakers gives 26 runs, and the
    # unlabelled cue sits right after a run of Conor Healy, so it joins that run: 25 turns.
    (
        "zoom-class-5-speakers.transcript.vtt",
        "vtt",
        25,
        ["Srijani Ghosh", "Conor Healy", "Dr. Melissa Ko", "Shreeharsh Kelkar", "Ryan Sloan"],
    ),
    # 722 '[Name] HH:MM:SS' lines (214 Experimenter, 296 G3P1, 212 G3P2), each followed by exactly one text line
    # (awk over blank-line-separated blocks: all have 2 lines); `uniq` on the names leaves 289 runs.
    ("zoom-saved-captions.txt", "zoom-captions", 289, ["Experimenter", "G3P1", "G3P2"]),
]


@pytest.mark.parametrize(("name", "fmt", "turns", "speakers"), SAMPLES_EXPECTED, ids=[s[0] for s in SAMPLES_EXPECTED])
def test_sample_imports_with_the_counted_turns_and_speakers(cli, db_path, name, fmt, turns, speakers):
    result, shown = imported(cli, name)
    assert (result["format"], result["turns"], result["speakers"]) == (fmt, turns, len(speakers))
    assert len(shown["turns"]) == turns
    assert speakers_in_order(shown) == speakers
    for t in shown["turns"]:
        assert t["text"] and t["text"] == t["text"].strip()
        assert "\r" not in t["text"] and "\xa0" not in t["text"]
    [(text,)] = rows(db_path, "SELECT text FROM interviews")
    for start, end, ttext in rows(db_path, "SELECT start, end, text FROM turns"):
        assert text[start:end] == ttext


def test_speakers_without_metadata_are_participants_with_gender_not_recorded(cli, db_path):
    result, _ = imported(cli, "zoom-class-5-speakers.transcript.vtt")
    iid = result["interview"]
    assert iid == "zoom-class-5-speakers"
    assert rows(db_path, "SELECT id, name, gender FROM participants ORDER BY id") == [
        (f"{iid}:Conor Healy", "Conor Healy", "not recorded"),
        (f"{iid}:Dr. Melissa Ko", "Dr. Melissa Ko", "not recorded"),
        (f"{iid}:Ryan Sloan", "Ryan Sloan", "not recorded"),
        (f"{iid}:Shreeharsh Kelkar", "Shreeharsh Kelkar", "not recorded"),
        (f"{iid}:Srijani Ghosh", "Srijani Ghosh", "not recorded"),
    ]
    assert (
        f"speaker 'Dr. Melissa Ko' has no metadata: participant {iid}:Dr. Melissa Ko, gender not recorded"
        in (result["notes"])
    )
    assert json.loads(cli("participants", "--format", "json").stdout) == {"total": 5, "by_gender": {"not recorded": 5}}


def test_zoom_vtt_quirks(cli):
    result, shown = imported(cli, "zoom-class-5-speakers.transcript.vtt")
    turns = shown["turns"]
    # Cues 3 and 4 (Srijani Ghosh) are one turn, joined with a space; times from the first cue's start
    # (00:00:05.140) to the last one's end (00:00:11.670).
    assert (turns[2]["speaker"], turns[2]["text"], turns[2]["start_s"], turns[2]["end_s"]) == (
        "Srijani Ghosh",
        "Hello! Hello! Hello! Why are you so dark? So",
        5.14,
        11.67,
    )
    # The cue "Hmm." (line 193) has no label: it continues Conor Healy, who spoke the cue before it, and the import
    # says so, since it may be a listener's.
    assert turns[10]["speaker"] == "Conor Healy"
    assert turns[10]["text"].endswith("Ryan, what do you got? Hmm.")
    assert 'line 193: a caption without a speaker label ("Hmm.") is kept in Conor Healy\'s turn' in result["notes"]
    assert turns[11]["speaker"] == "Ryan Sloan"
    # 'Dr. Melissa Ko' keeps the period and is one speaker, not 'Dr' speaking 'Melissa Ko: ...'.
    assert {t["speaker"] for t in turns if "Melissa" in t["speaker"]} == {"Dr. Melissa Ko"}
    assert not any(t["text"].startswith(("Melissa Ko:", "Dr.")) for t in turns)
    # Line 285 has "the 90\u00a0min class": stored with a plain space.
    assert sum("of the 90 min class" in t["text"] for t in turns) == 1


def test_whisper_srt_quirks(cli):
    result, shown = imported(cli, "whisper-no-speakers.srt")
    turns = shown["turns"]
    assert not any("♪" in t["text"] for t in turns)
    assert "dropped 1 cue(s) with no words, e.g. the cue at line 3010: '♪♪♪'" in result["notes"]
    # First cue starts 00:00:43,810; the last spoken cue (752) ends 00:51:51,760, the music cue 00:52:05,560.
    assert (turns[0]["start_s"], turns[-1]["end_s"]) == (43.81, 3111.76)
    assert turns[-1]["text"].endswith("Bye. Thank you very much.")
    assert all(b["start_s"] - a["end_s"] >= 2 for a, b in zip(turns, turns[1:], strict=False))


def test_otter_preamble_is_not_a_turn(cli):
    result, shown = imported(cli, "otter-oral-history.md")
    turns = shown["turns"]
    assert result["notes"][0] == (
        "lines 1-9 before the first speaker header are a preamble, not a turn "
        "(starting '# Transcript of Q-Cubed interview with Carolyn Ly at Cludosian Games')"
    )
    # Lines 6 and 7 ("... available at https://...", "Transcription is provided by https://otter.ai.") look
    # like `Name: text` labels; neither they nor the Markdown headings are speakers or text.
    assert not any("http" in t["speaker"] or "#" in t["speaker"] for t in turns)
    assert not any("otter.ai" in t["text"] or "## " in t["text"] for t in turns)
    # Header times: 'Jonas Rosland  0:21  ', 'Carolyn Lu  1:35  ', ..., 'Jonas Rosland  33:09  '.
    assert [t["start_s"] for t in turns[:2]] == [21.0, 95.0]
    assert turns[-1]["start_s"] == 33 * 60 + 9
    assert turns[0]["text"].startswith("Hello everyone and welcome to yet another Indie Game")


def test_markdown_bold_quirks(cli):
    _, shown = imported(cli, "markdown-bold-speakers.md")
    turns = shown["turns"]
    # 19 lines have no space after the time ('**Ali** [30:58]Yeah, for sure.').
    assert not any(t["text"].startswith("[") or "**" in t["text"] for t in turns)
    ali = next(t for t in turns if t["start_s"] == 30 * 60 + 58)
    assert (ali["speaker"], ali["text"]) == ("Ali", "Yeah, for sure. This has been really, really cool.")
    assert (turns[0]["start_s"], turns[-1]["start_s"]) == (0.0, 31 * 60 + 52)


def test_zoom_saved_captions_quirks(cli):
    _, shown = imported(cli, "zoom-saved-captions.txt")
    turns = shown["turns"]
    # Eight Experimenter fragments (19:00:25 to 19:00:45) are one turn; G3P1 answers at 19:00:48 = 23 s in.
    assert turns[0]["text"].startswith("Hello! Um, so… We're supposed to have one more participant")
    assert turns[0]["text"].endswith("Going to have our experiment this evening.")
    assert [(t["speaker"], t["start_s"]) for t in turns[:2]] == [("Experimenter", 0.0), ("G3P1", 23.0)]
    # The last two fragments share 20:05:32 (overlapping speech): both kept, in file order, 3907 s in.
    assert [(t["speaker"], t["start_s"], t["text"]) for t in turns[-2:]] == [
        ("G3P2", 3907.0, "Bye. You too."),
        ("G3P1", 3907.0, "Yes, sir. Bye."),
    ]


def test_an_interviewer_guessed_from_the_label_is_said_once(cli, db_path):
    r = cli("import", DIR / "zoom-saved-captions.txt")
    # 214 '[Experimenter]' lines: the label alone makes an interviewer (in no figure), said in one note.
    note = (
        "zoom-saved-captions.txt: speaker 'Experimenter' taken as an interviewer from the label (their turns are in "
        "no figure); --speaker-map 'Experimenter=ID' makes them a participant"
    )
    stderr = " ".join(r.stderr.split())
    assert note in stderr and stderr.count("taken as an interviewer") == 1
    assert rows(db_path, "SELECT interviewer_id FROM interview_interviewers") == [("Experimenter",)]


def test_interviewer_option_on_zoom_captions(cli, db_path):
    result, _ = imported(cli, "zoom-saved-captions.txt", "--interviewer", "Experimenter")
    assert not any("taken as an interviewer" in n for n in result["notes"])  # declared, not guessed
    assert rows(db_path, "SELECT label, participant_id, interviewer_id FROM speakers ORDER BY label") == [
        ("Experimenter", None, "Experimenter"),
        ("G3P1", "zoom-saved-captions:G3P1", None),
        ("G3P2", "zoom-saved-captions:G3P2", None),
    ]
    assert rows(db_path, "SELECT interviewer_id FROM interview_interviewers") == [("Experimenter",)]


def test_interviewer_option_makes_a_named_speaker_an_interviewer(cli, db_path):
    # 'Dr. Melissa Ko' is no interviewer by name; the option says she is, whatever the spelling.
    imported(cli, "zoom-class-5-speakers.transcript.vtt", "--interviewer", "dr melissa ko")
    assert rows(db_path, "SELECT interviewer_id FROM speakers WHERE label = 'Dr. Melissa Ko'") == [("Dr. Melissa Ko",)]
    assert rows(db_path, "SELECT count(*) FROM participants") == [(4,)]


def test_speaker_map_on_zoom_vtt(cli, db_path):
    imported(cli, "zoom-class-5-speakers.transcript.vtt", "--speaker-map", "Conor Healy=P900")
    assert rows(db_path, "SELECT id, name, gender FROM participants WHERE id = 'P900'") == [
        ("P900", "Conor Healy", "not recorded")
    ]
    n = rows(
        db_path, "SELECT count(*) FROM turns t JOIN speakers s ON s.id = t.speaker_id WHERE s.participant_id = 'P900'"
    )
    assert n == [(12,)]  # the `uniq -c` runs above have 12 runs of Conor Healy (the 'Hmm.' cue joins one)
    assert rows(db_path, "SELECT count(*) FROM participants WHERE id LIKE '%Conor%'") == [(0,)]


def test_all_samples_in_one_folder_import(cli):
    r = cli("import", DIR, "--format", "json")
    results = json.loads(r.stdout)
    assert sorted((x["file"].rsplit("/", 1)[1], x["status"]) for x in results) == sorted(
        (name, "imported") for name, *_ in SAMPLES_EXPECTED
    )
