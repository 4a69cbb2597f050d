"""Reviewing two coders' disagreements into a consensus coder, one turn at a time, keeping both originals.

The consensus is an ordinary coder (default "consensus") whose codings have origin 'review'; A's and B's codings
are only read. Keeping one coder's version copies their codings span for span. Each saved decision records the
versions it was settled on (`consensus.record_basis`): what a later change by A or B is compared with.
"""

from __future__ import annotations

import re

from sqlite_utils import Database

from qualcode.agreement.consensus import record_basis, spans
from qualcode.agreement.disagreements import Coding
from qualcode.coding.screens import live_codings
from qualcode.coding.session import Checklist, Cursor, Item, Reply
from qualcode.errors import UsageError
from qualcode.store.db import transaction

Pair = tuple[int, int, int]


class ReviewSession(Checklist, Cursor):
    kind = "review"

    def __init__(
        self, db: Database, as_coder: str, a: str, b: str, turn_ids: list[int], *, session_id: str | None = None
    ):
        if as_coder.strip() in (a, b):
            raise UsageError(f"--as {as_coder}: the consensus must be a coder other than {a} and {b}")
        self.a, self.b = a, b
        self.outcomes = (f"kept {a}", f"kept {b}", "both", "neither", "edited", "skipped")
        self.items: list[Item] = []
        self.checked: set[int] = set()
        self.editing = False
        self.versions: dict[str, list[Coding]] = {}
        self.previous: list[Coding] = []
        super().__init__(db, as_coder, turn_ids, session_id=session_id)

    def prepare(self) -> None:
        t = self.ctx.turn
        self.editing = False
        self.versions = {who: live_codings(self.db, t.id, who) for who in (self.a, self.b)}
        self.previous = live_codings(self.db, t.id, self.coder)
        self.memo = next((m for *_, m in self.previous if m), None)
        # A code given to two sentences is two codings: one line on screen.
        order = dict.fromkeys(c[0] for rows in (*self.versions.values(), self.previous) for c in rows if c[0])
        self.items = [Item(self.codes[c]) for c in order]
        if self.previous:
            self.checked = {c[0] for c in self.previous if c[0] is not None}
        else:
            self.checked = self.codes_of(self.a) & self.codes_of(self.b)

    def codes_of(self, who: str) -> set[int]:
        return {c[0] for c in self.versions.get(who, []) if c[0] is not None}

    def memos_of(self, who: str) -> list[str]:
        out: list[str] = []
        for *_, memo in self.versions.get(who, []):
            if memo and memo not in out:
                out.append(memo)
        return out

    def parts_of(self, who: str) -> str | None:
        """Which part of the turn WHO coded, when it is not the whole turn: sentence numbers, or a quote."""
        t = self.ctx.turn
        spans = sorted({(a, b) for cid, a, b, _ in self.versions.get(who, []) if cid is not None})
        if not spans or spans == self.whole():
            return None
        numbers = {s: n for n, s in enumerate(self.ctx.sentences, 1)}
        if all(s in numbers for s in spans):
            nums = [str(numbers[s]) for s in spans]
            return f"sentence{'s' if len(nums) > 1 else ''} {', '.join(nums)}"
        return "; ".join(f"“{t.text[a - t.start : b - t.start][:60]}”" for a, b in spans)

    def commit(self, pairs: list[Pair], **kwargs) -> Reply:
        """Save the decision with what it was settled on (the versions on screen), in one transaction."""
        assert self.ctx is not None
        turn_id, versions, saved = self.ctx.turn.id, self.versions, len(self.done)
        with transaction(self.db):
            reply = super().commit(pairs, **kwargs)  # moves on: the next turn's versions are loaded
            if len(self.done) > saved:
                record_basis(self.db, self.done[-1].batch, turn_id, versions)
        return reply

    def _spans(self, code_id: int, sources: list[list[Coding]]) -> list[tuple[int, int]]:
        return spans(code_id, sources, self.whole()[0])

    def other(self, cmd: str, arg: str, text: str) -> Reply:
        if self.editing:
            if text == "" or cmd == "a":
                sources = [*self.versions.values(), self.previous]
                pairs = [(cid, a, b) for cid in self.chosen() for a, b in self._spans(cid, sources)]
                return self.commit(pairs, outcome="edited", origin="review")
            if re.fullmatch(r"[\d\s]+", text):
                return self.toggle(text)
            if cmd == "c":
                return self.find(arg) if arg else self._ask("c")
            if cmd == "e":
                self.load()
                return Reply(message="edit cancelled", show="screen")
        elif cmd in ("1", "2"):
            who = self.a if cmd == "1" else self.b
            pairs: list[Pair] = [(c[0], c[1], c[2]) for c in self.versions[who] if c[0] is not None]
            return self.commit(pairs, outcome=f"kept {who}", origin="review")
        elif cmd == "b":
            sources = list(self.versions.values())
            both = sorted(self.codes_of(self.a) | self.codes_of(self.b))
            for parent, options in self.tree.exclusive_conflicts(both):
                return Reply(
                    message=f"both cannot be kept: {parent.path} is exclusive and the coders chose "
                    f"{' and '.join(o.name for o in options)}; choose 1, 2, or e to edit"
                )
            return self.commit(
                [(cid, a, b) for cid in both for a, b in self._spans(cid, sources)], outcome="both", origin="review"
            )
        elif cmd == "0":
            return self.commit([], outcome="neither", origin="review")
        elif cmd == "e":
            self.editing = True
            return Reply(message="editing: digits toggle, c finds a code, enter saves, e cancels", show="codes")
        choose = "digits toggle, c finds a code, enter saves, e cancels" if self.editing else "choose 1, 2, b, 0 or e"
        return Reply(message=f"unknown key {text!r}: {choose} (? shows the keys)" if text else choose)
