"""A consensus coding: what two coders agreed on, carried over, and their disagreements settled in review.

`qualcode review --coders A,B --as C` makes C the consensus of A and B (recorded in the `consensus` table). Before the
first screen, every turn both decided the same way (the same set of codes, "no code" included) and C has not decided
is carried over to C in one batch (origin 'agreed'), so C holds a whole coding, not only the settled disagreements.
Each settled disagreement is C's decision on that turn (origin 'review').

A consensus is complete when it has decided every turn both A and B decided, and A and B have changed none of those
turns since. Each decision records what it was settled on, its basis: A's and B's live codings on the turn at that
moment (code, or "no code", and span), in the table `consensus_basis`, keyed by the batch of the decision. Changed
then means that what A and B code there now is not exactly that basis, whatever happened in between: a change undone
since, a code added and removed again, an edit back to the same codings change nothing; a narrowed span does, since
the consensus copies spans. `merge` carries a decision's basis with it, in this project's codes and offsets, when it
can do so exactly, and where it cannot (a turn whose text differs, a code unknown here) the decision is unsettled
here and reads as changed until reviewed (coding/merge.py, `_bases`). A decision with no basis at all (made by an
older qualcode, or brought from one) is judged by times instead (see `changed_since`). Turns only one of them decided
are in no consensus: they are counted, and every export of C says how many. Completeness is recomputed from the live
codings each time; the next review retires C's decisions on the changed turns (one batch) and settles them again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from qualcode.agreement.disagreements import Disagreement, both_decided, differ
from qualcode.coding.codings import TurnRef, insert_coding, new_batch
from qualcode.errors import ConflictError, UsageError
from qualcode.output.render import plural
from qualcode.store.batches import TREE_KINDS, UNSETTLED, basis, consensus_pair, record_basis, retire
from qualcode.store.db import transaction


@dataclass
class Status:
    coder: str
    coder_a: str
    coder_b: str
    both: int  # turns both A and B decided
    agreed: int  # of those, the turns where they chose the same codes
    decided: int  # of those, the turns the consensus has decided
    open_disagreements: int  # turns where A and B differ and the consensus has not decided
    agreed_not_carried: int  # turns where they agree and the consensus has not decided (the next review carries them)
    one_coder_only: int  # turns only A or only B decided: in no consensus
    changed_since: int = 0  # turns the consensus decided that A or B changed afterwards (not counted in decided)

    @property
    def complete(self) -> bool:
        return self.decided == self.both and not self.changed_since

    def describe(self) -> str:
        """One sentence a reader of an export needs: how much of the consensus is settled."""
        head = (
            f"{self.coder} is the consensus of {self.coder_a} and {self.coder_b}: it has decided {self.decided} of the "
            f"{self.both} turns both decided"
        )
        if self.complete:
            text = head + " (complete)"
        else:
            gaps = [
                f"{n} {what}{'s' if n != 1 else ''} {state}"
                for n, what, state in (
                    (self.open_disagreements, "disagreement", "not yet reviewed"),
                    (self.agreed_not_carried, "agreed turn", "not yet carried over"),
                    (self.changed_since, "turn", f"changed by {self.coder_a} or {self.coder_b} since it was settled"),
                )
                if n
            ]
            again = f"qualcode review --coders {self.coder_a},{self.coder_b} --as {self.coder}"
            text = f"{head}; INCOMPLETE: {' and '.join(gaps)} (run {again})"
        if self.one_coder_only:
            n = self.one_coder_only
            text += f"; {plural(n, 'turn')} decided by only one of them {'is' if n == 1 else 'are'} in no consensus"
        return text + "."

    def as_dict(self) -> dict:
        return {**self.__dict__, "complete": self.complete, "description": self.describe()}


def register(db: Database, coder: str, a: str, b: str) -> None:
    """Record that CODER is the consensus of A and B; a coder is the consensus of one pair only."""
    if coder in (a, b):
        raise UsageError(f"--as {coder}: the consensus must be a coder other than {a} and {b}")
    with transaction(db):
        if coder not in consensus_coders(db) and _decided(db, coder):
            # The review would retire what it takes for changes and carry over on top: a coder's own coding is lost.
            raise ConflictError(
                f"--as {coder}: {coder} has codings of their own; a consensus is a coder of its own (choose another "
                "name with --as)"
            )
        other = consensus_pair(db, coder, a, b)
    if other:
        raise ConflictError(
            f"{coder} is already the consensus of {other[0]} and {other[1]}: choose another name with --as"
        )


def consensus_coders(db: Database) -> dict[str, tuple[str, str]]:
    return {r[0]: (r[1], r[2]) for r in db.execute("SELECT coder, coder_a, coder_b FROM consensus")}


def status(db: Database, coder: str) -> Status | None:
    """How complete CODER is as a consensus, or None when CODER is not one."""
    row = db.execute("SELECT coder_a, coder_b FROM consensus WHERE coder = ?", [coder]).fetchone()
    if row is None:
        return None
    a, b = row
    pairs = both_decided(db, a, b)
    changed = changed_since(db, coder, a, b)
    settled = _decided(db, coder)
    mine = settled - changed  # a changed turn is counted once, as changed, not also as open
    agreed = [d for d in pairs if not differ(d, a, b)]
    one = db.execute(
        """SELECT count(*) FROM (SELECT turn_id FROM live_codings WHERE coder IN (?, ?) AND turn_id IS NOT NULL
           GROUP BY turn_id HAVING count(DISTINCT coder) = 1)""",
        [a, b],
    ).fetchone()[0]
    return Status(
        coder=coder,
        coder_a=a,
        coder_b=b,
        both=len(pairs),
        agreed=len(agreed),
        decided=sum(d.turn_id in mine for d in pairs),
        open_disagreements=sum(d.turn_id not in settled for d in pairs if differ(d, a, b)),
        agreed_not_carried=sum(d.turn_id not in settled for d in agreed),
        one_coder_only=one,
        changed_since=len(changed),
    )


def changed_since(db: Database, coder: str, a: str, b: str) -> set[int]:
    """The turns CODER decided where what was settled is no longer what A and B coded. The signs, each of which
    only a change by A or B can give:

    - a turn carried over because they agreed, where either now codes otherwise;
    - a turn where they now agree on codes CODER did not settle on;
    - for a decision with a basis (`basis`): A's or B's live codings on the turn are not exactly the basis, in either
      direction (a code, "no code", a span), whatever happened in between (a change undone since is no change);
    - a decision a merge brought without a basis it could say here (UNSETTLED): changed, until a review settles it;
    - for a decision without one (an older qualcode's, or one a merge could not bring it with): a coding of A or B made,
      retired or revived after CODER's decision, other than by a change of the code tree, which moves every coder's
      codings alike. After by the codings' own times (which a merge keeps: a colleague's change after the colleague's
      settlement), or by when the change reached this project (the batch that made, retired or revived it here: a
      merge after the review brings changes the colleague made before it). A coding that arrives already retired
      changes nothing here. A change undone since still counts: with nothing to compare, this says INCOMPLETE where
      in doubt, and the next review offers the turn again.
    """
    codes: dict[int, dict[str, set]] = {}
    origins: dict[int, set[str]] = {}
    now: dict[int, set[tuple]] = {}  # A's and B's live codings on the turn, as a basis records them
    for turn_id, who, code_id, start, end, origin in db.execute(
        """SELECT turn_id, coder, code_id, start, end, origin FROM live_codings
           WHERE coder IN (?, ?, ?) AND turn_id IN (SELECT turn_id FROM live_codings WHERE coder = ?)""",
        [coder, a, b, coder],
    ):
        codes.setdefault(turn_id, {}).setdefault(who, set()).add(code_id)
        if who == coder:
            origins.setdefault(turn_id, set()).add(origin)
        else:
            now.setdefault(turn_id, set()).add((who, code_id, start, end))
    changed = set()
    for turn_id, by in codes.items():
        mine, of_a, of_b = by.get(coder, set()), by.get(a, set()), by.get(b, set())
        carried_then_changed = origins[turn_id] == {"agreed"} and not of_a == of_b == mine
        agreed_otherwise = bool(of_a) and of_a == of_b != mine
        if carried_then_changed or agreed_otherwise:
            changed.add(turn_id)
    # Only turns CODER decides now: a reopened turn (its decision retired) is an open disagreement, not a change.
    settled_on = {t: rows for t, rows in basis(db, coder).items() if t in origins}
    changed |= {t for t, rows in settled_on.items() if rows == UNSETTLED or rows is not None and rows != now.get(t)}
    # Without a basis: settled by the consensus codings' own times (a merge keeps them), arrived by the batches that
    # brought them here.
    tree = f"SELECT id FROM batches WHERE kind IN ({', '.join('?' * len(TREE_KINDS))})"
    later = "SELECT 1 FROM batches x WHERE x.id = {} AND x.created_at > c.arrived"
    made, retired, revived = (later.format(f"o.{col}") for col in ("batch_id", "deleted_batch_id", "revived_batch_id"))
    changed |= {
        r[0]
        for r in db.execute(
            f"""SELECT DISTINCT c.turn_id FROM
                 (SELECT l.turn_id, max(l.created_at) AS settled, max(coalesce(k.created_at, l.created_at)) AS arrived
                  FROM live_codings l LEFT JOIN batches k ON k.id = l.batch_id
                  WHERE l.coder = ? AND l.turn_id IS NOT NULL GROUP BY l.turn_id) c
               JOIN codings o ON o.turn_id = c.turn_id AND o.coder IN (?, ?)
               WHERE (coalesce(o.batch_id, 0) NOT IN ({tree}) AND (o.created_at > c.settled
                      OR ((o.deleted_at IS NULL OR o.deleted_batch_id IS NOT NULL) AND EXISTS ({made}))))
                  OR (coalesce(o.deleted_batch_id, 0) NOT IN ({tree})
                      AND (coalesce(o.deleted_at, '') > c.settled OR EXISTS ({retired})))
                  OR (o.deleted_at IS NULL AND (coalesce(o.revived_at, '') > c.settled OR EXISTS ({revived})))""",
            [coder, a, b, *TREE_KINDS, *TREE_KINDS],
        )
        if settled_on.get(r[0]) is None
    }
    return changed


def prepare(db: Database, coder: str, a: str, b: str) -> tuple[int, int]:
    """Make CODER the consensus of A and B, reopen what they changed since it was settled, and carry over what they
    agree on: what a review does before its first screen. How many turns were reopened and carried over."""
    with transaction(db):
        register(db, coder, a, b)
        return _reopen(db, coder, a, b), carry_over(db, coder, a, b)


def _reopen(db: Database, coder: str, a: str, b: str) -> int:
    """Retire CODER's decisions on the turns A or B changed since (one batch, which `undo` takes back), so that the
    review carries them over or offers them again; how many turns."""
    with transaction(db):
        turns = sorted(changed_since(db, coder, a, b))
        if not turns:
            return 0
        batch = new_batch(db, coder, "reopen", description=f"turns {a} or {b} changed after they were settled")
        for i in range(0, len(turns), 500):
            chunk = turns[i : i + 500]
            retire(db, f"coder = ? AND turn_id IN ({', '.join('?' * len(chunk))})", [coder, *chunk], batch)
    return len(turns)


def carry_over(db: Database, coder: str, a: str, b: str) -> int:
    """Copy every turn A and B agree on, and CODER has not decided, to CODER: one batch, origin 'agreed'."""
    with transaction(db):
        register(db, coder, a, b)
        mine = _decided(db, coder)
        todo = [d for d in both_decided(db, a, b) if d.turn_id not in mine and not differ(d, a, b)]
        if not todo:
            return 0
        batch = new_batch(db, coder, "agreed", description=f"turns {a} and {b} agree on, carried over")
        for d in todo:
            t = _turn(db, d)
            codes = sorted(d.codes(a))
            pairs = [
                (cid, s, e) for cid in codes for s, e in spans(cid, [d.codings[a], d.codings[b]], (t.start, t.end))
            ]
            for cid, start, end in pairs or [(None, t.start, t.end)]:
                insert_coding(
                    db, t, cid, coder, start, end, memo=None, origin="agreed", batch_id=batch, session_id=None
                )
            record_basis(db, batch, d.turn_id, {a: d.codings[a], b: d.codings[b]})
    return len(todo)


def spans(code_id: int, sources: list[list[tuple]], whole: tuple[int, int]) -> list[tuple[int, int]]:
    """Every span the versions gave a code; the whole turn absorbs the parts of it."""
    found = sorted({(c[1], c[2]) for rows in sources for c in rows if c[0] == code_id})
    return [whole] if not found or whole in found else found


def _decided(db: Database, coder: str) -> set[int]:
    return {r[0] for r in db.execute("SELECT DISTINCT turn_id FROM live_codings WHERE coder = ?", [coder])}


def _turn(db: Database, d: Disagreement) -> TurnRef:
    row = db.execute("SELECT id, interview_id, idx, start, end, text FROM turns WHERE id = ?", [d.turn_id]).fetchone()
    return TurnRef(*row)
