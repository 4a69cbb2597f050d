"""Drawing a coding or review session with Rich, and reading the coder's keys (the engine is qualcode.coding.session).

On a terminal each key acts at once (click.getchar) and the screen is redrawn; otherwise every line of stdin is one
command and the transcript is printed as it goes, which is how tests and scripts drive a session.
"""

from __future__ import annotations

import re
import sys

import click
from rich.console import Console, Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from qualcode.agreement.review import ReviewSession
from qualcode.coding.session import MAX_NUMBERED, PROMPTS, CodingSession, Cursor, Reply

CODING_KEYS = [
    ("enter, a", 'accept the checked codes (nothing checked records "no code")'),
    ("1-9", "check or uncheck that code"),
    ("c", "find any code by the start of its name, and check it"),
    ("x", 'reject every suggestion: record "no code" for this turn'),
    ("s", "skip: no decision now; the turn stays undecided"),
    ("n, p (→, ←)", "next or previous turn without deciding"),
    ("m", "write a memo; it is saved with your decision on this turn"),
    ("k", "code only some sentences of this turn (type their numbers)"),
    ("u", "undo this session's last decision; again to go further back"),
    ("?", "this help"),
    ("q", "quit: every decision is already saved; run the command again to resume"),
]
REVIEW_KEYS = [
    ("1, 2", "keep the first or the second coder's version"),
    ("b", "both: the union of their codes"),
    ("0", 'neither: record "no code"'),
    ("e", "edit: digits toggle codes, c adds one, enter saves, e cancels"),
    ("s", "skip: no decision now"),
    ("n, p (→, ←)", "next or previous disagreement without deciding"),
    ("m", "write a memo; it is saved with the consensus decision"),
    ("u", "undo this session's last decision; again to go further back"),
    ("?", "this help"),
    ("q", "quit: every decision is already saved; run the command again to resume"),
]
ARROWS = {"\x1b[C": "n", "\x1bOC": "n", "\x1b[D": "p", "\x1bOD": "p"}


def _tail(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else "…" + flat[-(width - 1) :]


def context(sess: Cursor, highlight: list[tuple[int, int, str]] = ()) -> list[RenderableType]:
    """Interview, the turn before (dimmed), the speaker and the turn text with evidence highlighted."""
    ctx = sess.ctx
    t, iv, sp = ctx.turn, ctx.interview, ctx.speaker
    title = " · ".join(x for x in (iv["id"], iv["title"], iv["date"]) if x)
    decided = "  ✓ decided" if t.id in sess.decided else ""
    out: list[RenderableType] = [
        Rule(Text(f"{title} · turn {t.idx} · {ctx.turns_in_interview} turns{decided}", style="bold"), align="left")
    ]
    if iv["attributes"]:
        out.append(Text(" · ".join(f"{k}: {v}" for k, v in iv["attributes"].items()), style="dim"))
    for label, text in ctx.previous:
        out.append(Text(f"{label}: {_tail(text, 220)}", style="dim italic"))
    who = [x for x in (sp["participant"], sp["gender"], sp["stakeholder_group"]) if x]
    role = f" ({' · '.join(who)})" if sp["participant"] else " (interviewer)"
    out.append(Text.assemble((sp["label"], "bold"), (role, "cyan")))
    if sess.pending == "k":
        out.append(sentences(sess))  # the turn itself, numbered, while the coder picks sentences
        return out
    spans = getattr(sess, "spans", None)
    body = Text(t.text, style="dim" if spans else "")
    for a, b in spans or ():
        body.stylize("not dim", a - t.start, b - t.start)
    for a, b, colour in highlight:
        body.stylize(f"bold underline {colour}".strip(), a, b)
    out.append(body)
    return out


def checklist(sess: CodingSession | ReviewSession, *, detail: bool = True) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    if detail:
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True, overflow="ellipsis")
    for n, item in enumerate(sess.items, 1):
        c = item.code
        mark = "[✓]" if c.id in sess.checked else "[ ]"
        cells = [
            Text(f"{n:>2}" if n <= MAX_NUMBERED else "  "),
            Text(mark, style="green bold" if "✓" in mark else ""),
            Text.assemble(("■ ", sess.colours[c.id] or ""), c.path),
        ]
        if detail:
            s = item.suggestion
            cells.append(
                Text(
                    f"{s.score:.2f} {s.source}" if s else ("yours" if item.applied else "added"),
                    style="" if s else "dim",
                )
            )
            cells.append(Text(", ".join(f"“{w}”" for w in s.words[:4]) if s else "", style="dim"))
        grid.add_row(*cells)
    return grid


