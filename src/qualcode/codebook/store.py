"""Making a codebook the project's own: changes applied in place by each code's stable key, so renamed and moved
codes keep every coding, and a code with codings is never removed without saying where they go."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from qualcode.codebook.parse import CodebookSpec, parse, pattern_hash, spec_hash
from qualcode.codebook.tree import CodeTree
from qualcode.errors import ConflictError, NotFoundError, UsageError
from qualcode.output.render import plural
from qualcode.store.batches import REMOVED, new_batch, retire
from qualcode.store.db import now, transaction


@dataclass
class LoadReport:
    codebook: str
    added: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    codings_moved: int = 0
    codings_retired: int = 0  # of those to move, the ones whose coder already had the target there
    moved_to: str | None = None
    codings_deleted: int = 0
    batch: int | None = None  # the history's record of the codings moved, retired or deleted
    unchanged: bool = False
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what an import had to adapt (REFI-QDA names, colours)


def load(db: Database, path: Path, *, move_to: str | None = None, delete_codings: bool = False) -> LoadReport:
    """Validate PATH and make it the project's codebook, in one transaction."""
    if move_to and delete_codings:
        raise UsageError("choose either --move-to or --delete-codings")
    from qualcode.codebook.patterns import lint

    spec = parse(path)
    warnings = lint([(p, c.patterns) for p, _, c in spec.walk()])
    with transaction(db):
        report = store(db, spec, move_to=move_to, delete_codings=delete_codings)
    report.warnings = warnings
    return report


def store(db: Database, spec: CodebookSpec, *, move_to: str | None = None, delete_codings: bool = False) -> LoadReport:
    report = LoadReport(codebook=spec.name)
    before = CodeTree.load(db)
    clashing = {(c["coding_id"], c["other_id"]) for c in before.stored_clashes(db)}
    old_paths = {c.key: c.path for c in before}
    old = {r["key"]: r for r in db.query("SELECT * FROM codes")}
    new_keys = {c.key for _, _, c in spec.walk()}
    by_path = {v: k for k, v in old_paths.items()}
    # A code whose key is not in the new file but whose path is, is the same code (e.g. imported from .qdc).
    rekey = {}
    for p, _, c in spec.walk():
        if c.key not in old and p in by_path and by_path[p] not in new_keys:
            rekey[by_path[p]] = c.key
    for old_key, new_key in rekey.items():
        db.execute("UPDATE codes SET key = ? WHERE key = ?", [new_key, old_key])
        old[new_key] = old.pop(old_key)
        old_paths[new_key] = old_paths.pop(old_key)
    removed = [k for k in old if k not in new_keys]
    target_id = target_path = None
    used: dict[str, int] = {}
    if removed:
        used = {
            k: n
            for k in removed
            if (n := db.execute("SELECT count(*) FROM live_codings WHERE code_id = ?", [old[k]["id"]]).fetchone()[0])
        }
        if used and not (move_to or delete_codings):
            listing = ", ".join(f"{old_paths[k]} ({plural(n, 'coding')})" for k, n in used.items())
            raise ConflictError(
                f"the new codebook removes codes that have codings: {listing}; say where they go with "
                "--move-to CODE, or delete them with --delete-codings",
                path=spec.source,
            )
        if used and move_to:
            target_path = _match_new_path(spec, move_to)
            target_key = next(c.key for p, _, c in spec.walk() if p == target_path)
            if target_key in removed:
                raise UsageError(f"--move-to {move_to}: that code is being removed too")
            target_id = target_key  # resolved to an id once it is stored
    # A code that stops being codable would keep its codings, counted by some figures and not others.
    folders = [
        f"{p} ({plural(n, 'coding')})"
        for p, _, c in spec.walk()
        if not c.codable and c.key in old and old[c.key]["codable"]
        and (n := db.execute("SELECT count(*) FROM live_codings WHERE code_id = ?", [old[c.key]["id"]]).fetchone()[0])
    ]  # fmt: skip
    if folders:
        raise ConflictError(
            f"the new codebook makes codes that have codings not codable (codable: false): {', '.join(folders)}; "
            "move their codings first (qualcode code merge CODE INTO) or keep them codable",
            path=spec.source,
        )
    # Upsert in tree order so parents exist before children.
    ids: dict[str, int] = {}
    for position, (p, parent_path, c) in enumerate(spec.walk()):
        parent_key = next((x.key for q, _, x in spec.walk() if q == parent_path), None) if parent_path else None
        row = {
            "key": c.key,
            "name": c.name,
            "parent_id": ids.get(parent_key) if parent_key else None,
            "position": position,
            "colour": c.colour,
            "definition": c.definition,
            "include": c.include,
            "exclude": c.exclude,
            "examples": json.dumps(c.examples, ensure_ascii=False),
            "codable": int(c.codable),
            "exclusive": int(c.exclusive),
            "value": c.value,
            "threshold": c.threshold,
            "patterns": json.dumps(c.patterns, ensure_ascii=False),
            "pattern_hash": pattern_hash(c.patterns),
        }
        if c.key in old:
            prev = old[c.key]
            ids[c.key] = prev["id"]
            # Park the name first: a swap of two siblings' names would otherwise trip the unique index.
            db.execute("UPDATE codes SET name = ? WHERE id = ?", [f"\x00{prev['id']}", prev["id"]])
            db["codes"].update(prev["id"], row)
            if prev["name"] != c.name:
                report.renamed.append((old_paths[c.key], p))
            elif old_paths[c.key] != p:
                report.moved.append((old_paths[c.key], p))
            elif any(str(prev[k]) != str(row[k]) for k in row if k not in ("position", "parent_id")):
                report.updated.append(p)
        else:
            row["guid"] = c.guid or str(uuid.uuid4()).upper()
            ids[c.key] = db["codes"].insert(row).last_pk
            report.added.append(p)
    if used and target_path:
        report.moved_to = target_path
    if used:  # one batch records what happens to the codings of the removed codes
        used_ids = [old[k]["id"] for k in used]
        coders = db.execute(
            f"SELECT DISTINCT coder FROM live_codings WHERE code_id IN ({', '.join('?' * len(used_ids))})", used_ids
        ).fetchall()
        report.batch = new_batch(db, None, "codebook-load", coders=[c for (c,) in coders])
    for k in removed:
        code_id = old[k]["id"]
        if k in used and target_id:
            moved, retired = move_codings(db, code_id, ids[target_id], report.batch)
            report.codings_moved += moved
            report.codings_retired += retired
        elif k in used and delete_codings:
            report.codings_deleted += retire(db, "code_id = ?", [code_id], report.batch)
        # Deleted codings keep their history row but lose the code (the code row goes).
        db.execute(
            "UPDATE codings SET code_id = NULL, memo = coalesce(memo, '') || ? WHERE code_id = ?",
            [REMOVED.format(old_paths[k]), code_id],
        )
        # What a consensus was settled on loses the code as the codings did (--delete-codings, or none were live).
        db.execute("DELETE FROM consensus_basis WHERE code_id = ?", [code_id])
        db.execute("DELETE FROM suggestions WHERE code_id = ?", [code_id])
        report.removed.append(old_paths[k])
    if report.batch:
        done = (
            f"{report.codings_moved} moved to {target_path}, {report.codings_retired} retired ({target_path} was "
            "already there)"
            if target_path
            else f"{report.codings_deleted} deleted"
        )
        db.execute(
            "UPDATE batches SET description = ? WHERE id = ?",
            [
                f"codebook {Path(spec.source).name}: {', '.join(old_paths[k] for k in used)} removed; {done}",
                report.batch,
            ],
        )
    for k in removed:  # detach first: a removed parent may go before its removed children
        db.execute("UPDATE codes SET parent_id = NULL WHERE key = ?", [k])
    for k in removed:
        db.execute("DELETE FROM codes WHERE key = ?", [k])
    h = spec_hash(spec)
    prev = db.execute("SELECT hash FROM codebook WHERE id = 1").fetchone()
    report.unchanged = bool(prev and prev[0] == h and not (report.added or report.renamed or report.moved))
    db["codebook"].upsert(
        {
            "id": 1,
            "name": spec.name,
            "version": spec.version,
            "language": spec.language,
            "min_score": spec.min_score,
            "hash": h,
            "source_file": Path(spec.source).name,
            "loaded_at": now(),
        },
        pk="id",
    )
    db["codebook_loads"].insert(
        {"source_file": spec.source, "hash": h, "loaded_at": now(), "report": json.dumps(report.__dict__)}
    )
    tree = CodeTree.load(db)
    clashes = [c for c in tree.stored_clashes(db) if (c["coding_id"], c["other_id"]) not in clashing]
    if clashes:  # a parent made exclusive, or a code moved under one, over codings that already use two options
        raise ConflictError(
            f"this codebook would break an exclusive scale: {tree.clash_message(clashes)}; nothing was loaded "
            "(remove one option of each first, or leave the parent non-exclusive)",
            path=spec.source,
        )
    return report


