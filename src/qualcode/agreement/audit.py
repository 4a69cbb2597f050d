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
from qualcode.agreement.rows import (
    NONE,
    POSITIVE_IS_PER_CATEGORY,
    binary_notes,
    choice,
    confusion,
    conventions,
    count,
    exclusive_notes,
    exclusive_values,
    names,
    row,
    statistics,
    sum_tables,
    two_by_two_counts,
    value_order,
)
from qualcode.agreement.stats import Stat, TwoByTwo
from qualcode.codebook.tree import Code, CodeTree, require_settings
from qualcode.errors import UsageError
from qualcode.store.queries import require_coders

UNITS = ("turn", "sentence", "character", "interview")
LEVELS = ("code", "criterion", "all")
METRICS = agreement.LEVELS
NO_SCOPE = "no turn in scope: no turn was decided by two of the named coders"
FORMAT = "qualcode-audit/1"


@dataclass(frozen=True, slots=True)
class Turn:
    id: int
    interview: str
    idx: int
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass
class Data:
    """The named coders' live codings on the turns in scope, by coder and turn."""

    coders: list[str]
    turns: list[Turn]  # in scope, interview then turn order
    deciders: dict[int, tuple[str, ...]]  # turn id → the named coders who decided it
    # (coder, turn id) → (code, start, end); (code, None, None) when loaded without spans
    codings: dict[tuple[str, int], list[tuple[int | None, int | None, int | None]]]
    decided: dict[str, int]  # coder → turns decided within the interview filter
    by_one: int  # turns decided by exactly one named coder


@dataclass
class Selection:
    """What the audit reports on: codable codes, pooled branches and exclusive parents, each in tree order."""

    codes: list[dict] = field(default_factory=list)
    branches: list[tuple[dict, frozenset[int]]] = field(default_factory=list)
    exclusive: list[tuple[dict, list[tuple[dict, frozenset[int]]]]] = field(default_factory=list)
    code_path: str | None = None  # the --code the audit is restricted to


def audit(db: Database, coders: Sequence[str], *, unit: str = "turn", code: str | None = None,
          level: str = "all", interviews: Sequence[str] | None = None, metric: str = "nominal") -> dict:  # fmt: skip
    """Agreement between CODERS on UNIT, per code, per criterion, per exclusive parent and overall."""
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
    data = load(db, coders, interviews, spans=unit in ("sentence", "character"))
    if unit == "character":
        from qualcode.agreement.chars import CharacterUnit

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
        "unit": unit,
        "metric": metric,
        "level": level,
        "code": selection.code_path,
        "interviews": list(interviews) if interviews else None,
        "scope": scope(data, unit, measure.size, measure.describe()),
        "overall": f"Overall pools the {len(selection.codes)} codes above: every ({unit}, code) pair is one binary "
        "item, so frequent codes and absent codes weigh most.",
        "conventions": conventions(),
        "rows": rows,
    }  # fmt: skip


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
    turns = [
        Turn(*row)
        for row in db.execute(
            f"SELECT id, interview_id, idx, start, end FROM turns t WHERE id IN ({', '.join(map(str, kept))}) "
            "ORDER BY interview_id, idx"
        )
    ] if kept else []  # fmt: skip
    masks = Counter(who.values())
    combos = {mask: tuple(c for c in coders if mask & bit[c]) for mask in masks}
    return Data(
        coders=coders,
        turns=turns,
        deciders={t: combos[who[t]] for t in kept},
        codings=codings,
        decided={c: sum(n for mask, n in masks.items() if mask & bit[c]) for c in coders},
        by_one=sum(n for mask, n in masks.items() if mask.bit_count() == 1),
    )


def scope(data: Data, unit: str, size: int, unit_text: str) -> dict:
    n = len(data.turns)
    interviews = len({t.interview for t in data.turns})
    by_all = sum(len(data.deciders[t.id]) == len(data.coders) for t in data.turns)
    where = f"{count(n, 'turn')} in {count(interviews, 'interview')}"
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
        text += f"; {count(data.by_one, 'turn')} decided by only one coder {verb} treated as missing."
    else:
        text += "; no turn was decided by only one coder."
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


class Units:
    """One unit of analysis: how many units are in scope and how to turn codings into rows."""

    size: int

    def describe(self) -> str:
        raise NotImplementedError

    def binary_row(self, level: str, code: dict, ids: frozenset[int]) -> dict:
        raise NotImplementedError

    def exclusive_row(self, parent: dict, children: list[tuple[dict, frozenset[int]]], metric: str) -> dict:
        raise NotImplementedError

    def overall_row(self, codes: list[frozenset[int]]) -> dict:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------------------------
# Turn, sentence and interview units: each coder's set of codes per unit


