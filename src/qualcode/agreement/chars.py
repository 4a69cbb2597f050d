"""The character unit of the audit: NVivo's coding comparison, for two coders.

The characters compared are those of the turns in scope. Speaker labels and the blank lines between turns are part of
the stored interview text but no coding can cover them, so counting them as "coded by neither" would only inflate
agreement. Tables are built per turn with `agreement.char_counts` and added up per interview, then over interviews.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlite_utils import Database

from qualcode.agreement.rows import (
    NONE,
    POSITIVE_IS_PER_CATEGORY,
    binary_notes,
    exclusive_notes,
    exclusive_values,
    pair_counts,
    row,
    statistics,
    sum_tables,
    two_by_two_counts,
    value_order,
)
from qualcode.agreement.stats import PairTable, Stat, TwoByTwo, char_counts
from qualcode.agreement.units import Data, Turn, Units
from qualcode.codebook.tree import Code

Span = tuple[int, int]


class CharacterUnit(Units):
    def __init__(self, db: Database, data: Data, *, by_interview: bool):
        self.data, self.by_interview = data, by_interview
        self.turns: dict[str, list[Turn]] = defaultdict(list)
        for t in data.turns:
            self.turns[t.interview].append(t)
        self.size = sum(t.length for t in data.turns)
        # Offsets relative to the turn, clipped to it: a coding never reaches outside its turn's text.
        self.spans: dict[tuple[str, int], list[tuple[int, int, int]]] = defaultdict(list)
        for t in data.turns:
            for coder in data.coders:
                for code, a, b in data.codings[coder, t.id]:
                    a, b = max(a - t.start, 0), min(b - t.start, t.length)
                    if code is not None and b > a:
                        self.spans[coder, t.id].append((code, a, b))

    def describe(self) -> str:
        return (
            f"Unit: character ({self.size:,} characters of the turns in scope; speaker labels and the blank lines "
            "between turns are not counted); a character is coded when one of the coder's codings of the code "
            "covers it, as in NVivo's coding comparison."
        )

    def _coded(self, coder: str, turn: Turn, ids: frozenset[int]) -> list[Span]:
        return [(a, b) for code, a, b in self.spans[coder, turn.id] if code in ids]

    def tables(self, ids: frozenset[int]) -> dict[str, TwoByTwo]:
        a, b = self.data.coders
        out = {}
        for interview, turns in self.turns.items():
            table, untouched = TwoByTwo(), 0
            for t in turns:
                spans_a, spans_b = self._coded(a, t, ids), self._coded(b, t, ids)
                if spans_a or spans_b:
                    table += char_counts(t.length, spans_a, spans_b)
                else:
                    untouched += t.length
            out[interview] = table + TwoByTwo(neither=untouched)
        return out

    def _binary(self, level: str, code: Code | None, per_interview: dict[str, TwoByTwo]) -> dict:
        def stats(table: TwoByTwo) -> dict:
            pairs = table.pairs()
            return statistics(
                table.percent_agreement(),
                table.positive_agreement(),
                table.kappa(),
                pairs.alpha(),
                pairs.fleiss(),
                "nominal",
            )

        pooled = sum_tables(per_interview.values())
        notes = binary_notes(pooled, self.data.coders, "character") if level != "overall" else []
        out = row(level, code, pooled.total, two_by_two_counts(pooled), stats(pooled), notes)
        if self.by_interview:
            out["interviews"] = [
                {"interview": iid, "units": t.total, "counts": two_by_two_counts(t), "statistics": stats(t)}
                for iid, t in per_interview.items()
            ]
        return out

    def binary_row(self, level: str, code: Code, ids: frozenset[int]) -> dict:
        return self._binary(level, code, self.tables(ids))

    def overall_row(self, codes: list[frozenset[int]]) -> dict:
        per_code = [self.tables(ids) for ids in codes]
        pooled = {iid: sum_tables(t[iid] for t in per_code) for iid in self.turns}
        return self._binary("overall", None, pooled)

    def exclusive_row(self, parent: Code, children: list[tuple[Code, frozenset[int]]], metric: str) -> dict:
        values, reason = exclusive_values(children, metric)
        nominal: dict[str, Counter] = {iid: Counter() for iid in self.turns}
        numeric: dict[str, Counter] = {iid: Counter() for iid in self.turns}
        multiple = no_child = 0
        for iid, turns in self.turns.items():
            for t in turns:
                for width, hits in self._segments(t, children):
                    labels = ["+".join(h) or NONE for h in hits]
                    nominal[iid][tuple(labels)] += width
                    multiple += width * sum(len(h) > 1 for h in hits)
                    no_child += width * sum(not h for h in hits)
                    if all(len(h) == 1 for h in hits):
                        numeric[iid][hits[0][0], hits[1][0]] += width
        order = [c.name for c, _ in children]

        def stats(nom: Counter, num: Counter) -> dict:
            table = PairTable(nom)
            if reason:
                alpha = Stat(None, reason)
            else:
                alpha = (table if metric == "nominal" else PairTable(num)).alpha(metric, values)  # type: ignore[arg-type]
            return statistics(
                table.percent_agreement(), POSITIVE_IS_PER_CATEGORY, table.kappa(), alpha, table.fleiss(), metric
            )

        def counts(nom: Counter) -> dict:
            seen = {v for pair, n in nom.items() if n for v in pair}
            return pair_counts(PairTable(nom), self.data.coders, value_order(seen, order))

        total_nom, total_num = sum(nominal.values(), Counter()), sum(numeric.values(), Counter())
        notes = exclusive_notes(multiple, no_child, "character", metric)
        out = row("exclusive", parent, self.size, counts(total_nom), stats(total_nom, total_num), notes)
        if self.by_interview:
            out["interviews"] = [
                {
                    "interview": iid,
                    "units": sum(nominal[iid].values()),
                    "counts": counts(nominal[iid]),
                    "statistics": stats(nominal[iid], numeric[iid]),
                }
                for iid in self.turns
            ]
        return out

    def _segments(self, t: Turn, children: list[tuple[Code, frozenset[int]]]):
        """(width, [children covering it, per coder]) for each stretch of the turn where nobody's coding changes."""
        spans = {
            coder: [(c.name, a, b) for c, ids in children for a, b in self._coded(coder, t, ids)]
            for coder in self.data.coders
        }
        cuts = sorted({0, t.length, *(x for s in spans.values() for _, a, b in s for x in (a, b))})
        for x, y in zip(cuts, cuts[1:], strict=False):
            hits = [
                list(dict.fromkeys(name for name, a, b in spans[coder] if a <= x and b >= y))
                for coder in self.data.coders
            ]
            yield y - x, hits
