"""What one screen of a session shows: a turn in its context, its suggestions, a coder's codings, code search.

Everything is fetched by turn id with a handful of indexed lookups, so the next screen costs the same on a project
of six thousand interviews as on one of sixty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils import Database

from qualcode.codebook.tree import Code, CodeTree
from qualcode.coding.codings import TurnRef
from qualcode.errors import QualcodeError, UsageError

SHORT_TURN_WORDS = 8


@dataclass
class Context:
    """A turn with what a coder needs around it: interview, speaker, the turn before."""

    turn: TurnRef
    turns_in_interview: int
    interview: dict
    speaker: dict
    previous: list[tuple[str, str]]  # (speaker label, text) of the turns shown before it, oldest first
    sentences: list[tuple[int, int]]


class Contexts:
    """Fetches one turn's context by id; interview headers are cached since neighbouring turns share them."""

    def __init__(self, db: Database):
        self.db = db
        self._interviews: dict[str, dict] = {}

    def interview(self, iid: str) -> dict:
        if iid not in self._interviews:
            title, date = self.db.execute("SELECT title, date FROM interviews WHERE id = ?", [iid]).fetchone()
            attrs = dict(
                self.db.execute(
                    "SELECT name, value FROM interview_attributes WHERE interview_id = ? ORDER BY rowid", [iid]
                ).fetchall()
            )
            n = self.db.execute("SELECT max(idx) + 1 FROM turns WHERE interview_id = ?", [iid]).fetchone()[0]
            self._interviews[iid] = {"id": iid, "title": title, "date": date, "attributes": attrs, "turns": n}
        return self._interviews[iid]

    def get(self, turn_id: int) -> Context:
        row = self.db.execute(
            """SELECT t.id, t.interview_id, t.idx, t.start, t.end, t.text, s.label, s.participant_id, p.gender,
                      (SELECT value FROM participant_attributes a
                       WHERE a.participant_id = s.participant_id AND a.name = 'stakeholder_group'),
                      i.kind, t.context, t.page
               FROM turns t JOIN speakers s ON s.id = t.speaker_id LEFT JOIN participants p ON p.id = s.participant_id
               JOIN interviews i ON i.id = t.interview_id
               WHERE t.id = ?""",
            [turn_id],
        ).fetchone()
        if not row:
            raise QualcodeError(f"turn {turn_id} is no longer in the project (was its interview replaced?)")
        t = TurnRef(*row[:6])
        kind, context, page = row[10:13]
        # A document's paragraph has no one's gender; "not recorded" would say a person's was missing.
        gender = None if kind == "document" else row[8]
        speaker = {"label": row[6], "participant": row[7], "gender": gender, "stakeholder_group": row[9]}
        if kind == "survey":  # the other respondents' answers say nothing about this one: its question does
            return self._context(t, speaker, [("question", context or "")], turn_id)
        before = self.db.execute(
            """SELECT s.label, t.text, t.words FROM turns t JOIN speakers s ON s.id = t.speaker_id
               WHERE t.interview_id = ? AND t.idx BETWEEN ? AND ? ORDER BY t.idx""",
            [t.interview_id, t.idx - 2, t.idx - 1],
        ).fetchall()
        # "Completely." or "Fights over commas?" says little on its own: then the turn before it comes too.
        if len(before) == 2 and before[1][2] >= SHORT_TURN_WORDS:
            before = before[1:]
        previous = [(b[0], b[1]) for b in before]
        if kind == "document" and (context or page):  # where the paragraph stands: its section and page
            where = " · ".join(x for x in (context, f"p. {page}" if page else None) if x)
            previous = [("section", where), *previous[-1:]]
        return self._context(t, speaker, previous, turn_id)

    def _context(self, t: TurnRef, speaker: dict, previous: list[tuple[str, str]], turn_id: int) -> Context:
        sentences = self.db.execute(
            "SELECT start, end FROM sentences WHERE turn_id = ? ORDER BY idx", [turn_id]
        ).fetchall()
        info = self.interview(t.interview_id)
        return Context(t, info["turns"], info, speaker, previous, [tuple(s) for s in sentences])