def coding_codes(sess: CodingSession) -> list[RenderableType]:
    out: list[RenderableType] = []
    if sess.items:
        out.append(checklist(sess))
    else:
        out.append(Text("  no suggestions: c finds a code; x (or enter) records no code", style="dim"))
    if sess.previous and not any(code_id for code_id, *_ in sess.previous):
        out.append(Text("  you decided: no code", style="yellow"))
    if sess.spans:
        nums = [str(i + 1) for i, s in enumerate(sess.ctx.sentences) if s in sess.spans]
        out.append(
            Text(f"  only sentence{'s' if len(nums) > 1 else ''} {', '.join(nums)} (k changes it)", style="yellow")
        )
    if sess.memo:
        out.append(Text(f"  memo: {sess.memo}", style="yellow"))
    return out


def review_codes(sess: ReviewSession) -> list[RenderableType]:
    grid = Table.grid(padding=(0, 2))
    for _ in range(4):
        grid.add_column()
    label = "consensus" if sess.previous else ""
    grid.add_row(
        Text(""), Text(f"1 {sess.a}", style="bold"), Text(f"2 {sess.b}", style="bold"), Text(label, style="bold")
    )
    mine = {c[0] for c in sess.previous if c[0] is not None}
    for item in sess.items:
        cid = item.code.id
        row = [Text.assemble(("■ ", sess.colours[cid] or ""), item.code.path)]
        row += [
            Text("✓" if cid in sess.codes_of(w) else "·", style="green" if cid in sess.codes_of(w) else "dim")
            for w in (sess.a, sess.b)
        ]
        row.append(Text("✓" if cid in mine else ("·" if sess.previous else "")))
        grid.add_row(*row)
    out: list[RenderableType] = [grid]
    for who in (sess.a, sess.b):
        if not sess.codes_of(who):
            out.append(Text(f"  {who}: no code", style="dim"))
        elif part := sess.parts_of(who):
            out.append(Text(f"  {who} coded only {part}", style="yellow"))
        for memo in sess.memos_of(who):
            out.append(Text(f"  {who}'s memo: {memo}", style="italic"))
    if sess.editing:
        out += [Text("editing the consensus:", style="bold"), checklist(sess, detail=False)]
    if sess.memo:
        out.append(Text(f"  memo: {sess.memo}", style="yellow"))
    return out


def footer(sess: Cursor) -> list[RenderableType]:
    done = " · ".join(f"{o} {sess.counts[o]}" for o in sess.outcomes)
    progress = f"{len(sess.decided)} of {len(sess.turn_ids)} decided, {sess.remaining} to go"
    if note := getattr(sess, "precheck_note", None):
        progress += f" │ {note}"
    if isinstance(sess, ReviewSession):
        keys = f"1 {sess.a}'s · 2 {sess.b}'s · b both · 0 neither · e edit · s skip · n/p · m memo · u undo · ? · q"
        if sess.editing:
            keys = "1-9 toggle · c add a code · enter save · e cancel edit · ? · q"
    else:
        keys = "enter accept · 1-9 toggle · c code · x no code · s skip · n/p · m memo · k sentences · u undo · ? · q"
    return [Text(f"{progress} │ session: {done}", style="bold"), Text(keys, style="dim")]


def codes_part(sess: Cursor) -> list[RenderableType]:
    return review_codes(sess) if isinstance(sess, ReviewSession) else coding_codes(sess)


