"""Re-anchoring codings when an interview is re-imported with an edited transcript.

The importer sets the codings aside (`set_aside`), replaces the interview's turns, then calls `restore`, all in its
one transaction. Each coding is found again by its quote, the text it covered:

1. Exact: every occurrence of the quote inside one new turn; the nearest to where the coding should now be wins.
   That expected position comes from aligning old and new turns (identical turns pair up by diffing the sequence of
   turns; a changed turn pairs with the most similar new turn in the same changed stretch, ratio >= ALIGN_SIMILARITY);
   without a partner turn, the old offset is scaled by the change in the text's length.
2. Fuzzy: in the partner turn and the turns within WINDOW characters of the expected position, the span most similar
   to the quote, accepted if its difflib ratio (2 x matching characters / both lengths) is at least MIN_SIMILARITY.
   Quotes shorter than MIN_FUZZY_CHARS are only compared with their partner turn: on a few characters a ratio says
   little ("No." against "So." is 0.67, "Yes." against "Yes," 0.75).
3. Otherwise the coding is kept, orphaned: turn_id NULL, status 'orphaned', quote and last offsets unchanged, listed by
   `qualcode codings orphans`. Nothing is deleted.

A coding only ever lands on a turn of the person who said its text (its `said_by`, kept when it is orphaned): the
same words in another speaker's turn ("I agree. The money came late") are someone else's evidence, so a coding that
finds its words only there is orphaned and reported, never moved.

A coding that covered a whole turn keeps covering a whole turn where it can: a new turn with exactly the old text,
else the candidate turn most similar to the old one (ratio >= MIN_SIMILARITY: a reworded turn), else its quote is
searched like any other.

A re-anchored coding's quote becomes the text it now covers, so the next edit is matched against current wording.
Two live codings never land on the same span for the same coder and code (the unique index forbids it): the second
takes the next occurrence, or is orphaned. Retired (undone, removed) codings are re-anchored too, so an undo after the
re-import revives them in the right place; the report counts live codings only.

What a consensus decision was settled on (its basis, `consensus_basis`) goes with the old turns; `restore` puts it
back on the new turn that is the same turn: the same text, with every coding made on the old turn placed there
exactly, so the basis shifts by the difference of the turn starts. Elsewhere it is dropped, and that turn is judged
by times again (see agreement/consensus.py), which errs towards INCOMPLETE: a turn whose text changed may have been
settled on words that are no longer there.

Suggestions are not re-anchored: their scores belong to the old text. They are dropped with the old turns (as are
scored_turns rows), and the interview needs scoring again.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from sqlite_utils import Database

from qualcode.codebook.tree import CodeTree
from qualcode.output.render import plural

MIN_SIMILARITY = 0.8  # accept a fuzzy anchor at or above this ratio
ALIGN_SIMILARITY = 0.6  # pair a changed old turn with a new one: steers the search, never anchors alone
MIN_FUZZY_CHARS = 20
WINDOW = 2000  # characters either side of the expected position searched for a fuzzy match
ALIGN_REACH = 5  # how far (in turns) a changed turn's partner may sit from its proportional place
WORD = re.compile(r"\S+")


@dataclass
class Turn:
    id: int
    idx: int
    start: int
    end: int
    text: str
    speaker: str | None = None  # the participant or interviewer who said it


TURNS_SQL = """SELECT t.id, t.idx, t.start, t.end, t.text, coalesce(s.participant_id, s.interviewer_id)
               FROM turns t JOIN speakers s ON s.id = t.speaker_id WHERE t.interview_id = ? ORDER BY t.idx"""


def turns(conn, interview_id: str) -> list[Turn]:
    """An interview's turns with who said each (CONN: a Database or an sqlite3 connection)."""
    return [Turn(*r) for r in conn.execute(TURNS_SQL, [interview_id])]


@dataclass
class Coding:
    id: int
    turn_pos: int | None  # index into the old turns, None if it was already orphaned
    coder: str
    code_id: int | None
    start: int
    end: int
    quote: str
    live: bool
    said_by: str | None = None  # who said the coded text: a coding never moves to another speaker