UNIT_TEXT = {
    "turn": "Unit: turn ({n}); a code is present on a turn when the coder applied it anywhere in the turn.",
    "sentence": "Unit: sentence ({n} in the turns in scope); a code covers a sentence when one of the coder's "
    "codings of it shares at least one character with the sentence.",
    "interview": "Unit: interview ({n}); a code is present in an interview when the coder applied it to any turn in "
    "scope there (MAXQDA's 'code exists in the document').",
}  # fmt: skip


class SetUnits(Units):
    """Units where each coder's codes form a set per unit: None where the coder did not decide the unit."""

    def __init__(self, db: Database, data: Data, unit: str):
        self.data, self.unit = data, unit
        self._same: dict[frozenset[int], frozenset[int]] = {}
        self.sets: dict[str, list[frozenset[int] | None]] = {c: [] for c in data.coders}
        if unit == "turn":
            for t in data.turns:
                for c in data.coders:
                    self.sets[c].append(self._codes(c, t.id))
        elif unit == "sentence":
            self._sentences(db)
        else:
            self._interviews()
        self.size = len(self.sets[data.coders[0]])
        # Two coders decided every unit in scope (a kept turn is one both decided), so each code's row is a 2×2
        # table, and the pooled overall row is the sum of those tables.
        self.presence = self._presence() if len(data.coders) == 2 and self.size else None

    def describe(self) -> str:
        return UNIT_TEXT[self.unit].format(n=f"{self.size:,}")

    def _codes(
        self, coder: str, turn_id: int, overlaps: tuple[int, int] | None = None
    ) -> frozenset[int] | None:
        if coder not in self.data.deciders[turn_id]:
            return None
        codes = frozenset(
            code
            for code, a, b in self.data.codings[coder, turn_id]
            if code is not None and (overlaps is None or (a < overlaps[1] and b > overlaps[0]))
        )
        return self._same.setdefault(codes, codes)  # one object per distinct set: units share a few dozen sets

    def _sentences(self, db: Database) -> None:
        by_turn: dict[int, list[tuple[int, int]]] = defaultdict(list)
        ids = ", ".join(str(t.id) for t in self.data.turns) or "NULL"
        for turn_id, start, end in db.execute(
            f"SELECT turn_id, start, end FROM sentences WHERE turn_id IN ({ids}) ORDER BY turn_id, idx"
        ):
            by_turn[turn_id].append((start, end))
        for t in self.data.turns:
            for span in by_turn[t.id]:
                for c in self.data.coders:
                    self.sets[c].append(self._codes(c, t.id, span))

    def _interviews(self) -> None:
        turns: dict[str, list[Turn]] = defaultdict(list)
        for t in self.data.turns:
            turns[t.interview].append(t)
        for group in turns.values():
            for c in self.data.coders:
                decided = [s for t in group if (s := self._codes(c, t.id)) is not None]
                self.sets[c].append(frozenset().union(*decided) if decided else None)

    def _presence(self) -> tuple[dict[int, int], list]:
        """Code id → column, and per coder a units × codes boolean array: which codes the coder applied where."""
        import numpy as np

        columns: dict[int, int] = {}
        cells = []
        for c in self.data.coders:
            units, codes = [], []
            for i, s in enumerate(self.sets[c]):
                for code in s or ():
                    units.append(i)
                    codes.append(columns.setdefault(code, len(columns)))
            cells.append((units, codes))
        arrays = []
        for units, codes in cells:
            a = np.zeros((self.size, len(columns)), dtype=bool)
            a[units, codes] = True
            arrays.append(a)
        return columns, arrays

    def table(self, ids: frozenset[int]) -> TwoByTwo:
        """Two coders: the 2×2 table of a code (or a pooled branch) over the units, from the presence arrays.

        The same counts as agreement.two_by_two(self.matrix(ids)), without a Python list per code.
        """
        import numpy as np

        columns, (a, b) = self.presence
        cols = [columns[i] for i in ids if i in columns]
        if not cols:
            return TwoByTwo(neither=self.size)
        x, y = a[:, cols].any(axis=1), b[:, cols].any(axis=1)
        both, a_only, b_only = (int(np.count_nonzero(v)) for v in (x & y, x & ~y, ~x & y))
        return TwoByTwo(both, a_only, b_only, self.size - both - a_only - b_only)

    def matrix(self, ids: frozenset[int]) -> list[list[int | None]]:
        return [
            [None if s is None else int(not ids.isdisjoint(s)) for s in self.sets[c]]
            for c in self.data.coders
        ]

    def _binary(self, matrix: list[list[int | None]]) -> tuple[dict, dict, list[str]]:
        alpha = agreement.krippendorff_alpha(matrix)
        stats = statistics(agreement.percent_agreement(matrix), agreement.positive_agreement(matrix),
                           agreement.cohen_kappa(matrix), alpha, agreement.fleiss_kappa(matrix), "nominal")  # fmt: skip
        return self._value_counts(matrix), stats, self._many_coder_notes(matrix)

    def _binary_table(self, table: TwoByTwo) -> tuple[dict, dict, list[str]]:
        """Two coders: every statistic from the 2×2 table. α and Fleiss' κ come from its coincidences
        (agreement.PairTable, equal to the krippendorff package's α and agreement.fleiss_kappa on the matrix, as the
        tests check), so no code needs a units-long matrix, and the overall row none of codes × units."""
        pairs = table.pairs()
        stats = statistics(table.percent_agreement(), table.positive_agreement(), table.kappa(), pairs.alpha(),
                           pairs.fleiss(), "nominal")  # fmt: skip
        return two_by_two_counts(table), stats, binary_notes(table, self.data.coders, self.unit)

    def _value_counts(self, matrix: Sequence[Sequence], order: list[str] | None = None) -> dict:
        table = agreement.coder_value_counts(matrix)
        values = value_order(table.values, order) if order else table.values
        by_coder = [dict(zip(table.values, counts, strict=True)) for counts in table.counts]
        return {
            "table": "coder_by_value",
            "values": [str(v) for v in values],
            "coders": {
                c: {str(v): mine[v] for v in values}
                for c, mine in zip(self.data.coders, by_coder, strict=True)
            },
            "missing": dict(zip(self.data.coders, table.missing, strict=True)),
        }

    def _many_coder_notes(self, matrix: list[list[int | None]]) -> list[str]:
        users = [c for c, r in zip(self.data.coders, matrix, strict=True) if any(v == 1 for v in r)]
        if not users:
            return ["nobody applied it in scope"] if self.size else []
        return [f"only {users[0]} applied it"] if len(users) == 1 else []

    def binary_row(self, level: str, code: dict, ids: frozenset[int]) -> dict:
        if self.presence is not None:
            return row(level, code, self.size, *self._binary_table(self.table(ids)))
        return row(level, code, self.size, *self._binary(self.matrix(ids)))

    def overall_row(self, codes: list[frozenset[int]]) -> dict:
        if self.presence is not None:
            counts, stats, _ = self._binary_table(sum_tables(self.table(ids) for ids in codes))
            return row("overall", None, self.size * len(codes), counts, stats, [])
        pooled: list[list[int | None]] = [[] for _ in self.data.coders]
        for ids in codes:
            for mine, values in zip(pooled, self.matrix(ids), strict=True):
                mine.extend(values)
        counts, stats, _ = self._binary(pooled)
        return row("overall", None, self.size * len(codes), counts, stats, [])

    def exclusive_row(self, parent: dict, children: list[tuple[dict, frozenset[int]]], metric: str) -> dict:
        nominal: list[list[str | None]] = []
        numeric: list[list[str | None]] = []
        multiple = no_child = 0
        for c in self.data.coders:
            labels, numbers = [], []
            for s in self.sets[c]:
                hit = None if s is None else choice(s, children)
                if hit is not None:
                    multiple += len(hit) > 1
                    no_child += not hit
                labels.append(None if hit is None else "+".join(hit) or NONE)
                numbers.append(hit[0] if hit and len(hit) == 1 else None)
            nominal.append(labels)
            numeric.append(numbers)
        values, reason = exclusive_values(children, metric)
        # Two coders (no missing values): the nominal statistics from the table of value pairs, as for a code.
        pairs = agreement.PairTable(Counter(zip(*nominal, strict=True))) if self.presence is not None else None
        if reason:
            alpha = Stat(None, reason)
        elif pairs is not None and metric == "nominal":
            alpha = pairs.alpha()
        else:
            alpha = agreement.krippendorff_alpha(nominal if metric == "nominal" else numeric, metric, values)  # type: ignore[arg-type]
        if pairs is not None:
            stats = statistics(pairs.percent_agreement(), POSITIVE_IS_PER_CATEGORY, pairs.kappa(), alpha,
                               pairs.fleiss(), metric)  # fmt: skip
        else:
            stats = statistics(
                agreement.percent_agreement(nominal), POSITIVE_IS_PER_CATEGORY, agreement.cohen_kappa(nominal), alpha,
                agreement.fleiss_kappa(nominal), metric,
            )  # fmt: skip
        counts = self._value_counts(nominal, [c.name for c, _ in children])
        if len(self.data.coders) == 2:
            counts["confusion"] = confusion(nominal, counts["values"])
        return row(
            "exclusive",
            parent,
            self.size,
            counts,
            stats,
            exclusive_notes(multiple, no_child, self.unit, metric),
        )
