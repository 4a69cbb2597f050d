"""The keyboard coding session without the keyboard: cursor, checked codes, decisions and their undo (which turns it
walks: scope.py).

A session takes one command at a time, as text ("a", "3", "c fund", "k 1 3", "m late funds", "u") and changes the
project through coding.decide and coding.undo, so a test or a script drives it exactly as a person at the keyboard
does. Drawing lives in qualcode.cli._screen, reading keys in qualcode.cli._keys. Each decision is its own
committed transaction: a session holds nothing that a crash could lose except the unsaved state of the screen in
front of the coder.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass, field

from sqlite_utils import Database

from qualcode.codebook.tree import Code, CodeTree
from qualcode.coding import codings as coding
from qualcode.coding.scope import decided_turns, min_score
from qualcode.coding.screens import (
    Context,
    Contexts,
    Suggestion,
    likely_codes,
    live_codings,
    search,
    sentence_numbers,
    suggestions,
)
from qualcode.errors import QualcodeError, UsageError
from qualcode.output.render import plural
from qualcode.suggest.precheck import prechecked as precheck_rule

MAX_NUMBERED = 9


# --- the cursor both sessions share ------------------------------------------------------------------------------


@dataclass
class Reply:
    """What the screen should do after a command: a message, which part to show, whether to stop."""

    message: str | None = None
    show: str | None = None  # "screen" | "codes" | "sentences" | "choices" | "help"
    quit: bool = False
    keep: bool = False  # the message tells of a change the screen may not show: it never gives way


@dataclass
class Done:
    batch: int
    turn_id: int
    outcome: str  # the counter it went to
    state: dict | None = None  # the screen as it was decided, put back by undo


PROMPTS = {
    "c": "code name (prefix; empty cancels): ",
    "m": "memo (empty cancels): ",
    "k": "sentences to code (1 3, 2-4; empty: whole turn): ",  # whole in 60 columns, with room to type
    # A line, as the name before it: the enter typed after the number ends it, and never reaches the screen below.
    "choose": "number, then enter (anything else cancels): ",
}


# Whole in 60 columns (the screen above it says to enlarge the window): a key that works cut off is no help.
BLIND = "not saved: the window is too small (?, Esc and q work)"


class Cursor:
    """Scope, position, this session's decisions and their undo, memos: what coding and review share."""

    kind = "session"
    outcomes: tuple[str, ...] = ()

    def __init__(self, db: Database, coder: str, turn_ids: list[int], *, session_id: str | None = None):
        self.db = db
        # Registered with the first decision: a session that decides nothing writes nothing.
        self.coder = coder.strip()
        if not self.coder:
            raise UsageError("coder name is empty")
        self.turn_ids = turn_ids
        self.index = {t: i for i, t in enumerate(turn_ids)}
        self.session_id = session_id or str(uuid.uuid4())
        self.decided = decided_turns(db, self.coder) & set(turn_ids)
        self.skipped: set[int] = set()
        self.counts: Counter = Counter()
        self.done: list[Done] = []
        self.contexts = Contexts(db)
        self.tree = CodeTree.load(db)
        self.codes = {c.id: c for c in self.tree}
        self.colours = {c.id: self.tree.colour(c.id) for c in self.tree}
        self.pending: str | None = None
        self.choices: list[dict] = []
        self.ctx: Context | None = None
        self.memo: str | None = None
        self.noted: str | None = None
        # Set by a screen too small to show what a decision would save: until it is cleared, no key but q, ? and
        # Esc acts (see `handle`).
        self.blind = False
        self.setup()
        self.pos = self._next_open(-1)
        self.load()

    def setup(self) -> None:
        """Whatever a subclass needs before the first screen is loaded."""

    # position ---------------------------------------------------------------------------------------------------

    @property
    def turn_id(self) -> int | None:
        return self.turn_ids[self.pos] if self.pos < len(self.turn_ids) else None

    def _next_open(self, after: int) -> int:
        for i in range(after + 1, len(self.turn_ids)):
            t = self.turn_ids[i]
            if t not in self.decided and t not in self.skipped:
                return i
        return len(self.turn_ids)

    def load(self) -> None:
        self.pending, self.choices, self.unchecking = None, [], None
        self.ctx = self.contexts.get(self.turn_id) if self.turn_id is not None else None
        self.memo = self.noted = None  # noted: a memo typed on this visit, not yet saved with a decision
        if self.ctx:
            self.prepare()

    def prepare(self) -> None:
        """Set up the screen-level state for the turn under the cursor."""

    def go(self, pos: int) -> Reply:
        self.pos = max(0, min(pos, len(self.turn_ids)))
        self.load()
        return Reply(show="screen")

    @property
    def remaining(self) -> int:
        return len(self.turn_ids) - len(self.decided)

    # commands ---------------------------------------------------------------------------------------------------

    def handle(self, line: str) -> Reply:
        """Carry out one command; a domain error becomes a message, the session goes on."""
        try:
            if self.blind and not self.seen(line.strip()):
                self.pending, self.choices = None, []
                return Reply(message=BLIND)
            if self.pending:
                return self._answer(line.strip())
            text = line.strip()
            cmd, _, arg = text.partition(" ")
            return self.command(cmd, arg.strip(), text)
        except QualcodeError as e:
            return Reply(message=str(e))

    def seen(self, text: str) -> bool:
        """Whether a key may act on a screen too small to show what would be saved (`blind`): quit, the help, Esc,
        and the memo typed at m (a memo is no decision: it is saved with the turn's, which the guard still refuses).
        Any other could save, or change, what the coder cannot see: a digit, enter, x, 1, 0, a code's name."""
        if self.pending == "m":
            return True
        return text.startswith("\x1b") or (not self.pending and text in ("q", "?", "help", "h"))

    def command(self, cmd: str, arg: str, text: str) -> Reply:
        if cmd == "q":
            return Reply(quit=True)
        if cmd in ("?", "help", "h"):
            return Reply(show="help")
        if cmd == "u":
            return self.undo()
        if cmd == "n":
            if self.turn_id is None:
                return Reply(message="this is the end of the scope (p goes back)")
            return self._leave(self.pos + 1)
        if cmd == "p":
            if self.pos == 0:
                return Reply(message="this is the first turn in scope")
            return self._leave(self.pos - 1)
        if self.turn_id is None:
            return Reply(message="no turn here: p goes back, u undoes your last decision, q quits")
        if cmd == "s":
            self.counts["skipped"] += 1
            self.skipped.add(self.turn_id)
            return self._leave(self._next_open(self.pos))
        if cmd == "m":
            return self._memo(arg) if arg else self._ask("m")
        return self.other(cmd, arg, text)

    def other(self, cmd: str, arg: str, text: str) -> Reply:
        return Reply(message=f"unknown key {text!r} (? shows the keys)")

    def _ask(self, what: str, show: str | None = None) -> Reply:
        self.pending = what
        return Reply(show=show)

    def _answer(self, text: str) -> Reply:
        what, self.pending = self.pending, None
        if text.startswith("\x1b"):  # Esc: the question is dropped, whatever it asked
            self.choices = []
            return Reply(message="cancelled", show="screen")
        if what == "choose":
            choices, self.choices = self.choices, []
            if text.isdigit() and 1 <= int(text) <= len(choices):
                return self.pick(choices[int(text) - 1])
            return Reply(message="no code chosen", show="codes")
        if not text:
            return Reply(message="cancelled")
        return self.command(what, text, f"{what} {text}")

    def pick(self, code: Code, typed: str | None = None) -> Reply:
        raise NotImplementedError

    def _leave(self, pos: int) -> Reply:
        """Move to POS without a decision, saying so when a memo noted on the turn goes with it: it was promised to
        the turn's decision, and leaving makes none."""
        ctx, noted = self.ctx, self.noted
        reply = self.go(pos)
        if ctx is not None and noted is not None:
            reply.message = f"the memo noted on {ctx.turn.interview_id} turn {ctx.turn.idx} was not saved: no decision"
        return reply

    def _memo(self, text: str) -> Reply:
        self.memo = self.noted = text
        return Reply(message="memo noted: it is saved with your decision on this turn", show="codes")

    def commit(
        self,
        pairs: list[tuple[int, int, int]],
        *,
        outcome: str,
        origin: str,
        scores: dict[int, float] | None = None,
        state: dict | None = None,
    ) -> Reply:
        assert self.ctx is not None
        t = self.ctx.turn
        batch = coding.decide(
            self.db,
            t,
            self.coder,
            sorted({p[0] for p in pairs}),
            memo=self.memo,
            origin=origin,
            session_id=self.session_id,
            scores=scores,
            kind=self.kind,
            pairs=pairs,
        )
        self.decided.add(t.id)
        self.skipped.discard(t.id)
        self.done.append(Done(batch, t.id, outcome, state))
        self.counts[outcome] += 1
        saved = list(dict.fromkeys(self.codes[p[0]].path for p in pairs))
        reply = self.go(self._next_open(self.pos))
        # The screen moves on at once; this line says what was stored on the one just left.
        reply.message = f"saved {t.interview_id} turn {t.idx}: {'; '.join(saved) or 'no code'}"
        return reply

    def undo(self) -> Reply:
        if not self.done:
            return Reply(message="nothing to undo in this session")
        last = self.done.pop()
        coding.undo(self.db, self.coder, last.batch)
        self.counts[last.outcome] -= 1
        if not live_codings(self.db, last.turn_id, self.coder):
            self.decided.discard(last.turn_id)
        reply = self.go(self.index[last.turn_id])
        ctx = self.ctx
        reply.message = f"undid your decision on {ctx.turn.interview_id} turn {ctx.turn.idx}" if ctx else None
        if last.state and ctx:
            # One undoes to mend one thing: the choice comes back as it was, not as the suggestions had it.
            self.restore(last.state)
            reply.message += ": your choice is back, change it and press enter"
        return reply

    def restore(self, state: dict) -> None:
        """Put the screen back as it was when a decision was made (after undo)."""

    def summary(self) -> str:
        n = sum(self.counts[o] for o in self.outcomes if o != "skipped")
        parts = ", ".join(f"{self.counts[o]} {o}" for o in self.outcomes if o != "skipped" and self.counts[o])
        return (
            f"{self.coder}: {plural(n, 'decision')} this session"
            + (f" ({parts})" if parts else "")
            + f", {self.counts['skipped']} skipped; {len(self.decided)} of {plural(len(self.turn_ids), 'turn')} in "
            f"scope decided, {self.remaining} to go."
        )

    def whole(self) -> list[tuple[int, int]]:
        assert self.ctx is not None
        return [(self.ctx.turn.start, self.ctx.turn.end)]


