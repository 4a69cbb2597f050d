"""The agreement audit: how consistently named coders applied each code, criterion and exclusive scale.

`audit(db, coders, ...)` returns one JSON-ready dict (its shape is documented in docs/audit.md) and never prints.

Definitions, chosen once here so every output states the same thing:

- Scope. A coder has decided a turn when they hold a live coding on it, with a code or "decided: no code". Only
  turns decided by at least two of the named coders are compared. With two coders that is the turns both decided; a
  turn only one of them decided is a missing value, left out, not a disagreement. With more coders a coder who did
  not decide a kept turn is a missing value in α and percent agreement, and Fleiss' κ, which needs the same number of
  ratings per unit, is undefined unless every kept turn was decided by every coder.
- Units. turn: the code is present when the coder applied it anywhere in the turn. sentence: a code covers a
  sentence when one of the coder's codings of it shares at least one character with the sentence (any overlap: a
  phrase coded inside a long sentence must not vanish from the audit; use the character unit when the extent of
  spans matters). character: the characters of the turns in scope (speaker labels and the blank lines between turns
  cannot be coded and are not counted), as NVivo's coding comparison, two coders only. interview: the code is present
  when the coder applied it to any turn in scope in the interview (MAXQDA's "code exists in the document").
- A criterion is a top-level branch of the codebook, pooled: present when any code in its subtree is applied.
- Overall pools the per-code rows: every (unit, code) pair is one binary item.
- An exclusive parent is also one multi-category variable whose values are its children (a child's own subtree
  counts as the child). For nominal statistics a unit with none of them has the value "(none)"; for ordinal and
  interval α, which need a number from each child's `value:`, such units are missing, as are units where a coder
  applied more than one child (nominal: the value "A+B", a category of its own).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlite_utils import Database

from qualcode.agreement import stats as agreement
from qualcode.agreement.chars import CharacterUnit
from qualcode.agreement.rows import conventions, count, names
from qualcode.agreement.units import Data, SetUnits, Turn, Units
from qualcode.codebook.tree import Code, CodeTree, require_settings
from qualcode.errors import UsageError
from qualcode.output.render import plural
from qualcode.store.queries import SOURCE_KINDS, require_coders, source_kind
from qualcode.store.queries import left_out as codings_left_out

UNITS = ("turn", "sentence", "character", "interview")
LEVELS = ("code", "criterion", "all")
METRICS = agreement.LEVELS
NO_SCOPE = "no turn in scope: no turn was decided by two of the named coders"
FORMAT = "qualcode-audit/1"


@dataclass
class Selection:
    """What the audit reports on: codable codes, pooled branches and exclusive parents, each in tree order."""

    codes: list[Code] = field(default_factory=list)
    branches: list[tuple[Code, frozenset[int]]] = field(default_factory=list)
    exclusive: list[tuple[Code, list[tuple[Code, frozenset[int]]]]] = field(default_factory=list)
    code_path: str | None = None  # the --code the audit is restricted to


def audit(
    db: Database,
    coders: Sequence[str],
    *,
    unit: str = "turn",
    code: str | None = None,
    level: str = "all",
    interviews: Sequence[str] | None = None,
    metric: str = "nominal",
    source: str | None = None,
) -> dict:
    """Agreement between CODERS on UNIT, per code, per criterion, per exclusive parent and overall; within
    INTERVIEWS, or within one kind of SOURCE (interviews, survey answers, documents)."""
    coders = _check_coders(db, coders)
    if unit not in UNITS:
        raise UsageError(f"unknown unit {unit!r}; choose one of {', '.join(UNITS)}")
    if level not in LEVELS:
        raise UsageError(f"unknown level {level!r}; choose one of {', '.join(LEVELS)}")
    if metric not in METRICS:
        raise UsageError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    if unit == "character" and len(coders) != 2:
        raise UsageError(
            f"--unit character compares exactly two coders, as NVivo's coding comparison does (got {len(coders)}); "
            "use --unit sentence or turn for more coders"
        )
    require_settings(db)
    selection = select(db, code)
    interviews = _check_interviews(db, interviews)
    if source is not None:
        kind = source_kind(source)
        of_kind = [r[0] for r in db.execute("SELECT id FROM interviews WHERE kind = ? ORDER BY id", [kind])]
        interviews = [i for i in interviews if i in of_kind] if interviews else of_kind
        if not interviews:
            raise UsageError(f"no {kind} sources" + (" among those named" if of_kind else " in this project"))
    data = load(db, coders, interviews, spans=unit in ("sentence", "character"))
    if unit == "character":
        measure: Units = CharacterUnit(db, data, by_interview=bool(interviews))
    else:
        measure = SetUnits(db, data, unit)
    rows: list[dict] = []
    if level in ("code", "all"):
        rows += [measure.binary_row("code", c, frozenset([c.id])) for c in selection.codes]
        rows += [measure.exclusive_row(parent, children, metric) for parent, children in selection.exclusive]
    if level in ("criterion", "all"):
        rows += [measure.binary_row("criterion", c, ids) for c, ids in selection.branches]
    if level == "all":
        rows.append(measure.overall_row([frozenset([c.id]) for c in selection.codes]))
    if not data.turns:
        # The statistics would each give their own 0/0 reason; the one cause is that nothing is in scope.
        for r in rows:
            for stat in r["statistics"].values():
                stat.update(value=None, reason=NO_SCOPE, band=None)
    return {
        "format": FORMAT,
        "coders": coders,
        "left_out": left_out(db, coders, interviews),
        "unit": unit,
        "metric": metric,
        "level": level,
        "code": selection.code_path,
        "interviews": list(interviews) if interviews else None,
        "scope": scope(data, unit, measure.size, measure.describe()),
        "overall": f"Overall pools the {plural(len(selection.codes), 'code')} above: every ({unit}, code) pair is "
        "one binary item, so frequent codes and absent codes weigh most.",
        "conventions": conventions(),
        "rows": rows,
    }


# ---------------------------------------------------------------------------------------------------------------
# Arguments


def _check_coders(db: Database, coders: Sequence[str]) -> list[str]:
    names = [c.strip() for c in coders if c and c.strip()]
    duplicates = sorted({c for c in names if names.count(c) > 1})
    if duplicates:
        raise UsageError(f"coder {duplicates[0]!r} is named twice in --coders")
    if len(names) < 2:
        raise UsageError("name at least two coders to compare: --coders A,B")
    require_coders(db, names)
    return names


def _check_interviews(db: Database, interviews: Sequence[str] | None) -> list[str]:
    from qualcode.ingest.interviews import require

    ids = list(dict.fromkeys(i.strip() for i in interviews or [] if i.strip()))
    for iid in ids:
        require(db, iid)
    return ids


def select(db: Database, code: str | None) -> Selection:
    """The codes, branches and exclusive parents to report, for the whole codebook or one code's subtree."""
    tree = CodeTree.load(db)

    def subtree(c: Code) -> frozenset[int]:
        return frozenset(tree.subtree_ids(c.id))

    if code is None:
        chosen, roots = list(tree), tree.roots()
    else:
        root = tree.resolve(code)
        ids = subtree(root)
        chosen = [c for c in tree if c.id in ids]
        roots = [root] if tree.children(root.id) else []
    return Selection(
        codes=[c for c in chosen if c.codable],
        branches=[(c, subtree(c)) for c in roots],
        exclusive=[(c, [(k, subtree(k)) for k in tree.children(c.id)]) for c in chosen if c.exclusive],
        code_path=None if code is None else root.path,
    )


