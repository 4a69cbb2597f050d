"""Rendering results for stdout: a Rich table for people, JSON, CSV or Markdown for pipes.

A pipe or a file gets data, not a screen: when stdout is not a terminal nothing is hard-wrapped at the terminal's
width, and a table is printed as plain aligned columns, each cell whole on its row and each row on one line.
On a terminal a table is laid out for the window (see Fitted): no number is ever cut and no word broken.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

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
    """One line of stdout: styled on a terminal (control characters shown, not obeyed), and written exactly as given
    to a pipe (Rich would expand tabs and drop control characters; a transcript's text must arrive as it is stored)."""
    out = console("out")
    if out.is_terminal:
        from rich.text import Text

        out.print(Text(printable(line), style=style or ""))
    else:
        sys.stdout.write(line + "\n")


__getattr__ = console

# C0 controls but tab and newline, DEL and C1: a terminal obeys them, and a transcript is anyone's text (ESC [2J
# clears the screen, ESC ] retitles the window; Rich passes both). Each is shown as one character, its Control
# Pictures sign (U+2400 + code) or U+FFFD for C1, so a styled span over the text stays on its characters.
_CONTROLS = (
    {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)}
    | {0x7F: 0x2421}
    | dict.fromkeys(range(0x80, 0xA0), 0xFFFD)
)
# A line break in a cell, with the blanks around it: in a pipe a row is one line (a turn's paragraphs, a memo's lines).
_BREAKS = re.compile(r"\s*[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]\s*")


def printable(s: str) -> str:
    """S with its control characters made visible: what any text from a project gets before a terminal shows it."""
    return s.translate(_CONTROLS)


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
    header: bool = True,
) -> Fitted:
    """A table for a person, laid out when printed for the width it is printed at (see Fitted)."""
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    return Fitted(list(columns), cells, title=title, caption=caption, numeric=numeric, wide=wide, header=header)


def _cell(value: Any):
    """A cell as Rich Text, controls made visible. Text, not str: a str is parsed as Rich markup, and transcripts say
    "[laughs]" and "[pause]"."""
    from rich.text import Text

    if isinstance(value, Text):
        value = value.copy()
        value.plain = printable(value.plain)  # one character for one: the styles stay where they were
        return value
    return Text(printable(cell(value)))


# Running text (a WIDE column) narrower than this is harder to read than one row per block.
READABLE = 24
# Beside running text, how wide the other columns ask to be (they wrap at spaces), so the text is not squeezed like
# a short value; never narrower than their longest word.
NARROW = 16


class Fitted:
    """A table that fits the width it is printed at, or is shown one row per block.

    Rich, given a table wider than the window, shrinks every column evenly once the wrappable ones are spent, and
    crops what no longer fits: a study base of 28 became "2". Here no column is narrower than its longest word
    (ids, numbers and dates are one word, so they never wrap or shrink); text columns take the room left in
    proportion to what they lack; and when even the longest words do not fit side by side, each row becomes a block
    of "column  value" lines, which any width can hold.
    """

    def __init__(self, columns, cells, *, title, caption, numeric, wide, header):
        self.columns, self.cells, self.header = columns, cells, header
        self.title = printable(title) if title else None
        self.caption = printable(caption) if caption else None
        self.numeric, self.wide = set(numeric), set(wide)

    def __rich_console__(self, console, options):
        widths = self.widths(options.max_width)
        yield self.stacked(options.max_width) if widths is None else self.table(widths)

    def widths(self, width: int) -> list[int] | None:
        """Each column's width (padding and borders excluded) in WIDTH, or None if the longest words cannot fit."""
        from rich.cells import cell_len

        room = width - (3 * len(self.columns) + 1)  # a border before each column and after the last, a space each side
        natural, least = [], []
        for i, name in enumerate(self.columns):
            texts = [t.plain for t in (row[i] for row in self.cells)] + ([name] if self.header else [])
            lines = [line for t in texts for line in t.split("\n")]
            longest = max((cell_len(line) for line in lines), default=0)
            # A line's first word keeps its indentation (a child code's name under its parent's).
            word = max((cell_len(w) for line in lines for w in re.findall(r"^ *\S+|\S+", line)), default=0)
            if name in self.wide:
                word = max(word, min(longest, READABLE))
            elif self.wide:
                longest = max(word, min(longest, NARROW))
            natural.append(max(longest, 1))
            least.append(max(word, 1))
        if sum(natural) <= room:
            return natural
        if sum(least) > room:
            return None
        extra, slack = room - sum(least), [n - m for n, m in zip(natural, least, strict=True)]
        widths = [m + extra * s // sum(slack) for m, s in zip(least, slack, strict=True)]
        # What rounding down left over goes one column each to those that lack the most; none reaches its natural.
        for i in sorted(range(len(widths)), key=lambda i: -slack[i])[: room - sum(widths)]:
            widths[i] += 1
        return widths

    def table(self, widths: list[int]):
        from rich.table import Table
        from rich.text import Text

        t = Table(
            title=self.title,
            caption=self.caption,
            caption_justify="left",
            title_justify="left",
            show_header=self.header,
        )
        for name, w in zip(self.columns, widths, strict=True):
            # Only a word longer than its whole column is folded, and widths() leaves none.
            t.add_column(
                Text(printable(name)), justify="right" if name in self.numeric else "left", width=w, overflow="fold"
            )
        for row in self.cells:
            t.add_row(*row)
        return t

    def stacked(self, width: int):
        from rich.cells import cell_len
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 2))
        if self.header:
            names = [printable(c) for c in self.columns]
            word = max((cell_len(w) for c in names for w in c.split()), default=0)
            label = min(max((cell_len(c) for c in names), default=0), max(word, width // 3))
            grid.add_column(style="bold", width=label, overflow="fold")
        grid.add_column(width=max(width - label - 2, 1) if self.header else width, overflow="fold")
        for n, row in enumerate(self.cells):
            if n:
                grid.add_row()
            for name, value in zip(self.columns, row, strict=True):
                grid.add_row(*([Text(printable(name))] if self.header else []), value)
        parts = [Text(self.title), Text()] if self.title else []
        return Group(*parts, grid, *([Text(), Text(self.caption)] if self.caption else []))


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
    """Plain aligned columns for a pipe: a header, a rule, one row per line, no cell ever wrapped or cut.

    A cell's line breaks become spaces (a turn's paragraphs, a memo's lines); --format csv and json keep them."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    def flat(value: Any) -> Text:
        return Text(printable(_BREAKS.sub(" ", value.plain if isinstance(value, Text) else cell(value))))

    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, show_header=header)
    for c in columns:
        t.add_column(flat(c), justify="right" if c in numeric else "left", no_wrap=True)
    for r in rows:
        t.add_row(*(flat(r.get(c)) for c in columns))
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
            console("out").print(table(rows, ["", "value"], title=title, header=False))