# --- the coding session -----------------------------------------------------------------------------------------


@dataclass
class Item:
    """One code on the screen: suggested, already applied by this coder, found with c, or offered (a likely code
    numbered on a screen where nothing is suggested)."""

    code: Code
    suggestion: Suggestion | None = None
    applied: bool = False
    spans: list[tuple[int, int]] = field(default_factory=list)
    offered: bool = False


class Checklist:
    """Numbered codes with check marks: digits toggle, c finds any codable code. Coding and review's edit use it."""

    tree: CodeTree
    codes: dict[int, Code]
    items: list[Item]
    checked: set[int]
    choices: list[Code]
    pending: str | None
    unchecking: int | None = None  # the checked code c was just asked for: c and its name again unchecks it

    def toggle_on(self, code_id: int) -> None:
        """Check a code; under an exclusive parent its checked siblings are unchecked."""
        parent = self.tree.exclusive_parent(code_id)
        if parent is not None:
            self.checked -= {c for c in self.checked if self.codes[c].parent_id == parent.id}
        self.checked.add(code_id)

    def toggle(self, digits: str) -> Reply:
        numbered = self.items[:MAX_NUMBERED]
        self.unchecking = None  # the coder did something else: c on a checked code asks again
        for ch in digits.replace(" ", ""):
            n = int(ch)
            if not 1 <= n <= len(numbered):
                return Reply(message=f"no code numbered {n} on this screen (c finds any code)", show="codes")
            cid = numbered[n - 1].code.id
            if cid in self.checked:
                self.checked.discard(cid)
            else:
                self.toggle_on(cid)
        return Reply(show="codes")

    def find(self, prefix: str) -> Reply:
        hits = search(list(self.codes.values()), prefix)
        if not hits:
            return Reply(message=f"no codable code starts with {prefix!r}")
        if len(hits) == 1:
            return self.pick(hits[0], typed=prefix)
        self.choices = hits[:MAX_NUMBERED]
        more = f" (showing {MAX_NUMBERED}: type more letters to narrow)" if len(hits) > MAX_NUMBERED else ""
        self.pending = "choose"
        return Reply(message=f"{len(hits)} codes match {prefix!r}{more}", show="choices")

    def pick(self, code: Code, typed: str | None = None) -> Reply:
        if code.id in self.checked:
            # c toggles as a digit does: past the ninth a checked code has no number, and this is how it comes off.
            # Typed, the name of a checked code is most often meant as "check": nothing changes until c and that
            # name again (picked from c's list it unchecks at once: the list says "(unchecks)" beside it).
            if typed is not None and self.unchecking != code.id:
                self.unchecking = code.id
                said = f"{code.path} is checked already: c {typed} again unchecks it"
                return Reply(message=said, show="codes", keep=True)
            self.unchecking = None
            self.checked.discard(code.id)
            where = code.path.rpartition("/")[0]  # the name first: a line cut short keeps "unchecked NAME"
            return Reply(
                message=f"unchecked {code.name}" + (f" (in {where})" if where else ""), show="codes", keep=True
            )
        self.unchecking = None
        if not any(i.code.id == code.id for i in self.items):
            # Before the offered codes, so a code the coder asked for gets a number; an offer makes room for it.
            at = next((k for k, i in enumerate(self.items) if i.offered), len(self.items))
            self.items.insert(at, Item(code))
            spare = [i for i in self.items if i.offered and i.code.id not in self.checked]
            if len(self.items) > MAX_NUMBERED and spare:
                self.items.remove(spare[-1])
        self.toggle_on(code.id)
        n = next(k for k, i in enumerate(self.items, 1) if i.code.id == code.id)
        where = f" as {n}" if n <= MAX_NUMBERED else " (unnumbered: more than 9 codes here; c unchecks it)"
        return Reply(message=f"checked {code.path}{where}", show="codes")

    def chosen(self) -> list[int]:
        return [i.code.id for i in self.items if i.code.id in self.checked]