@dataclass
class Suggestion:
    code_id: int
    score: float
    source: str
    words: list[str]
    evidence: list[tuple[int, int]]  # offsets relative to the turn text
    probability: float | None = None  # calibrated probability of being right (None: pattern evidence alone)


def suggestions(db: Database, t: TurnRef, thresholds: dict[int, float]) -> list[Suggestion]:
    """This turn's turn-level suggestions at or above their threshold, best first (one per code).

    THRESHOLDS is in codebook order, which breaks ties so the numbers on a screen are the same every visit.
    """
    out: dict[int, Suggestion] = {}
    for code_id, score, source, evidence, probability in db.execute(
        "SELECT code_id, score, source, evidence, probability FROM suggestions WHERE turn_id = ? AND unit = 'turn' "
        "ORDER BY score DESC",
        [t.id],
    ):
        if code_id in out or code_id not in thresholds or score < thresholds[code_id]:
            continue
        words, spans = [], []
        for e in json.loads(evidence or "[]"):
            a, b = max(e["start"] - t.start, 0), min(e["end"] - t.start, len(t.text))
            if b > a:
                spans.append((a, b))
            w = e.get("text") or t.text[a:b]
            if w and w.casefold() not in {x.casefold() for x in words}:
                words.append(w)
        out[code_id] = Suggestion(code_id, score, source, words, spans, probability)
    rank = {cid: i for i, cid in enumerate(thresholds)}
    return sorted(out.values(), key=lambda s: (-s.score, rank[s.code_id]))


def live_codings(db: Database, turn_id: int, coder: str) -> list[tuple[int | None, int, int, str | None]]:
    return db.execute(
        "SELECT code_id, start, end, memo FROM live_codings WHERE turn_id = ? AND coder = ? ORDER BY id",
        [turn_id, coder],
    ).fetchall()


def sentence_numbers(text: str, count: int) -> list[int]:
    """'1 3', '1,3', '2-4' → 0-based sentence indexes; an error names what is wrong."""
    out: list[int] = []
    for part in re.split(r"[\s,]+", text.strip()):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise UsageError(f"{part!r} is not a sentence number (type numbers such as 1 3 or 2-4)")
        a, b = int(m[1]), int(m[2] or m[1])
        if not 1 <= a <= b <= count:
            raise UsageError(f"sentence {part} does not exist: this turn has sentences 1 to {count}")
        out += [i - 1 for i in range(a, b + 1) if i - 1 not in out]
    return sorted(out)


def search(codes: Iterable[Code], prefix: str) -> list[Code]:
    """Codable codes whose name starts with PREFIX (or path, when it has a '/'); failing that, a word of the path.

    Names come first so that "co" offers COVID-19 adaptation and Constituent needs, not every child of Coherence.
    """
    p = prefix.strip().strip("/").casefold()
    codable = [c for c in codes if c.codable]
    exact = [c for c in codable if p in (c.name.casefold(), c.path.casefold(), c.key.casefold())]
    if exact:
        return exact
    hits = [c for c in codable if (c.path if "/" in p else c.name).casefold().startswith(p)]
    if not hits:
        hits = [c for c in codable if any(w.startswith(p) for w in re.split(r"[\s/\-_.,]+", c.path.casefold()))]
    return hits


def likely_codes(db: Database, tree: CodeTree, coder: str, limit: int) -> list[Code]:
    """What to number on a screen with nothing suggested, so the digits work from the first screen: the coder's own
    most used codes, then the criteria (the top-level codes, and the options of a top-level exclusive scale), in
    codebook order. Read once per session, so the numbers stay put while the coder works."""
    used = db.execute(
        """SELECT code_id FROM live_codings WHERE coder = ? AND code_id IS NOT NULL
           GROUP BY code_id ORDER BY count(*) DESC, min(id)""",
        [coder],
    ).fetchall()
    out = [tree[c] for (c,) in used if c in tree and tree[c].codable]
    for root in tree.roots():
        if root.codable:
            out.append(root)
        elif root.exclusive:
            out += [c for c in tree.children(root.id) if c.codable]
    first = {c.id: c for c in reversed(out)}  # a code both used and a criterion: its first place counts
    return sorted(first.values(), key=lambda c: out.index(c))[:limit]