# ---------------------------------------------------------------------------------------------------------------
# Loading and scope


def load(db: Database, coders: list[str], interviews: list[str], *, spans: bool = True) -> Data:
    """The named coders' live codings, and the turns two or more of them decided.

    With spans=False (the turn and interview units, which need only which codes a coder applied where) each coding
    is (code, None, None), one shared tuple per code. Who decided a turn is kept as a bit mask per turn, and each
    combination of coders as one shared tuple. At six thousand interviews the offsets, a tuple per coding, a set per
    turn and a list per kept turn were half of the audit's memory.
    """
    where, params = "", list(coders)
    if interviews:
        where = f" AND t.interview_id IN ({', '.join('?' * len(interviews))})"
        params += interviews
    marks = ", ".join("?" * len(coders))
    bit = {c: 1 << i for i, c in enumerate(coders)}
    codings: dict[tuple[str, int], list] = defaultdict(list)
    who: dict[int, int] = {}  # turn id → bit mask of the coders who decided it
    columns = "c.code_id, c.start, c.end" if spans else "c.code_id, NULL, NULL"
    same: dict[int | None, tuple[int | None, None, None]] = {}
    for coder, turn_id, code_id, start, end in db.execute(
        f"""SELECT c.coder, c.turn_id, {columns} FROM live_codings c JOIN turns t ON t.id = c.turn_id
            WHERE c.coder IN ({marks}){where}""",
        params,
    ):
        who[turn_id] = who.get(turn_id, 0) | bit[coder]
        coding = (code_id, start, end) if spans else same.setdefault(code_id, (code_id, None, None))
        codings[coder, turn_id].append(coding)
    kept = {t for t, mask in who.items() if mask.bit_count() >= 2}
    turns = (
        [
            Turn(*row)
            for row in db.execute(
                f"SELECT id, interview_id, idx, start, end FROM turns t WHERE id IN ({', '.join(map(str, kept))}) "
                "ORDER BY interview_id, idx"
            )
        ]
        if kept
        else []
    )
    masks = Counter(who.values())
    combos = {mask: tuple(c for c in coders if mask & bit[c]) for mask in masks}
    return Data(
        coders=coders,
        turns=turns,
        deciders={t: combos[who[t]] for t in kept},
        codings=codings,
        decided={c: sum(n for mask, n in masks.items() if mask & bit[c]) for c in coders},
        by_one=sum(n for mask, n in masks.items() if mask.bit_count() == 1),
        kinds=dict(db.execute("SELECT id, kind FROM interviews").fetchall()),
    )