class CodingSession(Checklist, Cursor):
    kind = "session"
    outcomes = ("accepted", "rejected", "skipped")

    def __init__(
        self,
        db: Database,
        coder: str,
        turn_ids: list[int],
        *,
        score: float | None = None,
        session_id: str | None = None,
    ):
        self.floor = min_score(db, score)
        self.items: list[Item] = []
        self.checked: set[int] = set()
        self.precheck: set[int] = set()
        self.spans: list[tuple[int, int]] | None = None
        self.narrowed = False
        self.previous: list[tuple[int | None, int, int, str | None]] = []
        super().__init__(db, coder, turn_ids, session_id=session_id)

    def setup(self) -> None:
        self.thresholds = self.tree.thresholds(default=self.floor)
        self.likely = likely_codes(self.db, self.tree, self.coder, MAX_NUMBERED)

    def prepare(self) -> None:
        t = self.ctx.turn
        self.previous = live_codings(self.db, t.id, self.coder)
        self.items, self.checked, self.narrowed = [], set(), False
        by_code: dict[int, Item] = {}
        for s in suggestions(self.db, t, self.thresholds):
            if self.codes[s.code_id].codable:
                by_code[s.code_id] = Item(self.codes[s.code_id], suggestion=s)
        for code_id, a, b, memo in self.previous:
            self.memo = self.memo or memo
            if code_id is None:
                continue
            item = by_code.setdefault(code_id, Item(self.codes[code_id]))
            item.applied = True
            item.spans.append((a, b))
        self.items = list(by_code.values()) or [Item(c, offered=True) for c in self.likely]
        self.precheck = self.prechecked()
        if self.previous:
            self.checked = {i.code.id for i in self.items if i.applied}
            shared = {tuple(i.spans) for i in self.items if i.applied}
            self.spans = list(shared.pop()) if len(shared) == 1 else None
            if self.spans == self.whole():
                self.spans = None
        else:
            self.spans = None
            self.checked = set(self.precheck)

    def prechecked(self) -> set[int]:
        """The suggestions checked when a coder first sees the turn: those whose measured probability of being
        right reaches `precheck.PRECHECK` (of an exclusive scale, its best option only); the others are shown unchecked
        with their score."""
        found = {i.code.id: (i.suggestion.score, i.suggestion.probability) for i in self.items if i.suggestion}
        return precheck_rule(self.tree, found)

    @property
    def precheck_note(self) -> str:
        """The footer's count: how many of this turn's suggestions were pre-checked."""
        shown = sum(1 for i in self.items if i.suggestion)
        return f"pre-checked {len(self.precheck)} of {plural(shown, 'suggestion')}"

    def other(self, cmd: str, arg: str, text: str) -> Reply:
        if text == "" or cmd == "a":
            return self.accept()
        if re.fullmatch(r"[\d\s]+", text):
            return self.toggle(text)
        if cmd == "x":
            return self.commit([], outcome="rejected", origin="manual", state=self.state([]))
        if cmd == "c":
            return self.find(arg) if arg else self._ask("c")
        if cmd == "k":
            return self.narrow(arg) if arg else self._ask("k", show="sentences")
        return super().other(cmd, arg, text)

    def narrow(self, arg: str) -> Reply:
        sentences = self.ctx.sentences
        if arg.strip() in ("0", "-", "all"):
            self.spans, self.narrowed = None, True
            return Reply(message="coding the whole turn", show="codes")
        chosen = sentence_numbers(arg, len(sentences))
        spans = [sentences[i] for i in chosen]
        self.spans, self.narrowed = (None if spans == self.whole() else spans), True
        return Reply(
            message=f"coding sentence{'s' if len(chosen) > 1 else ''} {', '.join(str(i + 1) for i in chosen)} only",
            show="codes",
        )

    def _answer(self, text: str) -> Reply:
        if self.pending == "k" and not text:
            self.pending = None
            return self.narrow("all")
        return super()._answer(text)

    def state(self, ids: list[int]) -> dict:
        return {"checked": ids, "memo": self.memo, "spans": self.spans, "narrowed": self.narrowed}

    def restore(self, state: dict) -> None:
        for cid in state["checked"]:
            if not any(i.code.id == cid for i in self.items):
                self.items.append(Item(self.codes[cid]))
        self.checked = set(state["checked"])
        self.memo, self.spans, self.narrowed = state["memo"], state["spans"], state["narrowed"]

    def accept(self) -> Reply:
        ids = self.chosen()
        if not ids:
            return self.commit([], outcome="rejected", origin="manual", state=self.state([]))
        suggested = {i.code.id: i.suggestion.score for i in self.items if i.suggestion}
        origin = "suggestion" if all(c in suggested for c in ids) else "manual"
        default = self.spans or self.whole()
        pairs = []
        for item in self.items:
            cid = item.code.id
            if cid in self.checked:
                # A code already applied keeps its own spans unless the coder narrowed the turn on this visit.
                spans = item.spans if item.applied and not self.narrowed else default
                pairs += [(cid, a, b) for a, b in spans]
        return self.commit(
            pairs,
            outcome="accepted",
            origin=origin,
            state=self.state(ids),
            scores={c: s for c, s in suggested.items() if c in ids},
        )
