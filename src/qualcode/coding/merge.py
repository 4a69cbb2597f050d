"""Merging another project's codings into this one (`qualcode merge OTHER.db`), for coders who work on their own copies.

OTHER is opened read-only (SQLite URI mode=ro, or immutable when no process has it open, so that nothing is left
beside it: see merge_read) and read in one snapshot; this project changes in one transaction, so a failure, or
--dry-run, leaves it as it was. Merging only ever adds codings, memos, coders and (with --add-codes)
codes, except where OTHER is plainly newer on a turn (rule 2 below): then the codings OTHER removed are removed here
too, in the merge batch.

Interviews: by text_hash (the normalised text), so the same transcript imported under another id still matches;
then by id, with a warning, when the texts differ: the codings are then placed on this project's text by their quotes
with reanchor's rules (merge_place). Interviews this project lacks are listed and their codings skipped: import the
transcript, then merge again.

Codes: by full path, then by key (a code renamed here keeps its key). Codes OTHER has and this project lacks are
listed; with add_codes they are created under their parents (created too when missing), keeping key and GUID.

Coders: by name, created as needed (keeping OTHER's GUID where it is free).

Codings: a coding is the same coding in both projects when it has the same GUID (projects copied from one another
share them). A coding live in one project and removed in the other changed last where its latest event (made,
removed, or revived by undo: revived_at) is later; at the same moment the removal counts as later, so either way
round ends alike. A coding in the same state in both takes OTHER's time of that state (removed, or revived) when it
is later, in no batch (nothing a coder sees changes): its times are the latest either project has seen, so that any
order of merges ends alike. Live decisions are compared per turn and coder, where the decision is the set of (code,
span) the coder has live on the turn ("no code" included):

1. OTHER is behind or the same: it has no coding this project lacks live, and no shared coding it changed last.
   Nothing changes.
2. OTHER is ahead: this project has no coding live that OTHER lacks, and no shared coding it changed last. OTHER's
   decision is taken: what it removed or revived last is removed or revived here (with OTHER's time), what it added
   is added. With no shared history (projects that never exchanged codings) this is the turn this project's coder
   has not decided.
3. Otherwise both projects changed the turn. The same codes on the same spans: nothing changes. This project's coder
   has no live decision there and removed nothing there after OTHER's last change to it: OTHER's is taken. Anything
   else is a conflict: reported, and this project's decision kept.

A change OTHER's codebook made to codings (a codebook load's --move-to, a code merge: store.batches.TREE_KINDS) is
no coder's decision, and merge applies no codebook change, so it takes none of its effects: a shared coding OTHER
moved to another code, or retired as a duplicate or with its code, counts as it is here (one warning says how many).

Removed (retired) codings OTHER has and this project lacks always come in, still retired, as history. A decision
is taken whole or not at all: a turn where one of OTHER's codings has a code unknown here is skipped, so a later merge
with --add-codes brings all of it. Memos: an empty memo here takes OTHER's; two different memos are reported and this
project's is kept. Codings keep their GUID, origin, times and memo; each coder's arrivals form one batch of kind
'merge', so `qualcode undo --coder NAME` takes a merge back, what it revived included (the coding records the batch
that revived it). Merging the same project twice changes nothing.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from qualcode.codebook.ops import renumber
from qualcode.codebook.tree import CodeTree
from qualcode.codebook.tree import settings as codebook_settings
from qualcode.coding.merge_bases import carry_bases
from qualcode.coding.merge_place import Placed, place
from qualcode.coding.merge_read import Other, read_other
from qualcode.errors import ConflictError, UsageError
from qualcode.ingest import reanchor
from qualcode.store.batches import consensus_pair
from qualcode.store.db import db_file, now, transaction

CODE_COLUMNS = (
    "key",
    "name",
    "colour",
    "definition",
    "include",
    "exclude",
    "examples",
    "codable",
    "exclusive",
    "value",
    "threshold",
    "patterns",
    "pattern_hash",
)


@dataclass
class MergeReport:
    other: str
    dry_run: bool = False
    interviews: list[dict] = field(default_factory=list)  # one per interview of OTHER: how it matched
    codings: dict[str, int] = field(default_factory=dict)  # every coding of OTHER lands in exactly one bucket
    removed: int = 0  # live codings here retired because OTHER removed them (rule 2)
    memos_added: int = 0
    conflicts: list[dict] = field(default_factory=list)
    codes_created: list[str] = field(default_factory=list)
    codes_unknown: list[dict] = field(default_factory=list)
    coders: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def count(self, bucket: str, n: int = 1) -> None:
        self.codings[bucket] = self.codings.get(bucket, 0) + n

    def matched(self, how: str) -> int:
        return sum(i["matched"] == how for i in self.interviews)


# Where each of OTHER's codings went; superseded: a "no code" that meets codes on one turn here after an edit.
# A coding here as _decide compares it with OTHER's.
MINE = "id, guid, code_id, start, end, memo, created_at, revived_at, deleted_at"

BUCKETS = ("added", "history", "orphaned", "already", "conflicting", "unknown_code", "no_interview", "superseded")


class _DryRun(Exception):
    pass


class _Clash(Exception):
    """OTHER's decision on a turn would put two options of an exclusive scale on one passage here."""