@dataclass
class SetAside:
    interview_id: str
    old_text: str
    old_turns: list[Turn]
    codings: list[Coding]
    suggestions: int
    bases: list[tuple] = field(default_factory=list)  # (old turn position, batch id, coder, code id, start, end)
    unsettled: list[tuple] = field(default_factory=list)  # (old turn position, batch id): merged without a basis


@dataclass
class Placement:
    turn: Turn
    start: int
    end: int
    method: str  # exact | fuzzy
    similarity: float = 1.0


@dataclass
class Report:
    codings: int = 0
    exact: int = 0
    fuzzy: int = 0
    orphaned: int = 0
    suggestions_dropped: int = 0
    details: list[dict] = field(default_factory=list)  # fuzzy and orphaned live codings, for the record

    def summary(self, interview_id: str) -> str:
        text = (
            f"{interview_id}: {plural(self.exact + self.fuzzy, 'coding')} re-anchored ({self.exact} exact, "
            f"{self.fuzzy} fuzzy), {self.orphaned} orphaned"
        )
        if self.orphaned:
            text += " (see 'qualcode codings orphans')"
        if self.suggestions_dropped:
            text += f"; {plural(self.suggestions_dropped, 'suggestion')} dropped (score the interview again)"
        return text


def set_aside(db: Database, interview_id: str) -> SetAside:
    """Remember the old text, turns, every coding of the interview and what consensus decisions on its turns were
    settled on, and detach the codings from the old turns."""
    old_text = db.execute("SELECT text FROM interviews WHERE id = ?", [interview_id]).fetchone()[0]
    old_turns = turns(db, interview_id)
    pos = {t.id: i for i, t in enumerate(old_turns)}
    codings = [
        Coding(cid, pos.get(tid), coder, code_id, a, b, quote, deleted is None, said_by)
        for cid, tid, coder, code_id, a, b, quote, deleted, said_by in db.execute(
            """SELECT id, turn_id, coder, code_id, start, end, quote, deleted_at, said_by FROM codings
               WHERE interview_id = ? ORDER BY id""",
            [interview_id],
        )
    ]
    suggestions = db.execute("SELECT count(*) FROM suggestions WHERE interview_id = ?", [interview_id]).fetchone()[0]
    bases = [
        (pos[tid], *row)
        for tid, *row in db.execute(
            """SELECT turn_id, batch_id, coder, code_id, start, end FROM consensus_basis
               WHERE turn_id IN (SELECT id FROM turns WHERE interview_id = ?)""",
            [interview_id],
        )
    ]
    unsettled = [
        (pos[tid], batch_id)
        for tid, batch_id in db.execute(
            """SELECT turn_id, batch_id FROM consensus_unsettled
               WHERE turn_id IN (SELECT id FROM turns WHERE interview_id = ?)""",
            [interview_id],
        )
    ]
    db.execute("UPDATE codings SET turn_id = NULL WHERE interview_id = ?", [interview_id])
    return SetAside(interview_id, old_text, old_turns, codings, suggestions, bases, unsettled)


def restore(db: Database, aside: SetAside) -> Report:
    """Anchor every set-aside coding in the interview's new text (already stored), or orphan it."""
    iid = aside.interview_id
    new_text = db.execute("SELECT text FROM interviews WHERE id = ?", [iid]).fetchone()[0]
    new_turns = turns(db, iid)
    report = Report(suggestions_dropped=aside.suggestions)
    placed = place(aside.old_text, aside.old_turns, new_text, new_turns, aside.codings)
    _restore_bases(db, aside, placed)
    for c, p in placed:
        if p is None:
            db.execute("UPDATE codings SET turn_id = NULL, status = 'orphaned' WHERE id = ?", [c.id])
        else:
            db.execute(
                "UPDATE codings SET turn_id = ?, start = ?, end = ?, quote = ?, status = 'ok' WHERE id = ?",
                [p.turn.id, p.start, p.end, new_text[p.start : p.end], c.id],
            )
        if not c.live:
            continue
        report.codings += 1
        if p is None:
            report.orphaned += 1
            report.details.append({"coding": c.id, "outcome": "orphaned", "quote": c.quote})
        elif p.method == "exact":
            report.exact += 1
        else:
            report.fuzzy += 1
            report.details.append(
                {"coding": c.id, "outcome": "fuzzy", "similarity": round(p.similarity, 3), "turn": p.turn.idx}
            )
    return report


