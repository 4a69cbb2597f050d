"""Drawing a coding or review session with Rich (the engines are qualcode.coding.session and
qualcode.agreement.review; reading keys and the loop are in qualcode.cli._keys).

A screen degrades by width, never by meaning: every numbered code keeps its number, its check box and its score, a
code's name is shortened with "…", and the evidence moves to a dimmed line of its own before it goes. On a terminal
the screen is also fitted to the window's height, giving up first what helps least and never a checked code
(see `draw`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rich.console import Console, Group, RenderableType
from rich.rule import Rule
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from qualcode.agreement.review import ReviewSession
from qualcode.cli._lists import CLOSE_HELP, PARTS, choices, help_table, line, sentences
from qualcode.coding.session import MAX_NUMBERED, CodingSession, Cursor, Item
from qualcode.output.render import plural, printable

NUMBER, BOX, SCORE = 2, 3, 5  # the columns a code row never gives up
MIN_NAME = 12  # below this a code name says nothing; the row is then wider than the window, rather than blind
MIN_EVIDENCE = 16  # narrower than this, the matched words go to a line of their own


@dataclass
class View:
    """What the screen shows besides the session's own state: the help or the code choices in place of the codes,
    and the message left by the last command."""

    show: str | None = None  # "help" | "choices"
    message: str | None = None
    scroll: int = 0  # the first line of a turn too long for the window that is drawn (↓ ↑ move it)
    blind: bool = False  # set by `draw`: the checked codes do not fit the window, so the session saves none
    keep: bool = False  # the message tells of a change the screen may not show ("unchecked …"): it never gives way


@dataclass
class Fit:
    """How much of the screen is drawn; `draw` gives up one thing at a time until the screen fits its window."""

    evidence: bool = True
    spacers: bool = True
    previous: int = 2  # lines of the turn before
    attributes: bool = True
    keys: bool = True
    memos: str = "whole"  # "whole", "line" (a line each) or "none" (a line says how many are hidden)
    message: str = "whole"  # the last command's message: "whole", "line" (cut with "…") or "none"
    lists: bool = True  # the help's descriptions and the choices' names whole, or on one line each
    hints: bool = True  # "nothing suggested: …" above codes that were not suggested
    compare: bool = True  # while editing a review: each coder's codes as a table, or a line per coder
    unnumbered: bool = True
    body: int | None = None  # lines of the turn itself (None: all)
    unchecked: int | None = None  # unchecked code rows drawn (None: all); a checked row is always drawn
    # The lines saying what is hidden (the turn, unchecked codes, memos): "each" its own, "one" for all, or "none".
    notices: str = "each"
    hidden: list[str] = field(default_factory=list)  # what is hidden, told on one line: filled as the screen is made


# --- pieces ----------------------------------------------------------------------------------------------------------


def tail(text: str, width: int) -> str:
    """The end of TEXT in WIDTH characters at most, starting at a word: "…when the money came late."."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    cut = flat[-(width - 1) :]
    if flat[-width] != " " and " " in cut:
        cut = cut[cut.index(" ") + 1 :]  # the first word was cut: start at the next one
    return "…" + cut.lstrip()


def name(sess: Cursor, item: Item) -> Text:
    return Text.assemble(("■ ", sess.colours[item.code.id] or ""), item.code.path)


def score(sess: Cursor, item: Item) -> Text:
    s = item.suggestion
    if s:
        return Text(f"{s.score:.2f}")
    if item.applied:
        return Text("yours", style="dim")
    if item.offered and item.code.id not in sess.checked:
        return Text("·", style="dim")
    return Text("added", style="dim")


def evidence(item: Item) -> str:
    return ", ".join(f"“{w}”" for w in item.suggestion.words[:4]) if item.suggestion else ""