def screen(sess: Cursor) -> Group:
    if sess.ctx is None:
        open_ = sess.remaining
        text = (
            f"End of the scope: all {len(sess.turn_ids)} turns decided."
            if not open_
            else f"End of the scope: {open_} turn{'s' if open_ != 1 else ''} still undecided (skipped or passed "
            "over); run the command again to revisit them."
        )
        return Group(
            Rule(), Text(text, style="bold"), Text("p goes back · u undoes · q quits", style="dim"), *footer(sess)[:1]
        )
    highlight = []
    if isinstance(sess, CodingSession):
        for item in sess.items:
            if item.suggestion:
                highlight += [(a, b, sess.colours[item.code.id] or "") for a, b in item.suggestion.evidence]
    return Group(*context(sess, highlight), Text(""), *codes_part(sess), Text(""), *footer(sess))


def sentences(sess: Cursor) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right")
    grid.add_column()
    t = sess.ctx.turn
    for n, (a, b) in enumerate(sess.ctx.sentences, 1):
        grid.add_row(Text(str(n), style="bold"), Text(t.text[a - t.start : b - t.start]))
    return grid


def choices(sess: Cursor) -> Table:
    grid = Table.grid(padding=(0, 1))
    for n, c in enumerate(sess.choices, 1):
        grid.add_row(Text(str(n), style="bold"), Text.assemble(("■ ", sess.colours[c.id] or ""), c.path))
    return grid


def help_table(sess: Cursor) -> Table:
    grid = Table.grid(padding=(0, 2))
    for key, what in REVIEW_KEYS if isinstance(sess, ReviewSession) else CODING_KEYS:
        grid.add_row(Text(key, style="bold"), Text(what))
    return grid


PARTS = {"codes": codes_part, "sentences": sentences, "choices": choices, "help": help_table}


def present(sess: Cursor, reply: Reply, console: Console, keys: bool) -> None:
    if keys:
        console.clear()
        console.print(screen(sess))
        if reply.show in ("choices", "help"):
            console.print(PARTS[reply.show](sess))
    elif reply.show == "screen":
        console.print(screen(sess))
    elif reply.show and sess.ctx is not None:
        part = PARTS[reply.show](sess)
        console.print(*(part if isinstance(part, list) else [part]))
    if reply.message:
        console.print(Text(reply.message, style="yellow"))


class Keys:
    """Reads commands: single keys on a terminal (a line for c, m and k), lines otherwise; None at the end."""

    def __init__(self, console: Console, keys: bool):
        self.console, self.keys = console, keys
        self.queue: list[str] = []

    def read(self, sess: Cursor) -> str | None:
        prompt = PROMPTS.get(sess.pending or "", "")
        if not self.keys:
            line = sys.stdin.readline()
            if not line:
                return None
            line = line.rstrip("\r\n")
            self.console.print(Text(f"{prompt or sess.coder + '> '}{line}", style="dim"))
            return line
        if sess.pending in ("c", "m", "k"):
            self.queue.clear()
            return self.console.input(prompt)
        if prompt:
            self.console.print(prompt, end="")
        key = self.key()
        return "" if key in ("\r", "\n") else ARROWS.get(key, key)

    def key(self) -> str:
        # getchar returns whatever one read() gave: keys typed or repeated faster than the screen redraws arrive
        # together ("nnn", or three arrow sequences), and each must count once.
        if not self.queue:
            chunk = click.getchar()
            parts = re.findall(r"\x1b(?:\[[0-9;]*[A-Za-z~]|O[A-Za-z])|\x1b|.", chunk, re.S)
            self.queue.extend(parts or [chunk])
        return self.queue.pop(0)


def run(sess: Cursor, console: Console, *, keys: bool | None = None) -> str:
    """The input loop: until q or the end of input. Returns the one-line summary (also printed)."""
    keys = sys.stdin.isatty() if keys is None else keys
    reader = Keys(console, keys)
    present(sess, Reply(show="screen"), console, keys)
    while True:
        try:
            line = reader.read(sess)
        except (EOFError, KeyboardInterrupt):
            line = None
        if line is None:
            break
        reply = sess.handle(line)
        if reply.quit:
            break
        present(sess, reply, console, keys)
    summary = sess.summary()
    console.print(Text(summary, style="bold"))
    return summary