# --- merging -------------------------------------------------------------------------------------------------------


def merge(db: Database, path: Path, *, add_codes: bool = False, dry_run: bool = False) -> MergeReport:
    """Bring OTHER's codings, memos and coders into this project, in one transaction (rolled back with dry_run)."""
    here = db_file(db)
    if here and path.exists() and os.path.samefile(here, path):
        raise UsageError("cannot merge a project into itself")
    other = read_other(path)
    report = MergeReport(other=str(path), dry_run=dry_run, codings=dict.fromkeys(BUCKETS, 0))
    try:
        with transaction(db):
            _Merge(db, other, path, report, add_codes).run()
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


class _Merge:
    def __init__(self, db: Database, other: Other, path: Path, report: MergeReport, add_codes: bool):
        self.db, self.other, self.path, self.report, self.add_codes = db, other, path, report, add_codes
        self.other_guids = {c["guid"] for c in other.codings}
        self.batches: dict[str, int] = {}
        self.at = now()  # every coder's batch of one merge has its time: what arrives together arrives at once
        self.created_coders: set[str] = set()
        self.added_by: dict[str, int] = defaultdict(int)
        self.texts: dict[str, str] = {}
        self.paths: dict[int, str] = {}

    def run(self) -> None:
        code_map = self._codes()
        self.paths = {c.id: c.path for c in CodeTree.load(self.db)}
        placed, self.report.interviews, warnings = place(self.db, self.other, code_map, self.path.name)
        self.report.warnings += warnings
        self.report.count("no_interview", sum(i["codings"] for i in self.report.interviews if i["here"] is None))
        self.here = {r["guid"]: r for r in self.db.query(f"SELECT turn_id, {MINE} FROM codings")}
        self._codebook_changes(placed, set(code_map.values()))
        groups: dict[tuple[int, str], list[Placed]] = defaultdict(list)
        for p in placed:
            if p.turn is None:
                self._orphan(p)
            else:
                groups[(p.turn.id, p.row["coder"])].append(p)
        for (turn_id, coder), items in sorted(groups.items()):
            self._decide_keeping_scales(turn_id, coder, items)
        self._consensus()
        carry_bases(self.db, self.other, self.batches, code_map, placed)
        self.report.coders = [
            {"coder": name, "created": name in self.created_coders, "added": self.added_by.get(name, 0)}
            for name in sorted({c["coder"] for c in self.other.codings})
        ]

    def _consensus(self) -> None:
        """A consensus coder comes with what it is the consensus of: without it, its exports would not say when
        the two coders changed what it settled."""
        for coder, pair in sorted(self.other.consensus.items()):
            if not self.db.execute("SELECT 1 FROM live_codings WHERE coder = ? LIMIT 1", [coder]).fetchone():
                continue
            for name in (coder, *pair):
                self._coder(name)  # with OTHER's guid, before consensus_pair would make one up
            here = consensus_pair(self.db, coder, *pair)
            if here:
                raise ConflictError(
                    f"{coder} is the consensus of {pair[0]} and {pair[1]} in {self.path.name} but of {here[0]} and "
                    f"{here[1]} here: rename one of them before merging"
                )

    def _codebook_changes(self, placed: list[Placed], theirs: set[int | None]) -> None:
        """Warn of the shared codings OTHER's codebook moved or retired. Only a codebook change re-points a coding
        (merge never does), so another code for one GUID is one: OTHER's when OTHER no longer has the code here."""
        n = sum(
            p.guid in self.here
            and (p.row["tree_retired"] or (p.live and self.here[p.guid]["code_id"] not in theirs | {p.code}))
            for p in placed
        )
        if n:
            self.report.warnings.append(
                f"{n} codings in {self.path.name} were moved or retired by a change of its codebook, which merge does "
                "not apply: load the same codebook here (qualcode codebook load FILE --move-to CODE, or qualcode "
                "code merge SOURCE INTO) to apply it"
            )

    # codes ------------------------------------------------------------------------------------------------------

    def _codes(self) -> dict[int, int | None]:
        """OTHER's code id → the code here (None: unknown here, and not created)."""
        here = CodeTree.load(self.db)
        exact = {c.path: c.id for c in here}
        folded: dict[str, list[int]] = defaultdict(list)
        for c in here:
            folded[c.path.casefold()].append(c.id)
        by_key = {c.key: c.id for c in here}
        live: dict[int, int] = defaultdict(int)
        for c in self.other.codings:
            if c["code_id"] is not None and c["deleted_at"] is None:
                live[c["code_id"]] += 1
        out: dict[int, int | None] = {}
        for c in self.other.codes:  # tree order: a parent is mapped (or created) before its children
            hit = exact.get(c["path"])
            if hit is None and len(folded.get(c["path"].casefold(), [])) == 1:
                hit = folded[c["path"].casefold()][0]
            if hit is None:
                hit = by_key.get(c["key"])
            if hit is None:
                self.report.codes_unknown.append({"code": c["path"], "codings": live[c["id"]]})
                if self.add_codes:
                    hit = self._create_code(c, out.get(c["parent_id"]) if c["parent_id"] else None)
                    self.report.codes_created.append(c["path"])
            out[c["id"]] = hit
        if self.report.codes_created:
            self._record_codebook(self.report.codes_created)
        return out

    def _create_code(self, c: dict, parent_id: int | None) -> int:
        guid = c["guid"]
        if self.db.execute("SELECT 1 FROM codes WHERE guid = ?", [guid]).fetchone():
            guid = str(uuid.uuid4()).upper()
        position = self.db.execute("SELECT coalesce(max(position), -1) + 1 FROM codes").fetchone()[0]
        row = {k: c[k] for k in CODE_COLUMNS} | {"parent_id": parent_id, "position": position, "guid": guid}
        return self.db["codes"].insert(row).last_pk

    def _record_codebook(self, created: list[str]) -> None:
        renumber(self.db)
        current = codebook_settings(self.db)
        h = current.hash if current else ""
        if current is None and self.other.codebook:
            # A project that had no codebook takes OTHER's settings along with its codes.
            cb = {k: self.other.codebook[k] for k in ("name", "version", "language", "min_score", "hash")}
            self.db["codebook"].insert({"id": 1, **cb, "source_file": self.path.name, "loaded_at": now()})
            h = cb["hash"]
        self.db["codebook_loads"].insert(
            {
                "source_file": str(self.path),
                "hash": h,
                "loaded_at": now(),
                "report": json.dumps({"merge": str(self.path), "added": created}, ensure_ascii=False),
            }
        )

    # codings -----------------------------------------------------------------------------------------------------

    def _orphan(self, p: Placed) -> None:
        """No place here: kept like reanchor's orphans, with its quote and last offsets (see 'codings orphans')."""
        if p.guid in self.here:
            self._memo(p, self.here[p.guid])
            self.report.count("already")
        elif p.unknown:
            self.report.count("unknown_code")
        else:
            self._insert(p, status="orphaned")
            self.report.count("orphaned" if p.live else "history")

    def _decide_keeping_scales(self, turn_id: int, coder: str, items: list[Placed]) -> None:
        """_decide, taken back whole when it would leave two options of one exclusive scale on a passage."""
        counts, conflicts, added = dict(self.report.codings), len(self.report.conflicts), dict(self.added_by)
        coders, batches, here = set(self.created_coders), dict(self.batches), dict(self.here)
        try:
            with transaction(self.db):
                self._decide(coder, items)
                clash = self.db.execute(
                    "SELECT code_id, other_code_id FROM exclusive_clashes WHERE turn_id = ? AND coder = ? LIMIT 1",
                    [turn_id, coder],
                ).fetchone()
                if clash:
                    raise _Clash(clash)
        except _Clash as e:
            self.report.codings, self.added_by = counts, defaultdict(int, added)
            self.created_coders, self.batches, self.here = coders, batches, here
            del self.report.conflicts[conflicts:]
            here, there = (self.paths.get(c, "?") for c in e.args[0])
            self.report.conflicts.append(
                self._where(items[0], coder)
                | {"kind": "exclusive", "here": here, "there": f"{there} (one scale, one option: not taken)"}
            )
            self.report.count("conflicting", sum(p.live for p in items))

    def _decide(self, coder: str, items: list[Placed]) -> None:
        """One coder's codings of OTHER that land on one turn here, by the rules in the module docstring."""
        if any(p.unknown for p in items if p.live):
            # Taken whole or not at all, so that a later merge with --add-codes finds the turn untouched.
            for p in items:
                if p.guid in self.here:
                    self.report.count("already")
                elif p.unknown or p.live:
                    self.report.count("unknown_code")
                else:
                    self._insert(p)
                    self.report.count("history")
            return
        if any(p.live and p.code is not None for p in items):
            # An edit can bring one turn's "no code" and another's codes onto one turn here: the codes decide.
            for p in [p for p in items if p.live and p.code is None and p.guid not in self.here]:
                items.remove(p)
                self.report.count("superseded")
        turn = items[0].turn
        theirs = {p.guid: p for p in items}
        mine = {
            r["guid"]: r
            for r in self.db.query(f"SELECT {MINE} FROM codings WHERE turn_id = ? AND coder = ?", [turn.id, coder])
        }
        mine |= {g: self.here[g] for g in theirs if g in self.here and g not in mine}  # placed elsewhere here
        shared = [g for g in theirs if g in mine]
        tree = {g for g in shared if theirs[g].row["tree_retired"]}  # as it was before OTHER's codebook change
        for g in shared:
            self._memo(theirs[g], mine[g])
            if g in tree:
                continue
            col = "deleted_at" if mine[g]["deleted_at"] else "revived_at"  # in the same state there: its later time
            if bool(mine[g]["deleted_at"]) != theirs[g].live and (theirs[g].row.get(col) or "") > (mine[g][col] or ""):
                self.db.execute(f"UPDATE codings SET {col} = ? WHERE id = ?", [theirs[g].row[col], mine[g]["id"]])
        self.report.count("already", len(shared))
        fresh = [p for g, p in theirs.items() if g not in mine and p.live]
        for p in (p for g, p in theirs.items() if g not in mine and not p.live):
            if p.unknown:
                self.report.count("unknown_code")
            else:
                self._insert(p)
                self.report.count("history")
        # A coding live in one project and removed in the other: the later of the two changes counts.
        differ = [g for g in shared if bool(mine[g]["deleted_at"]) == theirs[g].live and g not in tree]
        later_there = [g for g in differ if _later(theirs[g].row, mine[g])]
        later_here = [g for g in differ if g not in later_there]
        new_here = [g for g, r in mine.items() if not r["deleted_at"] and g not in self.other_guids]
        if not fresh and not later_there:  # 1. OTHER is behind or the same
            return
        if not new_here and not later_here:  # 2. OTHER is ahead
            self._take_changes(later_there, fresh, mine, theirs, coder)
            return
        live_here = _live(mine)
        # A shared coding has this project's code and place: another code there is a codebook change, not a decision.
        there = {p.key for g, p in theirs.items() if p.live and g not in mine}
        there |= {_key(mine[g]) for g in shared if (not mine[g]["deleted_at"] if g in tree else theirs[g].live)}
        if set(live_here) == there or (not live_here and not later_here):  # 3. same decision, or none here
            self._take_changes(later_there, fresh, mine, theirs, coder)
            return
        self.report.conflicts.append(
            self._where(items[0], coder)
            | {"kind": "decision", "here": self._describe(live_here, turn), "there": self._describe(there, turn)}
        )
        self.report.count("conflicting", len(fresh))

    def _take_changes(
        self, later: list[str], fresh: list[Placed], mine: dict[str, dict], theirs: dict[str, Placed], coder: str
    ) -> None:
        """OTHER's later removals and revivals of shared codings, then its new codings."""
        for g in (g for g in later if not theirs[g].live):
            mine[g] = mine[g] | {"deleted_at": self._retire(mine[g], theirs[g], coder)}
        live_here = _live(mine)
        for g in (g for g in later if theirs[g].live):
            key = (mine[g]["code_id"], mine[g]["start"], mine[g]["end"])
            if key not in live_here:  # else the same coding is live here as another row: that one stays
                live_here[key] = mine[g] = mine[g] | self._revive(mine[g], theirs[g], coder)
        self._take(fresh, live_here)

    def _take(self, rows: list[Placed], live_here: dict[tuple, dict]) -> None:
        for p in rows:
            if p.key in live_here:  # the same decision, made independently: this project's row stays
                self._memo(p, live_here[p.key])
                self.report.count("already")
                continue
            live_here[p.key] = {"id": self._insert(p), "memo": p.row["memo"]}
            self.report.count("added")

    def _insert(self, p: Placed, status: str = "ok") -> int:
        r = p.row
        coder = self._coder(r["coder"])
        quote = self._text(p.interview)[p.start : p.end] if p.turn else r["quote"]
        cur = self.db.execute(
            """INSERT INTO codings (interview_id, turn_id, code_id, coder, start, end, quote, memo, origin, status,
               session_id, batch_id, suggestion_score, created_at, deleted_at, guid, said_by, translation, revived_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                p.interview,
                p.turn.id if p.turn else None,
                p.code,
                coder,
                p.start,
                p.end,
                quote,
                r["memo"],
                r["origin"],
                status,
                r["session_id"],
                self._batch(coder),
                r["suggestion_score"],
                r["created_at"],
                r["deleted_at"],
                r["guid"],
                p.turn.speaker if p.turn else self._said_by(r),
                r.get("translation"),
                r.get("revived_at"),
            ],
        )
        if p.live:
            self.added_by[coder] += 1
        return cur.lastrowid

    def _said_by(self, row: dict) -> str | None:
        """Who said an orphaned coding's text, as OTHER knows it."""
        turn = next((t for t in self.other.turns.get(row["interview_id"], []) if t.id == row["turn_id"]), None)
        return row.get("said_by") or (turn.speaker if turn else None)

    def _retire(self, row: dict, there: Placed, coder: str) -> str:
        # Removed when OTHER removed it, so the two projects agree on the coding; in the merge batch, so that undoing
        # the merge brings it back.
        when = there.row["deleted_at"]
        self.db.execute(
            "UPDATE codings SET deleted_at = ?, deleted_batch_id = ? WHERE id = ?",
            [when, self._batch(coder), row["id"]],
        )
        self.report.removed += 1
        return when

    def _revive(self, row: dict, there: Placed, coder: str) -> dict:
        # With OTHER's time, so that both projects date it alike and weigh a third project's change against the same.
        done = {"deleted_at": None, "deleted_batch_id": None, "revived_at": there.row["revived_at"]}
        self.db.execute(
            "UPDATE codings SET revived_at = ?, revived_batch_id = ?, deleted_at = NULL, deleted_batch_id = NULL "
            "WHERE id = ?",
            [done["revived_at"], self._batch(coder), row["id"]],
        )
        self.report.count("already", -1)  # _decide counted every shared coding as already here: this one arrives
        self.report.count("added")
        self.added_by[coder] += 1
        return done

    def _memo(self, p: Placed, here: dict) -> None:
        theirs, mine = p.row["memo"], here["memo"]
        if not theirs or theirs == mine:
            return
        if not mine:
            self.db.execute("UPDATE codings SET memo = ? WHERE id = ?", [theirs, here["id"]])
            self.report.memos_added += 1
        else:
            self.report.conflicts.append(
                self._where(p, p.row["coder"]) | {"kind": "memo", "here": mine, "there": theirs}
            )

    def _where(self, p: Placed, coder: str) -> dict:
        return {"interview": p.interview, "turn": p.turn.idx if p.turn else None, "coder": coder}

    def _describe(self, keys, turn: reanchor.Turn) -> str:
        parts = []
        for code, a, b in sorted(keys, key=_order):
            name = self.paths.get(code, "?") if code is not None else "(no code)"
            whole = (a, b) == (turn.start, turn.end)
            parts.append(name if whole else f"{name} [{a - turn.start}:{b - turn.start}]")
        return "; ".join(parts) or "(undecided)"

    # coders, batches, texts ------------------------------------------------------------------------------------

    def _coder(self, name: str) -> str:
        if name in self.created_coders or name in self.batches:
            return name
        if not self.db.execute("SELECT 1 FROM coders WHERE name = ?", [name]).fetchone():
            theirs = self.other.coders.get(name, {})
            guid = theirs.get("guid")
            if not guid or self.db.execute("SELECT 1 FROM coders WHERE guid = ?", [guid]).fetchone():
                guid = str(uuid.uuid4()).upper()
            self.db.execute(
                "INSERT INTO coders (name, guid, created_at) VALUES (?, ?, ?)",
                [name, guid, theirs.get("created_at") or now()],
            )
            self.created_coders.add(name)
        return name

    def _batch(self, coder: str) -> int:
        if coder not in self.batches:
            self._coder(coder)
            self.batches[coder] = self.db.execute(
                "INSERT INTO batches (coder, kind, description, created_at) VALUES (?, 'merge', ?, ?)",
                [coder, f"merge {self.path.name}", self.at],
            ).lastrowid
        return self.batches[coder]

    def _text(self, iid: str) -> str:
        if iid not in self.texts:
            self.texts[iid] = self.db.execute("SELECT text FROM interviews WHERE id = ?", [iid]).fetchone()[0]
        return self.texts[iid]


def _changed_at(row: dict) -> str:
    """When a coding last became what it is: its removal, else its revival by undo, else its making."""
    return row["deleted_at"] or max(row["created_at"], row.get("revived_at") or "")


def _later(a: dict, b: dict) -> bool:
    """Whether coding A (live or removed) changed after B, which is the other; at the same moment the removal is
    later, whichever project holds it, so that merging either way round ends alike."""
    ta, tb = _changed_at(a), _changed_at(b)
    return ta > tb or (ta == tb and bool(a["deleted_at"]))


def _key(row: dict) -> tuple:
    return row["code_id"], row["start"], row["end"]


def _live(rows: dict[str, dict]) -> dict[tuple, dict]:
    return {_key(r): r for r in rows.values() if not r["deleted_at"]}


def _order(key: tuple) -> tuple:
    code, a, b = key
    return a, b, code or 0