def checklist(
    sess: CodingSession | ReviewSession, width: int, *, detail: bool = True, fit: Fit = Fit()
) -> RenderableType:
    """The numbered codes: number, check box, name, score always; the source and the matched words where there is
    room, the words on a dimmed line of their own where there is not (or not at all, when FIT says so). Rows give
    way only unchecked, from the last: enter accepts what is checked, so a checked code is never out of sight."""
    shown: list[tuple[int, Item]] = []  # each with its number: a digit toggles by place in the whole list
    left = len(sess.items) if fit.unchecked is None else fit.unchecked  # unchecked rows still to draw
    for n, item in enumerate(sess.items, 1):
        if item.code.id in sess.checked:
            shown.append((n, item))
        elif left and (fit.unnumbered or n <= MAX_NUMBERED):
            shown.append((n, item))
            left -= 1
    items = [item for _, item in shown]
    names = [name(sess, i) for i in items]
    fixed = NUMBER + 1 + BOX + 1 + (SCORE + 1 if detail else 0)
    name_w = max(MIN_NAME, min(max((n.cell_len for n in names), default=0), width - fixed))
    rest = width - fixed - name_w
    sources = [i.suggestion.source for i in items if i.suggestion] if detail else []
    words = [evidence(i) for i in items] if detail and fit.evidence else []
    source_w = max(map(len, sources), default=0)
    with_source = bool(source_w) and rest >= source_w + 1 + MIN_EVIDENCE + 1
    if with_source:
        rest -= source_w + 1
    words_column = any(words) and rest - 1 >= MIN_EVIDENCE
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=NUMBER, justify="right", no_wrap=True)
    grid.add_column(width=BOX, no_wrap=True)
    grid.add_column(width=name_w, no_wrap=True, overflow="ellipsis")
    if detail:
        grid.add_column(width=SCORE, no_wrap=True)
    if with_source:
        grid.add_column(width=source_w, no_wrap=True)
    if words_column:
        grid.add_column(width=rest - 1, no_wrap=True, overflow="ellipsis")
    for k, ((n, item), label) in enumerate(zip(shown, names, strict=True)):
        checked = item.code.id in sess.checked
        row = [
            Text(str(n) if n <= MAX_NUMBERED else ""),
            Text("[✓]" if checked else "[ ]", style="green bold" if checked else ""),
            label,
        ]
        if detail:
            row.append(score(sess, item))
        if with_source:
            row.append(Text(item.suggestion.source if item.suggestion else "", style="dim"))
        if words_column:
            row.append(Text(words[k], style="dim"))
        grid.add_row(*row)
        if words and words[k] and not words_column:
            grid.add_row("", "", Text("  " + words[k], style="dim"))
    hidden = len(sess.items) - len(items)
    if not hidden:
        return grid
    if not sess.checked:
        # With nothing checked, enter records "no code": that decision is on the screen only if the screen says
        # nothing among the codes offered is checked. This line is the decision, so it never gives way (it is
        # not merged with the other notices); a window too small for it is too small (see `draw`).
        said = f"  nothing checked ({len(sess.items)} codes offered, {hidden} hidden)"
        return Group(grid, Text(said, style="bold yellow"))
    if fit.unchecked is not None and fit.notices != "each":
        fit.hidden.append(plural(hidden, "unchecked code"))
        return grid
    # A line of its own, wrapped: in a narrow window the name column would cut it.
    if fit.unchecked is None:
        return Group(grid, Text(f"      + {hidden} more (c finds any code)", style="dim"))
    return Group(grid, Text(f"  + {plural(hidden, 'unchecked code')} hidden: enlarge the window", style="dim"))


