"""Changing the code tree in place: rename, merge, move. Every coding survives."""

from __future__ import annotations

from sqlite_utils import Database

from qualcode.codebook.store import move_codings
from qualcode.codebook.tree import CodeTree
from qualcode.errors import ConflictError, UsageError
from qualcode.store.batches import new_batch
from qualcode.store.db import transaction


def _sibling_clash(db: Database, parent_id: int | None, name: str, exclude: int) -> bool:
    return bool(
        db.execute(
            "SELECT 1 FROM codes WHERE IFNULL(parent_id, 0) = IFNULL(?, 0) AND name = ? COLLATE NOCASE AND id != ?",
            [parent_id, name, exclude],
        ).fetchone()
    )


def rename(db: Database, old: str, new: str) -> dict:
    new = new.strip()
    if not new or "/" in new:
        raise UsageError("the new name must be non-empty and without '/' (to move a code use 'qualcode code move')")
    with transaction(db):
        code = CodeTree.load(db).resolve(old)
        if _sibling_clash(db, code.parent_id, new, code.id):
            raise ConflictError(f"a sibling of {code.path!r} is already called {new!r}")
        db.execute("UPDATE codes SET name = ? WHERE id = ?", [new, code.id])
    return {"from": code.path, "to": CodeTree.load(db)[code.id].path}


def merge(db: Database, source: str, into: str) -> dict:
    """Codings of SOURCE go to INTO (duplicates retired), its children move under INTO, then SOURCE goes.

    When it touches codings it is one batch in the history, naming the coders whose codings it moved or retired."""
    with transaction(db):
        before = _clashes(db)
        tree = CodeTree.load(db)
        a = tree.resolve(source)
        b = tree.resolve(into, codable=True)
        if a.id == b.id:
            raise UsageError("cannot merge a code into itself")
        if b.id in tree.subtree_ids(a.id):
            raise UsageError(f"cannot merge {a.path!r} into its own descendant {b.path!r}")
        coders = [c for (c,) in db.execute("SELECT DISTINCT coder FROM live_codings WHERE code_id = ?", [a.id])]
        batch = new_batch(db, None, "code-merge", coders=coders) if coders else None
        moved, retired = move_codings(db, a.id, b.id, batch)
        if batch:
            db.execute(
                "UPDATE batches SET description = ? WHERE id = ?",
                [f"merge {a.path} into {b.path}: {moved} moved, {retired} retired ({b.path} was already there)", batch],
            )
        children = db.execute("SELECT id, name FROM codes WHERE parent_id = ?", [a.id]).fetchall()
        for cid, name in children:
            if _sibling_clash(db, b.id, name, cid):
                raise ConflictError(f"{b.path!r} already has a child called {name!r}; rename one first")
            db.execute("UPDATE codes SET parent_id = ? WHERE id = ?", [b.id, cid])
        db.execute("DELETE FROM suggestions WHERE code_id = ?", [a.id])
        # Retired (historical) codings keep pointing at INTO so the code row can go.
        db.execute("UPDATE codings SET code_id = ? WHERE code_id = ?", [b.id, a.id])
        db.execute("DELETE FROM codes WHERE id = ?", [a.id])
        _refuse_clashes(db, f"merging {a.path} into {b.path}", before)
    return {
        "from": a.path,
        "into": b.path,
        "codings": moved,
        "retired": retired,
        "children": len(children),
        "batch": batch,
    }


def move(db: Database, code_name: str, parent: str | None) -> dict:
    with transaction(db):
        before = _clashes(db)
        tree = CodeTree.load(db)
        code = tree.resolve(code_name)
        parent_id = None
        if parent:
            p = tree.resolve(parent)
            if p.id in tree.subtree_ids(code.id):
                raise UsageError(f"cannot move {code.path!r} under itself or its descendant {p.path!r}")
            parent_id = p.id
        if _sibling_clash(db, parent_id, code.name, code.id):
            raise ConflictError(f"the new parent already has a child called {code.name!r}")
        db.execute("UPDATE codes SET parent_id = ? WHERE id = ?", [parent_id, code.id])
        renumber(db)
        _refuse_clashes(db, f"moving {code.path}", before)
    return {"from": code.path, "to": CodeTree.load(db)[code.id].path}


def _clashes(db: Database) -> set[tuple[int, int]]:
    return {(c["coding_id"], c["other_id"]) for c in CodeTree.load(db).stored_clashes(db)}


def _refuse_clashes(db: Database, what: str, before: set[tuple[int, int]]) -> None:
    """A change of the tree that would leave two options of an exclusive scale on one passage is taken back (clashes
    stored before the change, from a project older than the rule, are `qualcode check`'s to report)."""
    tree = CodeTree.load(db)
    clashes = [c for c in tree.stored_clashes(db) if (c["coding_id"], c["other_id"]) not in before]
    if clashes:
        raise ConflictError(f"{what} would break an exclusive scale: {tree.clash_message(clashes)}; nothing changed")


def renumber(db: Database) -> None:
    """Keep `position` in tree order after the tree changed shape."""
    for pos, c in enumerate(CodeTree.load(db)):
        db.execute("UPDATE codes SET position = ? WHERE id = ?", [pos, c.id])
