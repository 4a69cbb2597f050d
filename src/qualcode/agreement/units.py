"""The units agreement is computed on, and how each turns the coders' codings into a row: turns, sentences and
interviews (each coder's set of codes per unit) here; characters in `chars.py`."""

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
    exclusive_notes,
    exclusive_values,
    row,
    statistics,
    sum_tables,
    two_by_two_counts,
    value_order,
)
from qualcode.agreement.stats import Stat, TwoByTwo
from qualcode.codebook.tree import Code

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
    kinds: dict[str, str] = field(default_factory=dict)  # source id → interview, survey or document


class Units:
    """One unit of analysis: how many units are in scope and how to turn codings into rows."""

    size: int

    def describe(self) -> str:
        raise NotImplementedError

    def binary_row(self, level: str, code: Code, ids: frozenset[int]) -> dict:
        raise NotImplementedError

    def exclusive_row(self, parent: Code, children: list[tuple[Code, frozenset[int]]], metric: str) -> dict:
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
}


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

    def _codes(self, coder: str, turn_id: int, overlaps: tuple[int, int] | None = None) -> frozenset[int] | None:
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
        return [[None if s is None else int(not ids.isdisjoint(s)) for s in self.sets[c]] for c in self.data.coders]

    def _binary(self, matrix: list[list[int | None]]) -> tuple[dict, dict, list[str]]:
        alpha = agreement.krippendorff_alpha(matrix)
        stats = statistics(
            agreement.percent_agreement(matrix),
            agreement.positive_agreement(matrix),
            agreement.cohen_kappa(matrix),
            alpha,
            agreement.fleiss_kappa(matrix),
            "nominal",
        )
        return self._value_counts(matrix), stats, self._many_coder_notes(matrix)

    def _binary_table(self, table: TwoByTwo) -> tuple[dict, dict, list[str]]:
        """Two coders: every statistic from the 2×2 table. α and Fleiss' κ come from its coincidences
        (agreement.PairTable, equal to the krippendorff package's α and agreement.fleiss_kappa on the matrix, as the
        tests check), so no code needs a units-long matrix, and the overall row none of codes × units."""
        pairs = table.pairs()
        stats = statistics(
            table.percent_agreement(),
            table.positive_agreement(),
            table.kappa(),
            pairs.alpha(),
            pairs.fleiss(),
            "nominal",
        )
        return two_by_two_counts(table), stats, binary_notes(table, self.data.coders, self.unit)

    def _value_counts(self, matrix: Sequence[Sequence], order: list[str] | None = None) -> dict:
        table = agreement.coder_value_counts(matrix)
        values = value_order(table.values, order) if order else table.values
        by_coder = [dict(zip(table.values, counts, strict=True)) for counts in table.counts]
        return {
            "table": "coder_by_value",
            "values": [str(v) for v in values],
            "coders": {
                c: {str(v): mine[v] for v in values} for c, mine in zip(self.data.coders, by_coder, strict=True)
            },
            "missing": dict(zip(self.data.coders, table.missing, strict=True)),
        }

    def _many_coder_notes(self, matrix: list[list[int | None]]) -> list[str]:
        users = [c for c, r in zip(self.data.coders, matrix, strict=True) if any(v == 1 for v in r)]
        if not users:
            return ["nobody applied it in scope"] if self.size else []
        return [f"only {users[0]} applied it"] if len(users) == 1 else []

    def binary_row(self, level: str, code: Code, ids: frozenset[int]) -> dict:
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

    def exclusive_row(self, parent: Code, children: list[tuple[Code, frozenset[int]]], metric: str) -> dict:
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
            stats = statistics(
                pairs.percent_agreement(), POSITIVE_IS_PER_CATEGORY, pairs.kappa(), alpha, pairs.fleiss(), metric
            )
        else:
            stats = statistics(
                agreement.percent_agreement(nominal),
                POSITIVE_IS_PER_CATEGORY,
                agreement.cohen_kappa(nominal),
                alpha,
                agreement.fleiss_kappa(nominal),
                metric,
            )
        counts = self._value_counts(nominal, [c.name for c, _ in children])
        if len(self.data.coders) == 2:
            counts["confusion"] = confusion(nominal, counts["values"])
        return row(
            "exclusive", parent, self.size, counts, stats, exclusive_notes(multiple, no_child, self.unit, metric)
        )
