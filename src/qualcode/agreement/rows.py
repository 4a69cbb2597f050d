"""The audit's statistics as rows: counts, statistics with their conventional bands, and the notes that explain them.

Shared by the unit kinds in audit.py and audit_chars.py; nothing here reads the database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from qualcode.agreement import stats as agreement
from qualcode.agreement.stats import PairTable, Stat, TwoByTwo
from qualcode.codebook.tree import Code

NONE = "(none)"
STATISTICS = ("percent_agreement", "positive_agreement", "cohen_kappa", "krippendorff_alpha", "fleiss_kappa")


def count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def names(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def band(name: str, stat: Stat) -> dict | None:
    if stat.value is None or name in ("percent_agreement", "positive_agreement"):
        return None
    b = agreement.alpha_band(stat.value) if name == "krippendorff_alpha" else agreement.kappa_band(stat.value)
    return {"label": b.label, "rule": b.rule, "convention": b.convention}


def stat_dict(name: str, stat: Stat, **extra) -> dict:
    return {"value": stat.value, "reason": stat.reason, "band": band(name, stat), "units": stat.units, **extra}


def statistics(percent: Stat, positive: Stat, kappa: Stat, alpha: Stat, fleiss: Stat, metric: str) -> dict:
    stats = dict(zip(STATISTICS, (percent, positive, kappa, alpha, fleiss), strict=True))
    return {
        name: stat_dict(name, s, **({"metric": metric} if name == "krippendorff_alpha" else {}))
        for name, s in stats.items()
    }


def two_by_two_counts(table: TwoByTwo) -> dict:
    return {
        "table": "2x2",
        "both": table.both,
        "a_only": table.a_only,
        "b_only": table.b_only,
        "neither": table.neither,
    }


def binary_notes(table: TwoByTwo, coders: list[str], unit: str) -> list[str]:
    """Why a code's κ looks the way it does, in the cases that puzzle people."""
    a, b = coders
    applied_a, applied_b = table.both + table.a_only, table.both + table.b_only
    if not table.total:
        return []
    if applied_a == applied_b == 0:
        return ["nobody applied it in scope"]
    notes = []
    for who, other, applied in ((a, b, applied_a), (b, a, applied_b)):
        if applied == table.total and (applied_a + applied_b) < 2 * table.total:
            notes.append(
                f"{who} applied it to every {unit}: Cohen's κ is 0 whatever {other} did, because chance "
                "agreement then equals observed agreement"
            )
        elif applied == 0:
            notes.append(f"only {other} applied it: Cohen's κ is 0 however often they agreed on its absence")
    return notes


def pair_counts(table: PairTable, coders: list[str], values: list) -> dict:
    row_a: Counter = Counter()
    row_b: Counter = Counter()
    confusion: dict = {str(v): {str(w): 0 for w in values} for v in values}
    for (x, y), n in table.counts.items():
        row_a[x] += n
        row_b[y] += n
        confusion[str(x)][str(y)] += n
    return {
        "table": "coder_by_value",
        "values": [str(v) for v in values],
        "coders": {coders[0]: {str(v): row_a[v] for v in values}, coders[1]: {str(v): row_b[v] for v in values}},
        "missing": {c: 0 for c in coders},
        "confusion": confusion,
    }


def row(level: str, code: Code | None, units: int, counts: dict, stats: dict, notes: list[str]) -> dict:
    return {
        "level": level,
        "code": code.path if code else None,
        "key": code.key if code else None,
        "units": units,
        "counts": counts,
        "statistics": stats,
        "notes": notes,
    }


def exclusive_values(children: list[tuple[Code, frozenset[int]]], metric: str) -> tuple[dict | None, str | None]:
    """The children's `value:` numbers for ordinal or interval α, or the reason α cannot use them."""
    if metric == "nominal":
        return None, None
    missing = [c.name for c, _ in children if c.value is None]
    if missing:
        verb = "has" if len(missing) == 1 else "have"
        return (None, f"{metric} α needs a number for every child: {names(missing)} {verb} no value: in the codebook")
    return {c.name: c.value for c, _ in children}, None


def choice(applied: frozenset[int], children: list[tuple[Code, frozenset[int]]]) -> list[str]:
    return [c.name for c, ids in children if not ids.isdisjoint(applied)]


def value_order(seen: Iterable, children: list[str]) -> list:
    """Children in tree order, then combinations of several children, then "(none)"."""
    seen = set(seen)
    return [v for v in children if v in seen] + sorted(seen - set(children) - {NONE}) + [NONE] * (NONE in seen)


def exclusive_notes(multiple: int, no_child: int, unit: str, metric: str) -> list[str]:
    notes = []
    if multiple:
        notes.append(
            f"{count(multiple, 'coder-' + unit)} with more than one child: a category of its own ('A+B') for "
            "nominal statistics" + ("" if metric == "nominal" else f", missing for {metric} α")
        )
    if no_child and metric != "nominal":
        notes.append(f"{count(no_child, 'coder-' + unit)} with no child are missing for {metric} α")
    return notes


POSITIVE_IS_PER_CATEGORY = Stat(None, "positive agreement is for one category: see each child's own row")


def confusion(matrix: Sequence[Sequence[str | None]], values: list[str]) -> dict:
    """Coder A's value (outer key) against coder B's (inner key), over the units both decided."""
    out = {v: dict.fromkeys(values, 0) for v in values}
    for x, y in zip(*matrix, strict=True):
        if x is not None and y is not None:
            out[x][y] += 1
    return out


def conventions() -> dict:
    return {
        "note": "Bands are rules of thumb from the literature, shown as conventions, not tests of adequacy.",
        "krippendorff_alpha": {
            "convention": agreement.KRIPPENDORFF_CONVENTION,
            "bands": ["α ≥ .800 reliable", ".667 ≤ α < .800 tentative conclusions only", "α < .667 unreliable"],
        },
        "kappa": {
            "convention": agreement.LANDIS_KOCH_CONVENTION,
            "bands": [
                "< .00 poor",
                ".00–.20 slight",
                ".21–.40 fair",
                ".41–.60 moderate",
                ".61–.80 substantial",
                ".81–1.00 almost perfect",
            ],
        },
    }


def sum_tables(tables: Iterable[TwoByTwo]) -> TwoByTwo:
    total = TwoByTwo()
    for t in tables:
        total += t
    return total