def left_out(db: Database, coders: Sequence[str], interviews: Sequence[str] | None) -> str | None:
    """What the figures leave out of the coders' codings: orphaned ones (no place in the edited text) and ones whose
    code is gone from the codebook. None when nothing is."""
    orphaned, unknown = codings_left_out(db, list(coders), list(interviews or []))
    parts = [
        f"{count(orphaned, 'orphaned coding')} (no longer anchored in the edited transcripts; see qualcode codings "
        "orphans)"
        if orphaned
        else "",
        f"{count(unknown, 'coding')} whose code is no longer in the codebook (run qualcode check)" if unknown else "",
    ]
    parts = [p for p in parts if p]
    return f"Left out of every figure: {' and '.join(parts)}." if parts else None


def scope(data: Data, unit: str, size: int, unit_text: str) -> dict:
    n = len(data.turns)
    interviews = len({t.interview for t in data.turns})
    by_all = sum(len(data.deciders[t.id]) == len(data.coders) for t in data.turns)
    where = f"{count(n, 'turn')} in {count(interviews, 'interview')}"
    sources = Counter(data.kinds.get(i, "interview") for i in {t.interview for t in data.turns})
    word = "turn"
    if set(sources) - {"interview"}:  # survey answers and document paragraphs are units as turns are
        word = "unit"
        where = f"{count(n, word)} in " + names([count(sources[k], k) for k in SOURCE_KINDS if sources[k]])
    if len(data.coders) == 2:
        text = f"Scope: {where} decided by {names(data.coders)}"
    else:
        text = (
            f"Scope: {where} decided by at least two of {names(data.coders)} ({by_all:,} by all "
            f"{len(data.coders)}); where a coder did not decide a kept turn, that coder's value is missing, "
            "not a disagreement"
        )
    if data.by_one:
        verb = "is" if data.by_one == 1 else "are"
        text += f"; {count(data.by_one, word)} decided by only one coder {verb} treated as missing."
    else:
        text += f"; no {word} was decided by only one coder."
    return {
        "text": text,
        "unit_text": unit_text,
        "unit": unit,
        "units": size,
        "turns": n,
        "interviews": interviews,
        "turns_by_all": by_all,
        "turns_by_one": data.by_one,
        "decided": data.decided,
    }