def context(sess: Cursor, width: int, fit: Fit) -> tuple[list[RenderableType], RenderableType]:
    """The lines above the turn (interview, the turn before, the speaker) and the turn itself, its evidence
    highlighted (or its sentences numbered while the coder picks some with k)."""
    ctx = sess.ctx
    t, iv, sp = ctx.turn, ctx.interview, ctx.speaker
    where = f" · turn {t.idx} · {plural(ctx.turns_in_interview, 'turn')}"
    where += "  ✓ decided" if t.id in sess.decided else ""
    # In a narrow window the interview's title and date give way, never the turn or whether it is decided.
    title = printable(" · ".join(x for x in (iv["title"], iv["date"]) if x))
    room = width - 2 - len(iv["id"]) - len(where) - 3
    if title and room < len(title):
        title = title[: room - 1] + "…" if room > 1 else ""
    title = f"{iv['id']} · {title}" if title else iv["id"]
    head: list[RenderableType] = [Rule(Text(f"{title}{where}", style="bold"), align="left")]
    if iv["attributes"] and fit.attributes:
        head.append(line(" · ".join(f"{k}: {v}" for k, v in iv["attributes"].items()), "dim"))
    if fit.previous:
        for label, text in ctx.previous[-fit.previous :] if fit.previous < 2 else ctx.previous:
            room = fit.previous * width - len(label) - 2
            head.append(Text(printable(f"{label}: {tail(text, max(room, 20))}"), style="dim italic"))
    who = [x for x in (sp["participant"], sp["gender"], sp["stakeholder_group"]) if x]
    role = f" ({' · '.join(who)})" if sp["participant"] else " (interviewer)"
    head.append(line(Text.assemble((sp["label"], "bold"), (role, "cyan"))))
    if sess.pending == "k":
        return head, sentences(sess)
    spans = getattr(sess, "spans", None)
    body = Text(printable(t.text), style="dim" if spans else "")  # a transcript's ESC codes shown, not obeyed
    for a, b in spans or ():
        body.stylize("not dim", a - t.start, b - t.start)
    if isinstance(sess, CodingSession):
        for item in sess.items:
            if item.suggestion:
                for a, b in item.suggestion.evidence:
                    body.stylize(f"bold underline {sess.colours[item.code.id] or ''}".strip(), a, b)
    return head, body


def coding_codes(sess: CodingSession, width: int, fit: Fit) -> list[RenderableType]:
    out: list[RenderableType] = []
    if sess.items and all(i.offered for i in sess.items) and fit.hints:
        out.append(Text("  nothing suggested: 1-9 check a likely code, c finds any other", style="dim"))
    if sess.items:
        out.append(checklist(sess, width, fit=fit))
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
        out += notes([Text(printable(f"  memo: {sess.memo}"), style="yellow")], fit)
    return out


def notes(memos: list[Text], fit: Fit) -> list[RenderableType]:
    """The memos as FIT has them: whole, a line each, or one line saying how many are hidden."""
    if fit.memos == "none" and fit.notices != "each":
        fit.hidden += [plural(len(memos), "memo")] if memos else []
        return []
    if fit.memos == "none":
        return [Text(f"  {plural(len(memos), 'memo')} hidden: enlarge the window", style="dim")] if memos else []
    return [m if fit.memos == "whole" else line(m) for m in memos]


