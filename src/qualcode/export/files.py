"""Exports as file contents in each format: what `qualcode export ...` writes and what `qualcode demo` saves."""

from __future__ import annotations

import io
from pathlib import Path

from sqlite_utils import Database

from qualcode.errors import UsageError
from qualcode.output import render

SUFFIXES = {
    ".md": "md",
    ".markdown": "md",
    ".csv": "csv",
    ".json": "json",
    ".xlsx": "xlsx",
    ".txt": "table",
    ".yml": "yml",
    ".yaml": "yml",
    ".qdc": "qdc",
    # Formats qualcode never writes from these commands: named, a file would be written under a misleading name.
    **dict.fromkeys((".xls", ".xlsm", ".ods"), "a spreadsheet format"),
    **dict.fromkeys((".pdf", ".docx", ".doc", ".odt", ".rtf"), "a document format"),
    **dict.fromkeys((".html", ".htm"), "html"),
    ".qdpx": "qdpx",
    ".tsv": "tsv",
    ".zip": "zip",
    ".xml": "xml",
}


def choose_format(fmt: str | None, output: Path | None, allowed: tuple[str, ...], *, what: str = "this export") -> str:
    """The format to write: --format if given, else the one OUTPUT's suffix names, else the first of ALLOWED. A suffix
    naming another format than --format's, or a format WHAT cannot write, is refused: `-f csv -o x.xlsx` would give
    a spreadsheet program a text file. A suffix naming no format (and .txt, plain text whatever the format) takes
    the default."""
    named = SUFFIXES.get(output.suffix.lower()) if output is not None else None
    if named is not None and named not in allowed:
        if named != "table":
            suffixes = [s for f in allowed for s, g in SUFFIXES.items() if g == f]
            listed = ", ".join(suffixes[:-1]) + f" or {suffixes[-1]}" if len(suffixes) > 1 else suffixes[0]
            raise UsageError(f"{output.name}: {what} writes {listed}, not {output.suffix}: name the file accordingly")
        named = None
    if fmt is not None and named is not None and named != fmt:
        raise UsageError(f"--format {fmt} but {output.name} ends in {output.suffix}: give one or the other")
    chosen = fmt or named or allowed[0]
    if chosen == "xlsx" and output is None:
        raise UsageError("an xlsx workbook is binary: write it to a file with -o FILE.xlsx")
    return chosen


def table_text(
    rows: list[dict], columns: list[str], *, title: str | None, caption: str | None, numeric: tuple = ()
) -> str:
    """A Rich table as plain text, for a table written to a file."""
    from rich.console import Console

    buf = io.StringIO()
    Console(file=buf, width=200, no_color=True, highlight=False).print(
        render.table(rows, columns, title=title, caption=caption, numeric=numeric)
    )
    return buf.getvalue()


def summary(
    db: Database,
    fmt: str,
    *,
    coder: str | None = None,
    quotes: int = 3,
    redact: bool = False,
    allow_incomplete: bool = False,
) -> tuple[str | bytes, dict]:
    """(content, data): the caller says data["caveats"] where the format has no place for them (CSV)."""
    from qualcode.export import summary_formats
    from qualcode.export.summary import summary as build

    data = build(db, coder=coder, quotes=quotes, redact=redact, allow_incomplete=allow_incomplete)
    if fmt == "json":
        return render.to_json(data), data
    if fmt == "csv":
        rows, columns = summary_formats.rows(data)
        return render.to_csv(rows, columns), data
    if fmt == "xlsx":
        from qualcode.output.xlsx import workbook

        return workbook(summary_formats.sheets(data)), data
    return summary_formats.to_markdown(data), data


