"""Excel workbooks for the exports: one sheet per table, a styled and frozen header row, sensible column widths.

openpyxl is imported inside `workbook`, so commands that never write a workbook do not pay for it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_WIDTH = 60  # characters; longer text wraps inside the column
MIN_WIDTH = 6
HEADER_FILL = "DDE4EE"


@dataclass
class Sheet:
    name: str
    columns: list[str]
    rows: Sequence[Sequence[Any]]
    number_formats: dict[str, str] = field(default_factory=dict)  # column → Excel number format
    notes: list[str] = field(default_factory=list)  # written under the table, after one empty row


def _safe_title(name: str, taken: set[str]) -> str:
    # Excel refuses these characters in sheet names and names longer than 31 characters.
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip("'") or "Sheet"
    title, n = clean[:31], 2
    while title.casefold() in taken:
        suffix = f" ({n})"
        title, n = clean[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.casefold())
    return title


def _cell_value(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = "; ".join(f"{k}={v}" for k, v in value.items())
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _as_text(cell) -> None:
    """A string cell that starts with '=' stays text: openpyxl would store it as a formula for Excel to run."""
    if isinstance(cell.value, str) and cell.value.startswith("="):
        cell.data_type = "s"


def workbook(sheets: Sequence[Sheet]) -> bytes:
    """The workbook as bytes, its sheets in the order given."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    bold, fill = Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL)
    rule = Border(bottom=Side(style="thin", color="7F8C9D"))
    for spec in sheets:
        ws = wb.create_sheet(_safe_title(spec.name, taken))
        ws.append([_cell_value(h) for h in spec.columns])
        for c in ws[1]:
            _as_text(c)  # a header can be an attribute value ("=woman"): never a formula
            c.font, c.fill, c.border = bold, fill, rule
            c.alignment = Alignment(vertical="top", wrap_text=True)
        widths = [max(MIN_WIDTH, min(MAX_WIDTH, len(str(h)) + 2)) for h in spec.columns]
        for row in spec.rows:
            ws.append([_cell_value(v) for v in row])
            for i, cell in enumerate(ws[ws.max_row]):
                if isinstance(cell.value, str):
                    _as_text(cell)
                    longest = max((len(line) for line in cell.value.splitlines()), default=0)
                    if longest > MAX_WIDTH or "\n" in cell.value:
                        cell.alignment = Alignment(wrap_text=True, vertical="top")
                    widths[i] = max(widths[i], min(MAX_WIDTH, longest + 2))
                elif cell.value is not None:
                    widths[i] = max(widths[i], min(MAX_WIDTH, len(str(cell.value)) + 2))
        for i, column in enumerate(spec.columns):
            letter = get_column_letter(i + 1)
            ws.column_dimensions[letter].width = widths[i]
            if column in spec.number_formats:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i + 1, max_col=i + 1):
                    cell.number_format = spec.number_formats[column]
        ws.freeze_panes = "A2"
        if spec.rows:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(spec.columns))}{ws.max_row}"
        if spec.notes:
            ws.append([])
            for note in spec.notes:
                ws.append([note])
                _as_text(ws.cell(ws.max_row, 1))
                ws.cell(ws.max_row, 1).font = Font(italic=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