def _restore_bases(db: Database, aside: SetAside, placed: list[tuple[Coding, Placement | None]]) -> None:
    """Put what consensus decisions were settled on back on the same turns (see the module's docstring)."""
    same: dict[int, Turn | None] = {}  # old turn position -> the same new turn, None where there is none
    for c, p in placed:
        if c.turn_pos is None:
            continue
        old = aside.old_turns[c.turn_pos]
        exact = (
            p is not None
            and p.method == "exact"
            and p.turn.text == old.text
            and p.start - c.start == p.end - c.end == p.turn.start - old.start
        )
        if not exact:
            same[c.turn_pos] = None
        elif same.setdefault(c.turn_pos, p.turn) not in (None, p.turn):  # type: ignore[union-attr]
            same[c.turn_pos] = None  # its codings went to two different turns
    rows = []
    for pos, batch_id, coder, code_id, start, end in aside.bases:
        # A turn no coding was on has no live decision to keep a basis for; one whose text or codings moved is judged
        # by times from now on: in doubt, INCOMPLETE, and the next review settles it again.
        if (new := same.get(pos)) is not None:
            shift = new.start - aside.old_turns[pos].start
            rows.append((batch_id, new.id, coder, code_id, start + shift, end + shift))
    db.conn.executemany(
        "INSERT INTO consensus_basis (batch_id, turn_id, coder, code_id, start, end) VALUES (?, ?, ?, ?, ?, ?)", rows
    )
    db.conn.executemany(
        "INSERT INTO consensus_unsettled (batch_id, turn_id) VALUES (?, ?)",
        [(batch_id, new.id) for pos, batch_id in aside.unsettled if (new := same.get(pos)) is not None],
    )


def place(
    old_text: str, old_turns: list[Turn], new_text: str, new_turns: list[Turn], codings: list[Coding]
) -> list[tuple[Coding, Placement | None]]:
    """Where each coding made on OLD_TEXT falls in NEW_TEXT (None: nowhere), by the rules above.

    Also used by merge, where the old text is the other project's copy of the interview.
    """
    anchor = _Anchorer(old_text, old_turns, new_text, new_turns)
    # Codings whose turn has a partner go first: their position is surest, so they claim contested spans first.
    order = sorted(codings, key=lambda c: (not c.live, c.turn_pos not in anchor.partner, c.start, c.id))
    return [(c, anchor.place(c)) for c in order]


def similarity(a: str, b: str, floor: float = 0.0) -> float:
    """difflib's ratio, skipping the quadratic part when cheap upper bounds already fall below FLOOR."""
    sm = SequenceMatcher(None, a, b, autojunk=False)
    if sm.real_quick_ratio() < floor or sm.quick_ratio() < floor:
        return 0.0
    return sm.ratio()