def matrix(
    db: Database,
    by: str,
    fmt: str,
    *,
    count: str = "participants",
    percent: str | None = None,
    level: str = "code",
    coder: str | None = None,
    redact: bool = False,
    allow_incomplete: bool = False,
    source: str = "interviews",
) -> tuple[str | bytes | None, dict]:
    """(content, data); content is None for a table shown on the terminal (the caller renders it)."""
    from qualcode.export.matrix import display
    from qualcode.export.matrix import matrix as build

    data = build(
        db,
        by,
        coder=coder,
        count=count,
        percent=percent,
        level=level,
        redact=redact,
        allow_incomplete=allow_incomplete,
        source=source,
    )
    within = "" if data["source"] in (None, "interview") else f", {data['source']} sources"
    data["title"] = (
        f"{'Criteria' if level == 'criterion' else 'Codes'} × {data['by']}: {data['count']}{within} ({data['coder']})"
    )
    if fmt == "json":
        return render.to_json(data), data
    numbers = fmt in ("csv", "xlsx")
    rows, columns = display(data, numbers_only=numbers, indent=not numbers)
    data["rows_display"], data["columns_display"] = rows, columns
    if fmt == "csv":
        return render.to_csv(rows, columns), data
    if fmt == "xlsx":
        from qualcode.output.xlsx import Sheet, workbook

        formats = {c: "0.0" for c in columns[1:]} if percent else {}
        sheet = Sheet(
            "Matrix", columns, [[r.get(c) for c in columns] for r in rows], formats, [data["title"], data["note"]]
        )
        return workbook([sheet]), data
    if fmt == "md":
        return render.to_markdown(rows, columns, title=data["title"], caption=data["note"]), data
    return None, data


def matrix_table_text(data: dict) -> str:
    columns = data["columns_display"]
    return table_text(
        data["rows_display"], columns, title=data["title"], caption=data["note"], numeric=tuple(columns[1:])
    )


def segments(
    db: Database, fmt: str, *, coder: str | None = None, redact: bool = False, allow_incomplete: bool = False
) -> tuple[str | bytes, dict]:
    from qualcode.export.tables import flat
    from qualcode.export.tables import segments as build

    data = build(db, coder=coder, redact=redact, allow_incomplete=allow_incomplete)
    if fmt == "json":
        return render.to_json(data), data
    rows = [flat(r) for r in data["segments"]]
    if fmt == "csv":
        return render.to_csv(rows, data["columns"]), data
    from qualcode.output.xlsx import Sheet, workbook

    sheet = Sheet(
        "Segments", data["columns"], [[r.get(c) for c in data["columns"]] for r in rows], notes=data["caveats"]
    )
    return workbook([sheet]), data


def participants(
    db: Database, fmt: str, *, coder: str | None = None, redact: bool = False, allow_incomplete: bool = False
) -> str | bytes:
    from qualcode.export.tables import count_rows, participant_rows
    from qualcode.export.tables import participants as build

    data = build(db, coder=coder, redact=redact, allow_incomplete=allow_incomplete)
    rows, columns = participant_rows(data), data["columns"]
    tables = [("By gender", *count_rows(data, None))]
    tables += [(f"By {attr.replace('_', ' ')}", *count_rows(data, attr)) for attr in data["counts"]["by"]]
    if fmt == "json":
        return render.to_json(data)
    if fmt == "csv":
        return render.to_csv(rows, columns)
    if fmt == "xlsx":
        from qualcode.output.xlsx import Sheet, workbook

        sheets = [Sheet("Participants", columns, [[r.get(c) for c in columns] for r in rows])]
        sheets += [Sheet(name, cols, [[r.get(c) for c in cols] for r in t]) for name, t, cols in tables]
        return workbook(sheets)
    parts = [render.to_markdown(t, cols, title=f"Participants {name[0].lower()}{name[1:]}") for name, t, cols in tables]
    parts.append(render.to_markdown(rows, columns, title=f"Participants ({len(rows)})"))
    return "\n".join(parts)


def report(
    db: Database,
    *,
    coder: str | None = None,
    redact: bool = False,
    allow_incomplete: bool = False,
    title: str | None = None,
    quotes: int = 3,
) -> tuple[str, dict]:
    """The HTML report, and what it was made from (its caveats are the summary's)."""
    from qualcode.export.report import report as build
    from qualcode.export.report_html import to_html

    data = build(db, coder=coder, redact=redact, allow_incomplete=allow_incomplete, title=title, quotes=quotes)
    return to_html(data), data
