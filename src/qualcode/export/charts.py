"""Inline SVG charts for the HTML report, drawn here so the report needs no script, library or network.

Each chart is an accessible image: role="img" with a <title> and <desc> it is labelled by, and a <title> on every
bar or cell, which browsers show on hover and screen readers read. All text is escaped. Charts scale to the page
width through their viewBox, so they print whole.
"""

from __future__ import annotations

import math
from html import escape

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif'
# Okabe–Ito colours: told apart with the common colour-vision deficiencies, and not the pink/blue cliché.
PALETTE = ["#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
GREY = "#8C8C8C"
LABEL_CHARS = 34  # per line of a row label; two lines at most


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def series_colours(names: list[str], grey: tuple[str, ...] = ("not recorded",)) -> dict[str, str]:
    out, i = {}, 0
    for n in names:
        if n in grey:
            out[n] = GREY
        else:
            out[n] = PALETTE[i % len(PALETTE)]
            i += 1
    return out


def wrap(text: str, width: int = LABEL_CHARS, lines: int = 2) -> list[str]:
    """Words into at most LINES lines of WIDTH characters, the last one cut with an ellipsis if need be."""
    out: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            out.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    out.append(current)
    if len(out) > lines:
        out = out[: lines - 1] + [" ".join(out[lines - 1 :])]
    return [line if len(line) <= width else line[: width - 1] + "…" for line in out]


def nice_max(value: float) -> int:
    """The axis end: the value rounded up to 1, 2 or 5 times a power of ten (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return int(step * power)
    return int(10 * power)


def tick_step(top: int) -> int:
    """A whole-number step giving at most five intervals: counts of people have no halves."""
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power):
            if top / step <= 5:
                return step
        power *= 10


def _text_lines(
    x: float,
    y: float,
    lines: list[str],
    *,
    anchor: str = "end",
    size: int = 12,
    weight: str = "normal",
    line_height: int = 14,
) -> str:
    first = y - (len(lines) - 1) * line_height / 2
    spans = "".join(
        f'<tspan x="{x:.1f}" y="{first + i * line_height:.1f}">{esc(line)}</tspan>' for i, line in enumerate(lines)
    )
    return (
        f'<text text-anchor="{anchor}" dominant-baseline="middle" font-size="{size}" '
        f'font-weight="{weight}">{spans}</text>'
    )


def grouped_bars(
    chart_id: str,
    categories: list[str],
    series: list[str],
    values: list[list[int]],
    *,
    title: str,
    desc: str,
    unit: str = "participants",
    colours: dict[str, str] | None = None,
) -> str:
    """Horizontal grouped bars: one group per category (a row), one bar per series in it.

    values[i][j] is category i's value for series j. Every bar is drawn, a zero as an empty bar with its label, so
    a reader sees that the value is zero rather than missing.
    """
    colours = colours or series_colours(series)
    width, label_w, right = 760, 250, 40
    bar_h, bar_gap, group_gap, top = 13, 3, 14, 44
    plot_w = width - label_w - right
    group_h = len(series) * bar_h + (len(series) - 1) * bar_gap
    height = top + len(categories) * (group_h + group_gap) + 26
    top_value = nice_max(max((v for row in values for v in row), default=0))
    scale = plot_w / top_value
    step = tick_step(top_value)
    ticks = list(range(0, top_value + 1, step))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bars" id="{esc(chart_id)}" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="{esc(FONT)}" '
        f'aria-labelledby="{esc(chart_id)}-title {esc(chart_id)}-desc">',
        f'<title id="{esc(chart_id)}-title">{esc(title)}</title>',
        f'<desc id="{esc(chart_id)}-desc">{esc(desc)}</desc>',
    ]
    x = label_w
    for name in series:  # the legend
        out.append(f'<rect x="{x}" y="10" width="12" height="12" fill="{colours[name]}"/>')
        out.append(f'<text x="{x + 17}" y="16" dominant-baseline="middle" font-size="12">{esc(name)}</text>')
        x += 30 + 7 * len(name)
    axis_y = height - 22
    for t in ticks:
        tx = label_w + t * scale
        out.append(
            f'<line x1="{tx:.1f}" y1="{top - 6}" x2="{tx:.1f}" y2="{axis_y}" stroke="#d9d9d9" stroke-width="1"/>'
        )
        out.append(f'<text x="{tx:.1f}" y="{axis_y + 12}" text-anchor="middle" font-size="10" fill="#555">{t}</text>')
    y = top
    for i, category in enumerate(categories):
        out.append(_text_lines(label_w - 8, y + group_h / 2, wrap(category)))
        for j, name in enumerate(series):
            v = values[i][j]
            by = y + j * (bar_h + bar_gap)
            w = v * scale
            label = f"{name}, {category}: {v} {unit}"
            out.append(
                f'<rect class="bar" x="{label_w}" y="{by}" width="{w:.1f}" height="{bar_h}" '
                f'fill="{colours[name]}" data-series="{esc(name)}" data-value="{v}">'
                f"<title>{esc(label)}</title></rect>"
            )
            out.append(
                f'<text x="{label_w + w + 4:.1f}" y="{by + bar_h / 2:.1f}" dominant-baseline="middle" '
                f'font-size="11" fill="#222">{v}</text>'
            )
        y += group_h + group_gap
    out.append(f'<line x1="{label_w}" y1="{top - 6}" x2="{label_w}" y2="{axis_y}" stroke="#333" stroke-width="1"/>')
    out.append("</svg>")
    return "".join(out)


def _blend(t: float) -> str:
    """A colour from very light to dark blue for t in 0..1 (ColorBrewer Blues end points)."""
    lo, hi = (0xEF, 0xF3, 0xFF), (0x08, 0x30, 0x6B)
    r, g, b = (round(a + (c - a) * t) for a, c in zip(lo, hi, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(
    chart_id: str,
    rows: list[tuple[str, bool]],
    columns: list[str],
    values: list[list[int] | None],
    *,
    title: str,
    desc: str,
    unit: str = "participants",
) -> str:
    """A grid of cells shaded by value. rows are (label, is_heading); a heading row has no cells (values None).

    Each cell shows its number, in white on dark cells, so the chart reads without colour.
    """
    cell_w, cell_h, label_w, head_h, right = 58, 17, 320, 120, 100
    width = label_w + cell_w * len(columns) + right
    height = head_h + cell_h * len(rows) + 10
    top_value = max((v for row in values if row for v in row), default=0) or 1
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart heatmap" id="{esc(chart_id)}" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="{esc(FONT)}" '
        f'aria-labelledby="{esc(chart_id)}-title {esc(chart_id)}-desc">',
        f'<title id="{esc(chart_id)}-title">{esc(title)}</title>',
        f'<desc id="{esc(chart_id)}-desc">{esc(desc)}</desc>',
    ]
    for j, column in enumerate(columns):
        cx = label_w + j * cell_w + cell_w / 2
        # Two short lines at 45° keep long case-study names whole without a page-wide header.
        lines = wrap(column, 22, 2)
        spans = "".join(f'<tspan x="0" dy="{0 if k == 0 else 13}">{esc(line)}</tspan>' for k, line in enumerate(lines))
        out.append(
            f'<text transform="translate({cx - 4:.1f},{head_h - 8 - 13 * (len(lines) - 1) * 0.7:.1f}) rotate(-45)" '
            f'font-size="12">{spans}<title>{esc(column)}</title></text>'
        )
    for i, ((label, heading), row) in enumerate(zip(rows, values, strict=True)):
        y = head_h + i * cell_h
        if heading:
            out.append(
                f'<text x="4" y="{y + cell_h / 2 + 1:.1f}" dominant-baseline="middle" font-size="12" '
                f'font-weight="bold">{esc(wrap(label, 50, 1)[0])}</text>'
            )
            out.append(
                f'<line x1="4" y1="{y + 1}" x2="{width - right}" y2="{y + 1}" stroke="#999" stroke-width="0.6"/>'
            )
            continue
        out.append(
            f'<text x="{label_w - 8}" y="{y + cell_h / 2 + 1:.1f}" text-anchor="end" dominant-baseline="middle" '
            f'font-size="12">{esc(wrap(label, 46, 1)[0])}<title>{esc(label)}</title></text>'
        )
        for j, column in enumerate(columns):
            v = row[j] if row else 0
            t = v / top_value
            fill = _blend(t) if v else "#ffffff"
            ink = "#ffffff" if t > 0.55 else ("#999999" if v == 0 else "#1a1a1a")
            x = label_w + j * cell_w
            out.append(
                f'<rect class="cell" x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{fill}" '
                f'stroke="#e3e3e3" stroke-width="0.5" data-value="{v}">'
                f"<title>{esc(f'{label}, {column}: {v} {unit}')}</title></rect>"
            )
            out.append(
                f'<text x="{x + (cell_w - 2) / 2:.1f}" y="{y + (cell_h - 2) / 2 + 1:.1f}" text-anchor="middle" '
                f'dominant-baseline="middle" font-size="11" fill="{ink}">{v}</text>'
            )
    out.append("</svg>")
    return "".join(out)