class _Anchorer:
    def __init__(self, old_text: str, old_turns: list[Turn], new_text: str, new_turns: list[Turn]):
        self.old_turns, self.new_text, self.new_turns = old_turns, new_text, new_turns
        self.starts = [t.start for t in new_turns]
        self.scale = len(new_text) / max(1, len(old_text))
        self.partner = _align(old_turns, new_turns)
        self.claimed: set[tuple] = set()
        self._speaker: str | None = None

    def place(self, c: Coding) -> Placement | None:
        hint = self._hint(c)
        old = self.old_turns[c.turn_pos] if c.turn_pos is not None else None
        self._speaker = c.said_by or (old.speaker if old is not None else None)
        p = None
        if old is not None and (c.start, c.end) == (old.start, old.end):
            p = self._whole_turn(c, old, hint)
        p = p or self._exact(c, hint) or self._fuzzy(c, hint)
        if p and c.live:
            self.claimed.add(self._key(c, p.turn, p.start, p.end))
        return p

    def _key(self, c: Coding, t: Turn, a: int, b: int) -> tuple:
        return (t.id, c.coder, c.code_id, a, b)

    def _free(self, c: Coding, t: Turn, a: int, b: int) -> bool:
        """Free for this coding: said by the same person (a coding never moves to another speaker's words, however
        alike they are), and not yet taken by the same coder and code."""
        if self._speaker is not None and t.speaker != self._speaker:
            return False
        return not c.live or self._key(c, t, a, b) not in self.claimed

    def _hint(self, c: Coding) -> float:
        """Where the coding should start in the new text."""
        if c.turn_pos in self.partner:
            old, new = self.old_turns[c.turn_pos], self.partner[c.turn_pos]
            return new.start + (c.start - old.start) * len(new.text) / max(1, len(old.text))
        return c.start * self.scale

    def _turn_at(self, a: int, b: int) -> Turn | None:
        i = bisect.bisect_right(self.starts, a) - 1
        if i >= 0 and self.new_turns[i].start <= a and b <= self.new_turns[i].end:
            return self.new_turns[i]
        return None

    def _occurrences(self, q: str):
        if not q:
            return
        i = self.new_text.find(q)
        while i != -1:
            yield i
            i = self.new_text.find(q, i + 1)

    def _exact(self, c: Coding, hint: float, *, whole: bool = False) -> Placement | None:
        best = None
        for a in self._occurrences(c.quote):
            b = a + len(c.quote)
            t = self._turn_at(a, b)
            if t is None or (whole and (a, b) != (t.start, t.end)) or not self._free(c, t, a, b):
                continue
            if best is None or abs(a - hint) < abs(best.start - hint):
                best = Placement(t, a, b, "exact")
        return best

    def _candidates(self, c: Coding, hint: float) -> list[Turn]:
        """The partner turn, then (for quotes long enough to judge) every turn near the expected position."""
        out = [self.partner[c.turn_pos]] if c.turn_pos in self.partner else []
        if len(c.quote) >= MIN_FUZZY_CHARS:
            reach = WINDOW + len(c.quote)
            out += [t for t in self.new_turns if t.end >= hint - reach and t.start <= hint + reach and t not in out]
        return out

    def _whole_turn(self, c: Coding, old: Turn, hint: float) -> Placement | None:
        p = self._exact(c, hint, whole=True)
        if p:
            return p
        best = None
        for t in self._candidates(c, hint):
            if not self._free(c, t, t.start, t.end):
                continue
            r = similarity(old.text, t.text, MIN_SIMILARITY)
            if r >= MIN_SIMILARITY and (best is None or r > best.similarity):
                best = Placement(t, t.start, t.end, "fuzzy", r)
        return best

    def _fuzzy(self, c: Coding, hint: float) -> Placement | None:
        best = None
        for t in self._candidates(c, hint):
            found = _best_span(c.quote, t.text)
            if not found:
                continue
            r, a, b = found
            a, b = t.start + a, t.start + b
            if r < MIN_SIMILARITY or not self._free(c, t, a, b):
                continue
            if best is None or (r, -abs(a - hint)) > (best.similarity, -abs(best.start - hint)):
                best = Placement(t, a, b, "fuzzy", r)
        return best


