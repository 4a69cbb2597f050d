"""Coding files: `interview,turn,code,coder,memo` CSV (and JSON) in and out.

A row with an empty code records that the coder read the turn and found nothing to code ("decided: no code"), which
the audit treats differently from a turn nobody read. Optional `start,end` columns (offsets into the turn's text) carry
codings narrower than a turn. Export writes rows in a canonical order (coder, interview, turn, code in tree order), so
a file written in that order round-trips byte for byte.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path

from sqlite_utils import Database

from qualcode.codebook.tree import CodeTree
from qualcode.coding.codings import add_codes, ensure_coder, insert_coding, new_batch, span, turn
from qualcode.errors import InputError, QualcodeError
from qualcode.output.formulas import escape, unescape
from qualcode.store.db import transaction

COLUMNS = ["interview", "turn", "code", "coder", "memo"]


def read_rows(path: Path) -> list[tuple[int, dict]]:
    """(line number, row) for every data row; structural problems name the file and line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"not valid UTF-8 at byte {e.start}", path=path) from e
    except OSError as e:
        raise InputError(f"cannot read file: {e.strerror or e}", path=path) from e
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"invalid JSON: {e.msg}", path=path, line=e.lineno) from e
        except RecursionError:
            raise InputError("invalid JSON: lists or objects nested too deeply", path=path) from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InputError("a JSON codings file is a list of objects", path=path)
        return [(i + 1, {k: "" if v is None else str(v) for k, v in r.items()}) for i, r in enumerate(data)]
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)  # an open quote is an error, not a memo
    try:
        missing = [c for c in ("interview", "turn", "code", "coder") if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}", path=path, line=1)
        rows = []
        for row in reader:
            if None in row:
                raise InputError("more fields than columns", path=path, line=reader.line_num)
            rows.append((reader.line_num, {k: unescape(v) if isinstance(v, str) else v for k, v in row.items()}))
    except csv.Error as e:  # a field over the csv module's size limit (a runaway quote, a pasted document)
        # line_num counts the lines read before the failing record, which starts on the next one.
        raise InputError(f"not readable as CSV: {e}", path=path, line=reader.line_num + 1) from e
    if not rows:
        raise InputError("no rows", path=path)
    return rows


def import_file(db: Database, path: Path) -> dict:
    """Load a codings file in one transaction. Unknown interview, turn or code → error naming the row."""
    rows = read_rows(path)
    tree = CodeTree.load(db, require=True)
    report = {"file": str(path), "rows": len(rows), "added": 0, "already": 0, "no_code": 0, "coders": []}
    seen_codes: dict[tuple, set] = defaultdict(set)
    with transaction(db):
        batches: dict[str, int] = {}
        cache: dict[str, int] = {}
        for line, row in rows:
            try:
                iid = (row.get("interview") or "").strip()
                coder = (row.get("coder") or "").strip()
                if not iid or not coder:
                    raise InputError("interview and coder are required")
                try:
                    idx = int((row.get("turn") or "").strip())
                except ValueError:
                    raise InputError(f"turn must be a whole number, got {row.get('turn')!r}") from None
                t = turn(db, iid, idx)
                name = (row.get("code") or "").strip()
                a, b = span(t, _offset(row, "start"), _offset(row, "end"))
                if name:
                    if name not in cache:
                        cache[name] = tree.resolve(name, codable=True).id
                    code_ids = [cache[name]]
                else:
                    code_ids = []
                key = (t.id, coder)
                if (code_ids and None in seen_codes[key]) or (not code_ids and seen_codes[key] - {None}):
                    raise InputError(
                        f"{iid} turn {idx} has both codes and an empty code for {coder}; an empty code means "
                        "'decided: no code' and stands alone"
                    )
                seen_codes[key].update(code_ids or [None])
                if coder not in batches:
                    ensure_coder(db, coder)
                    batches[coder] = new_batch(db, coder, "import", description=f"codings import {path.name}")
                memo = (row.get("memo") or "").strip() or None
                if code_ids:
                    n = add_codes(
                        db, t, code_ids, coder, a=a, b=b, memo=memo, origin="imported", batch_id=batches[coder]
                    )
                    translation = " ".join((row.get("translation") or "").split()) or None
                    if translation:
                        db.execute(
                            """UPDATE codings SET translation = ? WHERE deleted_at IS NULL AND turn_id = ?
                               AND coder = ? AND code_id = ? AND start = ? AND end = ?""",
                            [translation, t.id, coder, code_ids[0], a, b],
                        )
                else:
                    n = _no_code(db, t, coder, memo, batches[coder])
                    report["no_code"] += 1
                report["added" if n else "already"] += 1
            except QualcodeError as e:
                raise InputError(e.message, path=path, line=line) from e
        report["coders"] = sorted(batches)
    return report


def _offset(row: dict, column: str) -> int | None:
    value = (row.get(column) or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InputError(f"{column} must be a whole number (an offset in the turn's text), got {value!r}") from None


def _no_code(db: Database, t, coder: str, memo: str | None, batch: int) -> int:
    live = db.execute(
        "SELECT count(*) FROM live_codings WHERE turn_id = ? AND coder = ? AND code_id IS NOT NULL", [t.id, coder]
    ).fetchone()[0]
    if live:
        raise InputError(f"{t.interview_id} turn {t.idx} already has codes from {coder}; cannot record 'no code'")
    return int(
        insert_coding(db, t, None, coder, t.start, t.end, memo=memo, origin="imported", batch_id=batch, session_id=None)
        is not None
    )


def export_rows(db: Database, coder: str | None = None) -> tuple[list[dict], list[str]]:
    """Live codings in canonical order; start/end columns only when some coding is narrower than its turn, a
    translation column only when some coding has one."""
    paths = {c.id: (c.path, c.position) for c in CodeTree.load(db)}
    sql = """SELECT c.interview_id, t.idx, c.code_id, c.coder, c.memo, c.start - t.start, c.end - t.start,
                    t.end - t.start, c.translation
             FROM live_codings c JOIN turns t ON t.id = c.turn_id WHERE 1"""
    params = []
    if coder:
        sql += " AND c.coder = ?"
        params.append(coder)
    rows = []
    partial = False
    for iid, idx, code_id, who, memo, a, b, length, translation in db.execute(sql, params):
        path, pos = paths.get(code_id, ("", -1))
        whole = a == 0 and b == length
        partial |= not whole
        rows.append(
            {
                "interview": iid,
                "turn": idx,
                "code": path,
                "coder": who,
                "memo": memo or "",
                "start": "" if whole else a,
                "end": "" if whole else b,
                "translation": translation or "",
                "_sort": (who, iid, idx, pos, a, b),
            }
        )
    rows.sort(key=lambda r: r.pop("_sort"))
    translated = any(r["translation"] for r in rows)
    return rows, COLUMNS + (["start", "end"] if partial else []) + (["translation"] if translated else [])


def export(db: Database, fmt: str = "csv", coder: str | None = None) -> str:
    rows, columns = export_rows(db, coder)
    if fmt == "json":
        return json.dumps([{c: r[c] for c in columns} for r in rows], ensure_ascii=False, indent=2) + "\n"
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    # Cells a spreadsheet would run as formulas are written as text; import takes the mark off again.
    w.writerows({k: escape(str(v)) for k, v in r.items()} for r in rows)
    return buf.getvalue()
