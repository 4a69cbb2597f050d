"""Rendering results for stdout: a Rich table for people, JSON, CSV or Markdown for pipes.

A pipe or a file gets data, not a screen: when stdout is not a terminal nothing is hard-wrapped at the terminal's
width, and a table is printed as plain aligned columns, each cell whole on its row.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

FORMATS = ("table", "json", "csv", "md")

_CONSOLES: dict[str, Console] = {}


def console(which: str) -> Console:
    """The stdout ("out") or stderr ("err") console, made on first use: importing Rich was a sixth of the time of
    `qualcode --help`, which prints with neither. `render.out` and `render.err` still name them (__getattr__)."""
    if which not in ("out", "err"):
        raise AttributeError(f"module {__name__!r} has no attribute {which!r}")
    if not _CONSOLES:
        from rich.console import Console

        _CONSOLES.update(out=Console(highlight=False), err=Console(stderr=True, highlight=False))
        for c in _CONSOLES.values():
            # Lines longer than the width are a file's business, not a reason to break them at column 80.
            c.soft_wrap = not c.is_terminal
    return _CONSOLES[which]


def text(line: str = "", style: str | None = None) -> None:
    """One line of stdout: styled on a terminal, and written exactly as given to a pipe (Rich would expand tabs and
    drop control characters; a transcript's text must arrive as it is stored)."""
    out = console("out")
    if out.is_terminal:
        from rich.text import Text

        out.print(Text(line, style=style or ""))
    else:
        sys.stdout.write(line + "\n")


__getattr__ = console


def plural(n: int, one: str, many: str | None = None) -> str:
    """ "1 coding", "2 codings", "0 codings"; MANY for irregular words ("1 person", "3 people")."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={cell(v)}" for k, v in value.items())
    return str(value)


def table(
    rows: Sequence[dict],
    columns: Sequence[str],
    *,
    title: str | None = None,
    caption: str | None = None,
    numeric: Sequence[str] = (),
    wide: Sequence[str] = (),
) -> Table:
    """With WIDE columns (running text) the others are capped, so the text is not squeezed like a short value."""
    from rich.table import Table
    from rich.text import Text

    t = Table(title=title, caption=caption, caption_justify="left", title_justify="left")
    for c in columns:
        extra = {"max_width": 16} if wide and c not in wide else {}
        # A number never wraps; text wraps at spaces, and folds only a word longer than its whole column.
        t.add_column(c, justify="right" if c in numeric else "left", overflow="fold", no_wrap=c in numeric, **extra)
    for r in rows:
        # Text, not str: a str cell is parsed as Rich markup, and transcripts say "[laughs]" and "[pause]".
        t.add_row(*(v if isinstance(v := r.get(c), Text) else Text(cell(v)) for c in columns))
    return t


def show(renderable) -> None:
    """Print a Rich renderable (a tree, a table) to stdout: fitted to a terminal, whole and unpadded in a pipe."""
    out = console("out")
    if out.is_terminal:
        out.print(renderable)
    else:
        sys.stdout.write(plain(renderable))


def plain(renderable) -> str:
    """A renderable as plain text at its natural width: nothing wrapped or cut, no trailing spaces."""
    from rich.console import Console

    buf = io.StringIO()
    Console(file=buf, width=1_000_000, color_system=None, highlight=False).print(renderable)
    return "".join(line.rstrip() + "\n" for line in buf.getvalue().splitlines())


def to_text(
    rows: Sequence[dict],
    columns: Sequence[str],
    *,
    title: str | None = None,
    caption: str | None = None,
    numeric: Sequence[str] = (),
    header: bool = True,
) -> str:
    """Plain aligned columns for a pipe: a header, a rule, one row per line, no cell ever wrapped or cut."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, show_header=header)
    for c in columns:
        t.add_column(Text(c), justify="right" if c in numeric else "left", no_wrap=True)
    for r in rows:
        t.add_row(*(v if isinstance(v := r.get(c), Text) else Text(cell(v)) for c in columns))
    lines = plain(t).splitlines()
    return "".join(f"{x}\n" for x in [*([title, ""] if title else []), *lines, *(["", caption] if caption else [])])


def to_csv(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """Cells that a spreadsheet would run as formulas are written as text (see output.formulas)."""
    from qualcode.output.formulas import escape

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([escape(str(c)) for c in columns])
    for r in rows:
        w.writerow([escape(cell(r.get(c))) for c in columns])
    return buf.getvalue()


def to_markdown(
    rows: Sequence[dict], columns: Sequence[str], *, title: str | None = None, caption: str | None = None
) -> str:
    def esc(v: Any) -> str:
        return cell(v).replace("|", "\\|").replace("\n", "<br>")

    lines = [f"### {title}", ""] if title else []
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    lines += ["| " + " | ".join(esc(r.get(c)) for c in columns) + " |" for r in rows]
    if caption:
        lines += ["", caption]
    return "\n".join(lines) + "\n"


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def emit(
    fmt: str,
    *,
    rows: Sequence[dict] = (),
    columns: Sequence[str] | None = None,
    data: Any = None,
    title: str | None = None,
    caption: str | None = None,
    numeric: Sequence[str] = (),
    wide: Sequence[str] = (),
) -> None:
    """Write one result to stdout in FMT. data is what JSON gets (default: the rows)."""
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt == "json":
        sys.stdout.write(to_json(rows if data is None else data))
    elif fmt == "csv":
        sys.stdout.write(to_csv(rows, columns))
    elif fmt == "md":
        sys.stdout.write(to_markdown(rows, columns, title=title, caption=caption))
    elif not console("out").is_terminal:
        sys.stdout.write(to_text(rows, columns, title=title, caption=caption, numeric=numeric))
    else:
        console("out").print(table(rows, columns, title=title, caption=caption, numeric=numeric, wide=wide))


def emit_record(fmt: str, record: dict, *, title: str | None = None) -> None:
    """One result with named fields: a two-column table for people, the object itself for JSON."""
    if fmt == "json":
        sys.stdout.write(to_json(record))
    elif fmt == "csv":
        sys.stdout.write(to_csv([record], list(record)))
    else:
        rows = [{"": k, "value": v} for k, v in record.items()]
        if fmt == "md":
            sys.stdout.write(to_markdown(rows, ["", "value"], title=title))
        elif not console("out").is_terminal:
            sys.stdout.write(to_text(rows, ["", "value"], title=title, header=False))
        else:
            t = table(rows, ["", "value"], title=title)
            t.show_header = False
            console("out").print(t)