def review_codes(sess: ReviewSession, width: int, fit: Fit) -> list[RenderableType]:
    """Each code either coder gave, with a mark per coder and one for the consensus: the marks always, the name
    shortened with "…" to make room. While the consensus is edited in a short window (not FIT.compare), each coder's
    codes are a line of names above the numbered codes, and their memos give way."""
    if sess.editing and not fit.compare:
        short: list[RenderableType] = []
        for n, who in enumerate((sess.a, sess.b), 1):
            codes = ", ".join(i.code.path for i in sess.items if i.code.id in sess.codes_of(who)) or "no code"
            short.append(line(Text.assemble((f"{n} {who}: ", "bold"), codes)))
        short += [Text("editing the consensus:", style="bold"), checklist(sess, width, detail=False, fit=fit)]
        if sess.memo:
            short += notes([line(Text(printable(f"  memo: {sess.memo}"), style="yellow"))], fit)
        return short
    heads = [f"1 {sess.a}", f"2 {sess.b}", "consensus" if sess.previous else ""]
    marks = sum(len(h) + 1 for h in heads)
    names = [name(sess, i) for i in sess.items]
    name_w = max(MIN_NAME, min(max((n.cell_len for n in names), default=0), width - marks))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=name_w, no_wrap=True, overflow="ellipsis")
    for h in heads:
        grid.add_column(width=max(len(h), 1), no_wrap=True, overflow="ellipsis")
    grid.add_row(Text(""), *(Text(h, style="bold") for h in heads))
    mine = {c[0] for c in sess.previous if c[0] is not None}
    for item, label in zip(sess.items, names, strict=True):
        cid = item.code.id
        row: list[RenderableType] = [label]
        for who in (sess.a, sess.b):
            has = cid in sess.codes_of(who)
            row.append(Text("✓" if has else "·", style="green" if has else "dim"))
        row.append(Text("✓" if cid in mine else ("·" if sess.previous else "")))
        grid.add_row(*row)
    out: list[RenderableType] = [grid]
    memos: list[Text] = []  # each in its place, unless all are hidden: then one line at the end
    for who in (sess.a, sess.b):
        if not sess.codes_of(who):
            out.append(Text(f"  {who}: no code", style="dim"))
        elif part := sess.parts_of(who):
            out.append(Text(f"  {who} coded only {part}", style="yellow"))
        said = [Text(printable(f"  {who}'s memo: {memo}"), style="italic") for memo in sess.memos_of(who)]
        memos += said
        out += notes(said, fit) if fit.memos != "none" else []
    if sess.editing:
        out += [Text("editing the consensus:", style="bold"), checklist(sess, width, detail=False, fit=fit)]
    if sess.memo:
        mine = Text(printable(f"  memo: {sess.memo}"), style="yellow")
        memos.append(mine)
        out += [mine] if fit.memos != "none" else []
    return out + (notes(memos, fit) if fit.memos == "none" else [])


def codes_part(sess: Cursor, width: int, fit: Fit = Fit()) -> list[RenderableType]:
    return review_codes(sess, width, fit) if isinstance(sess, ReviewSession) else coding_codes(sess, width, fit)


def status(sess: Cursor, width: int) -> Text:
    """The session's counts, whole in WIDTH: the words give way first (the counts of zero, then "suggestions"),
    then the parts go to lines of their own, and the counts of a part too long for a line go on the next one whole;
    a count is never cut, and no line starts or ends with a separator."""
    note = getattr(sess, "precheck_note", None)  # "pre-checked 2 of 5 suggestions"
    done = [(o, sess.counts[o]) for o in sess.outcomes]
    progress = f"{len(sess.decided)} of {len(sess.turn_ids)} decided, {sess.remaining} to go"
    made = [f"{o} {n}" for o, n in done if n] or ["nothing yet"]
    wordings = [
        [[progress], [note], [f"{o} {n}" for o, n in done]],
        [[progress], [note], made],
        [[progress], [note and re.sub(r" suggestions?$", "", note)], made],
    ]
    for parts in wordings:
        parts[2] = ["session: " + parts[2][0], *parts[2][1:]]
        if len(" │ ".join(" · ".join(p) for p in parts if p[0])) <= width:
            break
    lines: list[str] = []
    for part in (p for p in parts if p[0]):
        for k, unit in enumerate(part):
            gap = " · " if k else " │ "
            if lines and len(lines[-1]) + len(gap) + len(unit) <= width:
                lines[-1] += gap + unit
            else:
                lines.append(unit)
    return Text("\n".join(lines), style="bold")


def footer(sess: Cursor, fit: Fit = Fit(), width: int = 80, *, in_help: bool = False) -> list[RenderableType]:
    out: list[RenderableType] = [status(sess, width)]
    if in_help:  # any key closes the help, q included: the keys of the screen below would mislead
        return [*out, Text(CLOSE_HELP, style="dim")]
    if not fit.keys:
        return [*out, Text("? shows the keys · q quits", style="dim")]
    if isinstance(sess, ReviewSession):
        keys = f"1 {sess.a}'s · 2 {sess.b}'s · b both · 0 neither · e edit · s skip · n/p · m memo · u undo · ? · q"
        if sess.editing:
            keys = "1-9 toggle · c code · enter save · e cancel edit · ? · q"
    else:
        keys = "enter accept · 1-9 toggle · c code · x no code · s skip · n/p · m memo · k sentences · u undo · ? · q"
    return [*out, Text(keys, style="dim")]


