"""The lists a session screen shows in place of the codes or the turn: the help (the keys and what each does), the
turn's sentences numbered for k, and the codes c found, numbered to choose from. Drawn by qualcode.cli._screen.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from qualcode.agreement.review import ReviewSession
from qualcode.coding.session import Cursor
from qualcode.output.render import printable

# Each description fits on one line beside its key in 60 columns: the help is whole in the smallest window promised.
CODING_KEYS = [
    ("enter, a", 'accept the checked codes (none: "no code")'),
    ("1-9", "check or uncheck that code"),
    ("c", "find a code by name: checks it; again, unchecks"),
    ("x", 'reject every suggestion: "no code" for the turn'),
    ("s", "skip: no decision now, the turn stays open"),
    ("n, p (→, ←)", "next or previous turn without deciding"),
    ("↓, ↑", "scroll a turn too long for the window"),
    ("m", "a memo, saved with your decision on this turn"),
    ("k", "code only some sentences (type their numbers)"),
    ("u", "undo this session's last decision, repeatedly"),
    ("esc", "cancel a question (code name, memo, sentences)"),
    ("?", "this help; any key closes it"),
    ("q", "quit: all is saved; run again to resume"),
]
REVIEW_KEYS = [
    ("1, 2", "keep the first or the second coder's version"),
    ("b", "both: the union of their codes"),
    ("0", 'neither: record "no code"'),
    ("e", "edit: digits, c toggle; enter saves, e cancels"),
    ("s", "skip: no decision now"),
    ("n, p (→, ←)", "next or previous disagreement, not deciding"),
    ("↓, ↑", "scroll a turn too long for the window"),
    ("m", "a memo, saved with the consensus decision"),
    ("u", "undo this session's last decision, repeatedly"),
    ("esc", "cancel a question (code name, memo)"),
    ("?", "this help; any key closes it"),
    ("q", "quit: all is saved; run again to resume"),
]
CLOSE_HELP = "any key closes the help"


def line(text: Text | str, style: str = "") -> Text:
    """One line, shortened with "…" rather than wrapped."""
    out = text if isinstance(text, Text) else Text(text, style=style)
    out.no_wrap, out.overflow = True, "ellipsis"
    return out


def sentences(sess: Cursor, width: int | None = None) -> Table:
    """The turn's sentences, numbered for k; with WIDTH, each on one line of that width, cut with "…", so that in a
    short window every number the coder is asked for is on the screen."""
    digits = len(str(len(sess.ctx.sentences)))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True, min_width=digits)
    grid.add_column()
    t = sess.ctx.turn
    for n, (a, b) in enumerate(sess.ctx.sentences, 1):
        text = t.text[a - t.start : b - t.start]
        if width is not None:
            text, room = " ".join(text.split()), max(width - digits - 1, 2)
            text = text if len(text) <= room else text[: room - 1] + "…"
        grid.add_row(Text(str(n), style="bold"), Text(printable(text)))
    return grid


def choices(sess: Cursor, width: int | None = None) -> Table:
    """The codes c found, numbered, each with its check box: picking a checked one unchecks it, and says so. With
    WIDTH, each on one line of that width: a path too long gives up its parents ("…/name", then the name alone), then
    the start of its name, since the names are what the coder tells apart and they all start with the letters typed."""
    grid = Table.grid(padding=(0, 1))
    for n, c in enumerate(sess.choices, 1):
        checked = c.id in sess.checked
        after = " (unchecks)" if checked else ""
        room = None if width is None else width - len(f"{n} [ ] ■ {after}")
        path = c.path
        if room is not None and len(path) > room:
            # Every choice starts with the letters typed: what tells them apart is at the end of the name.
            fits = [p for p in (f"…/{c.name}", c.name) if len(p) <= room]
            path = fits[0] if fits else "…" + c.name[-(room - 1) :]
        label = Text.assemble(("■ ", sess.colours[c.id] or ""), path, (after, "yellow"))
        box = Text("[✓]" if checked else "[ ]", style="green bold" if checked else "")
        grid.add_row(Text(str(n), style="bold"), box, label if width is None else line(label))
    return grid


def help_table(sess: Cursor, *, whole: bool = True) -> Table:
    """The keys and what each does; unless WHOLE, each on one line, its description cut with "…"."""
    keys = REVIEW_KEYS if isinstance(sess, ReviewSession) else CODING_KEYS
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, min_width=max(len(key) for key, _ in keys))  # a key is never shortened
    grid.add_column()
    for key, what in keys:
        grid.add_row(Text(key, style="bold"), Text(what) if whole else line(what))
    return grid


PARTS: dict[str, Callable[[Cursor], RenderableType]] = {"sentences": sentences, "choices": choices, "help": help_table}
