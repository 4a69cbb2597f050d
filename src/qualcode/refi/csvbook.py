"""Codebooks as CSV, in the shape Taguette reads and writes: a column naming each code by its path, and a description.

Taguette 1.5.2 imports a CSV that has exactly one of the columns tag, name or path (in any case) and, if present,
description; it exports tag, description and two counts. Its tags are flat names, so a tree is written as paths in
the names ("A/B"): qualcode writes each code's path and reads a path back as levels (`codebook.nest`). The description
is the one REFI-QDA carries (definition, include, exclude and examples as paragraphs). A CSV has no GUIDs, colours,
folders or patterns: a code already in the project at the same path keeps its own.
"""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

from sqlite_utils import Database

from qualcode.codebook.store import LoadReport
from qualcode.codebook.tree import CodeTree, require_settings
from qualcode.errors import InputError
from qualcode.output.formulas import escape, unescape
from qualcode.refi.codebook import (
    NAMESPACE,
    RefiCode,
    description,
    folder_for,
    nest,
    nested_note,
    read_file,
    store_codes,
)

NAME_COLUMNS = ("tag", "name", "path")  # the columns Taguette takes a tag's name from, exactly one of them


def to_csv(db: Database) -> str:
    """The current codebook as CSV: tag (the code's path) and description, one row per code in tree order."""
    require_settings(db)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["tag", "description"])
    for c in CodeTree.load(db):
        w.writerow([escape(c.path), escape(description(c) or "")])  # a spreadsheet opens it: no live formulas
    return buf.getvalue()


def import_csv(db: Database, path: Path, *, move_to: str | None = None, delete_codings: bool = False) -> LoadReport:
    """Make a CSV codebook (Taguette's shape) the project's codebook, like `codebook load` does. One transaction."""
    data = read_file(path, move_to=move_to, delete_codings=delete_codings)
    notes: list[str] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        try:
            text = data.decode("cp1252")  # what Taguette writes on Windows (its platform's encoding)
        except UnicodeDecodeError:
            raise InputError(f"not valid UTF-8 (byte {e.start})", path=path) from None
        notes.append("not UTF-8: read as Windows-1252")
    stored = {c.path.casefold(): c.guid for c in CodeTree.load(db)}
    codes = []
    for name, text_ in _rows(text, path):
        guid = stored.get(name.casefold()) or str(uuid.uuid5(NAMESPACE, name.casefold())).upper()
        codes.append(RefiCode(guid, name, None, None, text_ or None))
    if not codes:
        raise InputError("the codebook has no codes", path=path)
    slashed = any("/" in c.name for c in codes)
    codes, made = nest(codes, folder_for(db), path=path)
    if slashed:
        notes.append(nested_note(made, "tags", "tag"))
    return store_codes(db, codes, path, notes, move_to=move_to, delete_codings=delete_codings)


def _rows(text: str, path: Path):
    """(path, description) per row, each path checked: no empty level, none listed twice."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip().casefold() for h in next(reader, [])]
        named = [c for c in NAME_COLUMNS if c in header]
        if len(named) != 1:
            found = f"has {' and '.join(repr(c) for c in named)}" if named else "has none"
            raise InputError(
                f"a CSV codebook needs exactly one column named tag, name or path (Taguette's shape); this one {found}",
                path=path,
                line=1,
            )
        col = header.index(named[0])
        desc = header.index("description") if "description" in header else None
        seen: dict[tuple[str, ...], int] = {}
        while True:
            line = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                return
            if not any(cell.strip() for cell in row):
                continue
            name = unescape(row[col].strip()) if col < len(row) else ""
            if not name:
                raise InputError(f"no {named[0]} in this row", path=path, line=line)
            parts = [p.strip() for p in name.split("/")]
            if not all(parts):
                raise InputError(f"{named[0]} {name!r} has an empty level", path=path, line=line)
            key = tuple(p.casefold() for p in parts)
            if key in seen:
                raise InputError(f"{named[0]} {name!r} is listed twice (line {seen[key]})", path=path, line=line)
            seen[key] = line
            yield "/".join(parts), (unescape(row[desc].strip()) if desc is not None and desc < len(row) else "")
    except csv.Error as e:
        raise InputError(f"not a readable CSV file ({e})", path=path, line=reader.line_num) from None