# --- the whole screen ------------------------------------------------------------------------------------------------


class Lines:
    """Lines already rendered, drawn as they are: the first lines of a turn too long for the window."""

    def __init__(self, lines: list[list[Segment]]):
        self.lines = lines

    def __rich_console__(self, console, options):
        for segments in self.lines:
            yield from segments
            yield Segment.line()


def end_of_scope(sess: Cursor, width: int) -> list[RenderableType]:
    open_, n = sess.remaining, len(sess.turn_ids)
    text = (
        f"End of the scope: {'the one turn' if n == 1 else f'all {n} turns'} decided."
        if not open_
        else f"End of the scope: {plural(open_, 'turn')} still undecided (skipped or passed over); run the command "
        "again to revisit them."
    )
    return [
        Rule(),
        Text(text, style="bold"),
        Text("p goes back · u undoes · q quits", style="dim"),
        status(sess, width),
    ]


def parts(sess: Cursor, console: Console, view: View, fit: Fit) -> list[RenderableType]:
    width = console.width
    fit.hidden = []
    if sess.ctx is None:
        out = end_of_scope(sess, width)
        return [*out, Text(view.message, style="yellow")] if view.message else out
    head, body = context(sess, width, fit)
    if fit.body is not None and sess.pending == "k":
        body = sentences(sess, width)
    if fit.body is not None:
        rendered = console.render_lines(body, console.options.update_width(width), pad=False)
        room = max(fit.body - 1, 1)  # a line goes to saying where in the turn the window is
        if fit.body == 0:  # the checked codes need the turn's last line, and the speaker's: one line says so
            head = head[:-1]
            body = Text(f"… turn hidden ({plural(len(rendered), 'line')}): enlarge the window", style="dim")
            if fit.notices != "each":
                fit.hidden.append("the turn")
                body = Group()
            if view.show:  # the help or a list of choices: the turn is back as soon as it closes
                body = Group()
        elif len(rendered) > fit.body:
            top = view.scroll = min(view.scroll, len(rendered) - room)  # kept in range: ↑ acts at once after the end
            shown = rendered[top : top + room]
            body = Group(
                Lines(shown),
                Text(f"… lines {top + 1}–{top + len(shown)} of the turn's {len(rendered)}: ↓ ↑ scroll", style="dim"),
            )
    if view.show == "help":
        middle: list[RenderableType] = [help_table(sess, whole=fit.lists)]
    else:
        middle = (
            [choices(sess, None if fit.lists else width)] if view.show == "choices" else codes_part(sess, width, fit)
        )
    if fit.body is not None and sess.pending == "k" and isinstance(sess, CodingSession):
        # Choosing sentences in a short window: the numbers asked for come first; the checked codes, which are what
        # the chosen sentences will get, stay named on one line.
        names = [item.code.path for item in sess.items if item.code.id in sess.checked]
        middle = [line(f"checked: {', '.join(names) if names else 'nothing (x records no code)'}", "dim")]
    if fit.notices == "one" and fit.hidden:  # in the turn's place
        told = ", ".join(fit.hidden[:-1]) + " and " + fit.hidden[-1] if len(fit.hidden) > 1 else fit.hidden[0]
        said = f"… {told} hidden: enlarge the window"
        body = line(said if len(said) <= width else f"… {told} hidden", "dim")
    gap = [Text("")] if fit.spacers else []
    said = Text(view.message or "", style="yellow")
    whole = fit.message == "whole" or view.show is not None  # a list of choices or the help: what it says matters
    message = [] if not view.message or fit.message == "none" else [said if whole else line(said)]
    return [*head, body, *gap, *middle, *gap, *message, *footer(sess, fit, width, in_help=view.show == "help")]