def _match_new_path(spec: CodebookSpec, name: str) -> str:
    """The path of the code NAME names in SPEC: a path, a key (as everywhere a code is named) or a unique name."""
    options = [p for p, _, _ in spec.walk()]
    for p, _, c in spec.walk():
        if name.casefold() in (p.casefold(), c.key.casefold()):
            return p
    matches = [p for p in options if p.rsplit("/", 1)[-1].casefold() == name.casefold()]
    if len(matches) == 1:
        return matches[0]
    raise NotFoundError(f"--move-to {name}: no such code in the new codebook")


def move_codings(db: Database, from_id: int, to_id: int, batch_id: int) -> tuple[int, int]:
    """Re-point live codings; where the target already codes the same span for that coder, retire the duplicate
    in BATCH_ID. Returns (moved, retired)."""
    moved = retired = 0
    rows = db.execute("SELECT id, turn_id, coder, start, end FROM live_codings WHERE code_id = ?", [from_id]).fetchall()
    for cid, turn_id, coder, start, end in rows:
        dup = db.execute(
            """SELECT 1 FROM live_codings WHERE code_id = ? AND turn_id IS ? AND coder = ? AND start = ? AND end = ?
              """,
            [to_id, turn_id, coder, start, end],
        ).fetchone()
        if dup:
            retired += retire(db, "id = ?", [cid], batch_id)
        else:
            db.execute("UPDATE codings SET code_id = ? WHERE id = ?", [to_id, cid])
            moved += 1
    # What a consensus was settled on moves with them, so that the move changes no settled turn (a duplicate goes).
    db.execute("UPDATE OR IGNORE consensus_basis SET code_id = ? WHERE code_id = ?", [to_id, from_id])
    db.execute("DELETE FROM consensus_basis WHERE code_id = ?", [from_id])
    return moved, retired