def _align(old: list[Turn], new: list[Turn]) -> dict[int, Turn]:
    """Old turn position → its partner among the new turns: unchanged turns by diffing the turn sequences, changed
    ones by the most similar new turn in the same changed stretch."""
    out: dict[int, Turn] = {}
    sm = SequenceMatcher(None, [t.text for t in old], [t.text for t in new], autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            out.update({i1 + k: new[j1 + k] for k in range(i2 - i1)})
        elif tag == "replace":
            for i in range(i1, i2):
                expected = j1 + (i - i1) * (j2 - j1) // (i2 - i1)
                scored = [
                    (similarity(old[i].text, new[j].text, ALIGN_SIMILARITY), -abs(j - expected), j)
                    for j in range(max(j1, expected - ALIGN_REACH), min(j2, expected + ALIGN_REACH + 1))
                ]
                r, _, j = max(scored)
                if r >= ALIGN_SIMILARITY:
                    out[i] = new[j]
    return out


def _best_span(q: str, region: str) -> tuple[float, int, int] | None:
    """The span of REGION most similar to Q, as (character ratio, start, end).

    The search runs on words, which is some 25 times cheaper than on characters: seeded where Q's longest shared
    runs of words fall, each edge then moves word by word while that raises the word-level ratio (two rounds).
    Only the winner is measured in characters, after dropping edge punctuation the quote does not have.
    """
    words = [(m.start(), m.end()) for m in WORD.finditer(region)]
    qwords = [_key(w) for w in WORD.findall(q)]
    if not words or not qwords:
        return None
    rw = [_key(region[a:b]) for a, b in words]
    blocks = SequenceMatcher(None, rw, qwords, autojunk=False).get_matching_blocks()
    seeds = [b.a - b.b for b in sorted((b for b in blocks if b.size), key=lambda b: -b.size)[:3]]
    if not seeds:
        return None
    scorer = SequenceMatcher(None, autojunk=False)
    scorer.set_seq2(qwords)

    def word_ratio(a: int, b: int) -> float:
        scorer.set_seq1(rw[a:b])
        return scorer.ratio()

    reach = max(3, len(qwords) // 4)
    best = None
    for seed in dict.fromkeys(min(max(0, s), len(rw) - 1) for s in seeds):
        a, b = seed, min(len(rw), seed + len(qwords))
        r = word_ratio(a, b)
        for _ in range(2):
            for x in sorted(range(max(0, a - reach), min(b, a + reach + 1)), key=lambda x: abs(x - a)):
                if (rx := word_ratio(x, b)) > r:
                    r, a = rx, x
            for y in sorted(range(max(a + 1, b - reach), min(len(rw), b + reach) + 1), key=lambda y: abs(y - b)):
                if (ry := word_ratio(a, y)) > r:
                    r, b = ry, y
        if best is None or r > best[0]:
            best = (r, a, b)
    _, a, b = best
    return _trim(q, region, words[a][0], words[b - 1][1], words[a][1], words[b - 1][0])


def _key(word: str) -> str:
    # "people." and "people" are the same word to a reader: compare words without punctuation or case.
    return "".join(ch for ch in word.casefold() if ch.isalnum()) or word


def _trim(q: str, region: str, a: int, b: int, a_max: int, b_min: int) -> tuple[float, int, int]:
    """Drop punctuation at either edge (up to A_MAX, B_MIN) while that raises the character ratio: the quote may stop
    before the full stop or the closing bracket that the edge word carries."""
    scorer = SequenceMatcher(None, autojunk=False)
    scorer.set_seq2(q)

    def ratio(x: int, y: int) -> float:
        scorer.set_seq1(region[x:y])
        return scorer.ratio()

    r = ratio(a, b)
    x = a
    while x + 1 < min(a_max, b) and not region[x].isalnum():
        x += 1
        if (rx := ratio(x, b)) > r:
            r, a = rx, x
    y = b
    while y - 1 > max(b_min, a) and not region[y - 1].isalnum():
        y -= 1
        if (ry := ratio(a, y)) > r:
            r, b = ry, y
    return r, a, b


def orphans(db: Database, interview_ids: list[str] | None = None) -> list[dict]:
    """Live codings not anchored in the current text, with the quote they had."""
    paths = {c.id: c.path for c in CodeTree.load(db)}
    sql = """SELECT id, interview_id, coder, code_id, quote, memo, origin, start, end, created_at FROM live_codings
             WHERE status = 'orphaned'"""
    params: list = []
    if interview_ids:
        sql += f" AND interview_id IN ({', '.join('?' * len(interview_ids))})"
        params += interview_ids
    sql += " ORDER BY interview_id, start, id"
    return [
        {
            "coding": cid,
            "interview": iid,
            "coder": who,
            "code": paths.get(code_id, "(no code)") if code_id else "(no code)",
            "quote": quote,
            "memo": memo,
            "origin": origin,
            "old_start": a,
            "old_end": b,
            "created_at": at,
        }
        for cid, iid, who, code_id, quote, memo, origin, a, b, at in db.execute(sql, params)
    ]