def crop(console: Console, screen: list[RenderableType], bottom: int, height: int) -> list[RenderableType]:
    """SCREEN in HEIGHT lines when nothing else is left to give up: its top (the header first) and its BOTTOM
    renderables (the message and the footer) kept, the lines just above them cut, with a line saying so."""
    options = console.options
    top = [ln for r in screen[:-bottom] for ln in console.render_lines(r, options, pad=False)]
    room = height - height_of(console, screen[-bottom:]) - 1
    if room < 1:  # a window too small even for the footer: the header first, then the footer's last lines
        bottom_lines = [ln for r in screen[-bottom:] for ln in console.render_lines(r, options, pad=False)]
        return [Lines(top[:1] + bottom_lines[len(bottom_lines) - height + 1 :] if height > 1 else top[:1])]
    more = Text(f"… {plural(len(top) - room, 'more line')}: a taller window shows them", style="dim")
    return [Lines(top[:room]), line(more), *screen[-bottom:]]


def height_of(console: Console, renderables: list[RenderableType]) -> int:
    options = console.options
    return sum(len(console.render_lines(r, options, pad=False)) for r in renderables)


def cut_body(sess: Cursor, console: Console, view: View, fit: Fit, height: int) -> list[RenderableType]:
    """The screen with as much of the turn (FIT.body) as leaves room for the rest in HEIGHT lines, one line at least."""
    screen = parts(sess, console, view, fit)
    over = height_of(console, screen) - height
    if over > 0:
        head, body = context(sess, console.width, fit)
        fit.body = max(height_of(console, [body]) - over, 1)
        screen = parts(sess, console, view, fit)
        slack = height - height_of(console, screen)
        if slack > 0:  # choosing sentences, the codes gave way to one line: the sentences take the room
            fit.body += slack
            screen = parts(sess, console, view, fit)
    return screen


def draw(sess: Cursor, console: Console, view: View, height: int | None = None) -> Group:
    """The screen for SESS; with HEIGHT, made to fit that many lines by giving up, in this order: the matched words
    under each code, the blank lines, the second line of the turn before, the interview's attributes, the list of keys,
    the turn before, all but a line of each memo and of the last command's message, the "nothing suggested" hint, the
    table of each coder's codes while a review is edited, unchecked codes past the ninth, the turn down to its first
    line, the message (but under a list of choices, or one saying what c unchecked); then in the help or the choices the
    turn (they are read now), and all but a line of each entry; with the codes, the memos (a line says how many), the
    unchecked code rows from the last, and the turn's last line with its speaker's (a line then says the turn is
    hidden), then the lines saying what is hidden (merged into one, then gone). A checked code's row, its number and
    check box, and the footer stay, and so, with none checked while some codes are hidden, does the line "nothing
    checked (N codes offered, M hidden)", since enter then saves "no code": when the checked codes (or a review's marked
    ones, or that line) cannot all be shown, the screen says the window is too small instead and sets VIEW.blind, so
    that the session saves nothing (not even "no code") until it fits. What still does not fit is cut above the message
    and the footer with a "… N more lines" line: the header is always the first line and the footer the last."""
    fit = Fit()
    view.blind = False
    screen = parts(sess, console, view, fit)
    if height is None or sess.ctx is None:
        return Group(*screen)
    steps = [
        ("evidence", False),
        ("spacers", False),
        ("previous", 1),
        ("attributes", False),
        ("keys", False),
        ("previous", 0),
        ("memos", "line"),
        ("message", "line"),
        ("hints", False),
        ("compare", False),
        ("unnumbered", False),
    ]
    for attr, value in steps:
        if height_of(console, screen) <= height:
            return Group(*screen)
        setattr(fit, attr, value)
        screen = parts(sess, console, view, fit)
    screen = cut_body(sess, console, view, fit, height)
    codes = view.show is None and sess.pending != "k"  # the code rows are on this screen
    if (codes or view.show == "help") and view.message and not view.keep and height_of(console, screen) > height:
        # The message tells of the command before: it goes before a code row or the turn's last line does.
        fit.message, fit.body = "none", None
        screen = cut_body(sess, console, view, fit, height)
    if view.show and height_of(console, screen) > height:
        # The help or the choices take the turn's room: they are read now, the turn is back when they close.
        fit.body = 0
        screen = parts(sess, console, view, fit)
    if view.show and height_of(console, screen) > height:
        fit.lists = False  # then a line each: a description or a name cut loses its meaning, so last
        screen = parts(sess, console, view, fit)
    if codes and height_of(console, screen) > height:
        fit.memos, fit.body = "none", None  # notes, then codes: a line says how many memos are hidden
        screen = cut_body(sess, console, view, fit, height)
    if codes and not (isinstance(sess, ReviewSession) and not sess.editing):
        # Each unchecked row given up lets the turn take back the line it held.
        spare = sum(1 for i in sess.items[:MAX_NUMBERED] if i.code.id not in sess.checked)
        for keep in range(spare - 1, -1, -1):
            if height_of(console, screen) <= height:
                break
            fit.unchecked, fit.body = keep, None
            screen = cut_body(sess, console, view, fit, height)
    if codes and height_of(console, screen) > height:
        fit.body = 0
        screen = parts(sess, console, view, fit)
    for notices in ("one", "none"):  # the lines saying what is hidden go before a checked row would
        if codes and height_of(console, screen) > height:
            fit.notices = notices
            screen = parts(sess, console, view, fit)
    if height_of(console, screen) > height and codes:
        # Cut, the screen would show a decision in part: whatever a key would save (codes, or "no code") is unseen.
        view.blind = True
        screen = too_small(sess, console, view, fit, height)
    if height_of(console, screen) > height:
        said = bool(view.message) and fit.message != "none"
        bottom = len(screen) - 1 if view.blind else len(footer(sess, fit)) + said
        screen = crop(console, screen, bottom, height)
    return Group(*screen)


TOO_SMALL = "The window is too small to show the {}: enlarge it. Until they fit, nothing can be saved."


def too_small(sess: Cursor, console: Console, view: View, fit: Fit, height: int) -> list[RenderableType]:
    """The header, why nothing else is drawn, the last command's message, and the footer: codes cut off are never
    shown as a screen. To fit HEIGHT the message goes to a line (cut with "…"), then why, then the message goes."""
    head, _ = context(sess, console.width, fit)
    what = "checked codes" if sess.checked else "codes"
    if isinstance(sess, ReviewSession) and not sess.editing:
        what = "codes the coders gave"
    why = Text(TOO_SMALL.format(what), style="bold yellow")
    message = [line(view.message, "yellow")] if view.message else []
    screen = [head[0], why, *message, *footer(sess, fit, console.width)]
    if height_of(console, screen) > height:
        screen = [head[0], line(why), *message, *footer(sess, fit, console.width)]
    if height_of(console, screen) > height and message and not view.keep:
        screen = [head[0], line(why), *footer(sess, fit, console.width)]
    if height_of(console, screen) > height:  # why before the counts: the keys that still work stay last
        screen = [head[0], line(why), *(message if view.keep else []), footer(sess, fit, console.width)[-1]]
    return screen


def present(sess: Cursor, show: str | None, message: str | None, console: Console) -> None:
    """Line mode (stdin is not a terminal): print what the command asked to show, as it goes."""
    if show == "screen":
        console.print(draw(sess, console, View()))
    elif show and sess.ctx is not None:
        part = codes_part(sess, console.width) if show == "codes" else PARTS[show](sess)
        console.print(Group(*part) if isinstance(part, list) else part)  # one note a line, never side by side
    if message:
        console.print(Text(message, style="yellow"))
