"""Inter-coder agreement statistics on plain data: percent and positive agreement, Cohen's and Fleiss' κ,
Krippendorff's α, conventional bands, and NVivo-style character-level comparison.

The input is a reliability matrix: one row per coder, one column per unit (a turn, a segment, an interview), each
cell a category label (str, int or float) or None where that coder did not code that unit. For a code's
presence/absence the labels are 1 (applied) and 0 (not applied); for an exclusive parent code the labels are its
children, optionally mapped to numbers for ordinal or interval α.

Nothing here reads the database or prints. A statistic that cannot be computed from the data (one coder, no shared
units, no variation) comes back as a `Stat` whose value is None and whose reason says why, because an audit over
many codes must keep going and tell the team what to fix. Malformed input (ragged rows, bad spans, an unknown level
of measurement) raises a QualcodeError instead: that is a bug in the caller or the data, not a property of the coding.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from qualcode.errors import InputError, UsageError

Value = str | int | float
Matrix = Sequence[Sequence[Value | None]]
Level = Literal["nominal", "ordinal", "interval"]
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval")

FEWER_THAN_TWO_CODERS = "fewer than two coders coded any unit"
NO_SHARED_UNIT = "no unit coded by two coders"


@dataclass(frozen=True)
class Stat:
    """A statistic, or None with the reason it is undefined; `units` is how many units entered the computation."""

    value: float | None
    reason: str | None = None
    units: int = 0

    @property
    def defined(self) -> bool:
        return self.value is not None


def _undefined(reason: str, units: int = 0) -> Stat:
    return Stat(None, reason, units)


# ---------------------------------------------------------------------------------------------------------------
# Matrix plumbing


def _missing(value: object) -> bool:
    # NaN is accepted as missing because numeric exports (pandas, numpy) write gaps that way.
    return value is None or (isinstance(value, float) and math.isnan(value))


def _rows(matrix: Matrix) -> list[list[Value | None]]:
    rows = [[None if _missing(v) else v for v in row] for row in matrix]
    if rows:
        width = len(rows[0])
        for i, row in enumerate(rows[1:], start=2):
            if len(row) != width:
                raise InputError(
                    f"every coder's row needs one entry per unit: row 1 has {width}, row {i} has {len(row)}"
                )
    return rows


def _coders_with_data(rows: list[list[Value | None]]) -> int:
    return sum(any(v is not None for v in row) for row in rows)


def _pairable_units(rows: list[list[Value | None]]) -> list[list[Value]]:
    """The values of each unit coded by at least two coders; other units carry no information on agreement."""
    units = []
    for column in zip(*rows, strict=True):
        values = [v for v in column if v is not None]
        if len(values) >= 2:
            units.append(values)
    return units


def _shared_units_or_reason(rows: list[list[Value | None]]) -> tuple[list[list[Value]], str | None]:
    if _coders_with_data(rows) < 2:
        return [], FEWER_THAN_TWO_CODERS
    units = _pairable_units(rows)
    return units, (None if units else NO_SHARED_UNIT)


def ordered_values(values: Iterable[Value]) -> list[Value]:
    """Distinct values, sorted when they are comparable (all numbers or all strings), else in first-seen order."""
    distinct = list(dict.fromkeys(values))
    try:
        return sorted(distinct)  # type: ignore[type-var]
    except TypeError:
        return distinct


# ---------------------------------------------------------------------------------------------------------------
# Raw agreement


def percent_agreement(matrix: Matrix) -> Stat:
    """Share of agreeing coder pairs per unit, averaged over units coded by at least two coders.

    For two coders this is the proportion of shared units on which they gave the same value. For more coders a unit
    where m coders gave values scores (agreeing ordered pairs) / (m(m−1)), and every unit weighs the same whatever its
    m; with the same m on every unit this equals Fleiss' P̄.
    """
    units, reason = _shared_units_or_reason(_rows(matrix))
    if reason:
        return _undefined(reason)
    total = Fraction(0)
    for values in units:
        m = len(values)
        total += Fraction(sum(n * (n - 1) for n in Counter(values).values()), m * (m - 1))
    return Stat(float(total / len(units)), units=len(units))


def positive_agreement(matrix: Matrix, positive: Value = 1) -> Stat:
    """Specific agreement on `positive`: of the coder pairs in which at least one coder gave `positive`, the share
    in which both did.

    For two coders this is 2a / (2a + b + c) (a: both applied the code, b and c: one coder alone), which ignores the
    units neither coder coded and so is not inflated by a rare code. For more coders, and with missing values, the
    count is pooled over every pair of coders who both coded a unit: Σ p(p−1) / Σ p(m−1) over units, with p coders
    giving `positive` among the m who coded the unit (Uebersax's proportion of specific agreement). Any other value
    counts as "not positive", so on a multi-category variable this is the specific agreement on one category.
    """
    units, reason = _shared_units_or_reason(_rows(matrix))
    if reason:
        return _undefined(reason)
    agreeing = attempted = 0
    for values in units:
        p = sum(v == positive for v in values)
        agreeing += p * (p - 1)
        attempted += p * (len(values) - 1)
    if attempted == 0:
        return _undefined(
            f"nobody gave {positive!r} on a unit coded by two coders, so positive agreement is 0/0", len(units)
        )
    return Stat(agreeing / attempted, units=len(units))


# ---------------------------------------------------------------------------------------------------------------
# Chance-corrected agreement


def _no_variation(value: Value, consequence: str) -> str:
    return f"no variation: every unit has the same value ({value!r}), so {consequence}"


_KAPPA_ZERO_BY_ZERO = "chance agreement is 1 and κ is 0/0"
_ALPHA_ZERO_BY_ZERO = "expected disagreement is 0 and α is 0/0"


def cohen_kappa(matrix: Matrix) -> Stat:
    """Cohen's κ for two coders over the units both coded, for any number of categories.

    κ = (po − pe) / (1 − pe). When the two coders agree on every unit using two or more values κ is 1.0. When they
    agree on every unit but only ever use one value (typically: neither applied the code), pe = po = 1 and κ is 0/0:
    it is reported undefined rather than 1, because such data carry no evidence that the coders could tell the
    categories apart. NVivo's coding comparison reports κ = 1 in that case; the percent agreement (100 %) still shows.
    """
    rows = _rows(matrix)
    if _coders_with_data(rows) < 2:
        return _undefined(FEWER_THAN_TWO_CODERS)
    if len(rows) != 2:
        return _undefined(f"Cohen's κ compares exactly two coders, not {len(rows)}; use Fleiss' κ or Krippendorff's α")
    pairs = [(a, b) for a, b in zip(rows[0], rows[1], strict=True) if a is not None and b is not None]
    if not pairs:
        return _undefined("no unit coded by both coders")
    n = len(pairs)
    agree = sum(a == b for a, b in pairs)
    row_a = Counter(a for a, _ in pairs)
    row_b = Counter(b for _, b in pairs)
    # Integer arithmetic keeps the "chance agreement is exactly 1" test exact.
    chance = sum(row_a[v] * row_b[v] for v in row_a)
    if chance == n * n:
        return _undefined(_no_variation(pairs[0][0], _KAPPA_ZERO_BY_ZERO), n)
    return Stat((n * agree - chance) / (n * n - chance), units=n)


def fleiss_kappa(matrix: Matrix) -> Stat:
    """Fleiss' κ (1971) for any number of coders, when every unit has the same number of ratings.

    Units nobody coded are left out. When the number of ratings differs between units the statistic is undefined
    (Fleiss' formula assumes a constant number of raters); Krippendorff's α handles missing values.
    """
    rows = _rows(matrix)
    if _coders_with_data(rows) < 2:
        return _undefined(FEWER_THAN_TWO_CODERS)
    units = [[v for v in column if v is not None] for column in zip(*rows, strict=True)]
    units = [values for values in units if values]
    sizes = sorted({len(values) for values in units})
    if len(sizes) > 1:
        return _undefined(
            f"Fleiss' κ needs the same number of coders on every unit (found {sizes[0]} to {sizes[-1]} per unit); "
            "use Krippendorff's α"
        )
    m = sizes[0]
    if m < 2:
        return _undefined(NO_SHARED_UNIT)
    n = len(units)
    totals: Counter[Value] = Counter()
    observed = Fraction(0)
    for values in units:
        counts = Counter(values)
        totals.update(counts)
        observed += Fraction(sum(c * (c - 1) for c in counts.values()), m * (m - 1))
    observed /= n
    chance = Fraction(sum(t * t for t in totals.values()), (n * m) ** 2)
    if chance == 1:
        return _undefined(_no_variation(units[0][0], _KAPPA_ZERO_BY_ZERO), n)
    return Stat(float((observed - chance) / (1 - chance)), units=n)


def krippendorff_alpha(matrix: Matrix, level: Level = "nominal", values: Mapping[Value, float] | None = None) -> Stat:
    """Krippendorff's α for any number of coders with missing values, by the `krippendorff` package.

    Nominal: labels are compared for equality only. Ordinal and interval: each label needs a number, either because
    it is one or through `values` (label → number, e.g. the codebook's scale points); ordinal uses only their order.
    Undefined when fewer than two coders coded anything, no unit has two values, or all values on such units are the
    same (expected disagreement 0, α = 0/0).
    """
    if level not in LEVELS:
        raise UsageError(f"unknown level of measurement {level!r}; choose one of {', '.join(LEVELS)}")
    rows = _rows(matrix)
    numbers = _alpha_numbers(rows, level, values)
    units, reason = _shared_units_or_reason(rows)
    if reason:
        return _undefined(reason)
    # Checked on the numbers, not the labels: two labels mapped to one scale point do not vary either.
    if len({v for unit in _pairable_units(numbers) for v in unit}) < 2:
        return _undefined(_no_variation(units[0][0], _ALPHA_ZERO_BY_ZERO), len(units))

    import krippendorff  # pulls in numpy, so only when α is asked for

    data = [[math.nan if v is None else v for v in row] for row in numbers]
    try:
        alpha = float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))
    except ValueError as exc:
        return _undefined(f"Krippendorff's α is undefined: {exc}", len(units))
    if math.isnan(alpha):
        return _undefined("Krippendorff's α is undefined: expected disagreement is 0", len(units))
    return Stat(alpha, units=len(units))


def _alpha_numbers(
    rows: list[list[Value | None]], level: str, values: Mapping[Value, float] | None
) -> list[list[float | None]]:
    """The matrix as floats for the package: integer codes for nominal labels, the labels' numbers otherwise."""
    if level == "nominal":
        # The package only orders values, never subtracts them, at this level; integer codes spare it string arrays.
        codes = {v: i for i, v in enumerate(dict.fromkeys(v for row in rows for v in row if v is not None))}
        return [[None if v is None else float(codes[v]) for v in row] for row in rows]
    out: list[list[float | None]] = []
    for row in rows:
        mapped: list[float | None] = []
        for v in row:
            if v is None:
                mapped.append(None)
            elif values is not None:
                if v not in values:
                    raise InputError(f"no numeric value given for {v!r}, needed for {level} α")
                mapped.append(float(values[v]))
            elif isinstance(v, int | float):
                mapped.append(float(v))
            else:
                raise UsageError(f"{level} α needs numbers: {v!r} is a label; give each label a numeric value")
        out.append(mapped)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Conventional bands


@dataclass(frozen=True)
class Band:
    """Where a value falls on a published rule of thumb; `convention` names whose rule it is."""

    label: str
    rule: str
    convention: str


KRIPPENDORFF_CONVENTION = "Krippendorff (2004), Content Analysis, 2nd ed."
LANDIS_KOCH_CONVENTION = "Landis & Koch (1977), Biometrics 33:159–174"


def alpha_band(alpha: float) -> Band:
    """Krippendorff's convention: α ≥ .800 reliable; .667 ≤ α < .800 tentative conclusions only; below unreliable."""
    if alpha >= 0.800:
        return Band("reliable", "α ≥ .800", KRIPPENDORFF_CONVENTION)
    if alpha >= 0.667:
        return Band("tentative conclusions only", ".667 ≤ α < .800", KRIPPENDORFF_CONVENTION)
    return Band("unreliable", "α < .667", KRIPPENDORFF_CONVENTION)


_LANDIS_KOCH = [
    (0.20, "slight", ".00–.20"),
    (0.40, "fair", ".21–.40"),
    (0.60, "moderate", ".41–.60"),
    (0.80, "substantial", ".61–.80"),
]


def kappa_band(kappa: float) -> Band:
    """Landis & Koch's labels for κ. Their table lists .00–.20, .21–.40, …; between two rows a value goes up
    (.205 is fair), i.e. each band's upper bound is inclusive."""
    if kappa < 0:
        return Band("poor", "< .00", LANDIS_KOCH_CONVENTION)
    for upper, label, rule in _LANDIS_KOCH:
        if kappa <= upper:
            return Band(label, rule, LANDIS_KOCH_CONVENTION)
    return Band("almost perfect", ".81–1.00", LANDIS_KOCH_CONVENTION)


# ---------------------------------------------------------------------------------------------------------------
# Count tables


@dataclass(frozen=True)
class TwoByTwo:
    """Two coders, one code: units (or characters) coded by both, by A only, by B only, by neither."""

    both: int = 0
    a_only: int = 0
    b_only: int = 0
    neither: int = 0

    @property
    def total(self) -> int:
        return self.both + self.a_only + self.b_only + self.neither

    def __add__(self, other: TwoByTwo) -> TwoByTwo:
        # Pooling interviews: NVivo reports each source separately; adding them gives the whole-project table.
        return TwoByTwo(
            self.both + other.both, self.a_only + other.a_only, self.b_only + other.b_only, self.neither + other.neither
        )

    def percent_agreement(self) -> Stat:
        """(both + neither) / total."""
        if self.total == 0:
            return _undefined("nothing to compare: no units")
        return Stat((self.both + self.neither) / self.total, units=self.total)

    def positive_agreement(self) -> Stat:
        """2·both / (2·both + A only + B only)."""
        attempted = 2 * self.both + self.a_only + self.b_only
        if attempted == 0:
            return _undefined("neither coder applied the code, so positive agreement is 0/0", self.total)
        return Stat(2 * self.both / attempted, units=self.total)

    def kappa(self) -> Stat:
        """Cohen's κ on the table, with the same degenerate cases as `cohen_kappa`."""
        n = self.total
        if n == 0:
            return _undefined("nothing to compare: no units")
        a_yes, b_yes = self.both + self.a_only, self.both + self.b_only
        chance = a_yes * b_yes + (n - a_yes) * (n - b_yes)
        if chance == n * n:
            which = "neither coder applied the code" if self.neither == n else "both coders applied it everywhere"
            return _undefined(f"no variation: {which}, so {_KAPPA_ZERO_BY_ZERO}", n)
        return Stat((n * (self.both + self.neither) - chance) / (n * n - chance), units=n)

    def pairs(self) -> PairTable:
        """The same counts as a two-coder table over the values 1 (applied) and 0, for α and Fleiss' κ."""
        return PairTable({(1, 1): self.both, (1, 0): self.a_only, (0, 1): self.b_only, (0, 0): self.neither})


@dataclass(frozen=True)
class PairTable:
    """Two coders, no missing values, units with weights: `counts[a, b]` is how many units (or characters) coder A
    gave a and coder B gave b.

    This is the reliability matrix with identical columns counted instead of repeated. The character unit needs it:
    an interview has tens of thousands of characters, and the `krippendorff` package builds arrays of units × values²,
    so α is computed here from the coincidence matrix, which for two coders without gaps is C + Cᵀ (each unit adds
    one to o[a, b] and one to o[b, a]). The tests check it against the package on the expanded matrix.
    """

    counts: Mapping[tuple[Value, Value], int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def values(self) -> list[Value]:
        return ordered_values(v for pair, n in self.counts.items() if n for v in pair)

    def _agreeing(self) -> int:
        return sum(n for (a, b), n in self.counts.items() if a == b)

    def _marginals(self) -> tuple[Counter[Value], Counter[Value]]:
        row_a: Counter[Value] = Counter()
        row_b: Counter[Value] = Counter()
        for (a, b), n in self.counts.items():
            row_a[a] += n
            row_b[b] += n
        return row_a, row_b

    def percent_agreement(self) -> Stat:
        if self.total == 0:
            return _undefined("nothing to compare: no units")
        return Stat(self._agreeing() / self.total, units=self.total)

    def kappa(self) -> Stat:
        """Cohen's κ over any number of categories, with the degenerate cases of `cohen_kappa`."""
        n = self.total
        if n == 0:
            return _undefined("nothing to compare: no units")
        row_a, row_b = self._marginals()
        chance = sum(row_a[v] * row_b[v] for v in row_a)
        if chance == n * n:
            return _undefined(_no_variation(self.values()[0], _KAPPA_ZERO_BY_ZERO), n)
        return Stat((n * self._agreeing() - chance) / (n * n - chance), units=n)

    def fleiss(self) -> Stat:
        """Fleiss' κ with two ratings per unit (which is Scott's π)."""
        n = self.total
        if n == 0:
            return _undefined("nothing to compare: no units")
        row_a, row_b = self._marginals()
        totals = row_a + row_b
        chance = Fraction(sum(t * t for t in totals.values()), (2 * n) ** 2)
        if chance == 1:
            return _undefined(_no_variation(self.values()[0], _KAPPA_ZERO_BY_ZERO), n)
        observed = Fraction(self._agreeing(), n)
        return Stat(float((observed - chance) / (1 - chance)), units=n)

    def alpha(self, level: Level = "nominal", values: Mapping[Value, float] | None = None) -> Stat:
        """Krippendorff's α from the coincidence matrix, with the metrics the package uses."""
        if level not in LEVELS:
            raise UsageError(f"unknown level of measurement {level!r}; choose one of {', '.join(LEVELS)}")
        n_units = self.total
        if n_units == 0:
            return _undefined("nothing to compare: no units")
        counts: Counter[tuple[Value, Value]] = Counter()
        if level == "nominal":
            counts.update({pair: k for pair, k in self.counts.items() if k})
        else:
            # Compared as numbers, as the package does: two labels on one scale point are one value.
            number = {v: _alpha_numbers([[v]], level, values)[0][0] for v in self.values()}
            for (a, b), k in self.counts.items():
                if k:
                    counts[number[a], number[b]] += k
        coincidences: Counter[tuple[Value, Value]] = Counter()
        for (a, b), k in counts.items():
            coincidences[a, b] += k
            coincidences[b, a] += k
        labels = ordered_values(c for c, _ in coincidences)
        n_c = {c: sum(coincidences[c, k] for k in labels) for c in labels}

        def delta(c: Value, k: Value) -> float:
            if level == "nominal":
                return float(c != k)
            if level == "interval":
                return (c - k) ** 2  # type: ignore[operator]
            lo, hi = sorted((labels.index(c), labels.index(k)))
            return (sum(n_c[g] for g in labels[lo : hi + 1]) - (n_c[c] + n_c[k]) / 2) ** 2

        n = 2 * n_units
        observed = sum(coincidences[c, k] * delta(c, k) for c in labels for k in labels)
        expected = sum(n_c[c] * n_c[k] * delta(c, k) for c in labels for k in labels)
        if expected == 0:
            return _undefined(_no_variation(labels[0], _ALPHA_ZERO_BY_ZERO), n_units)
        return Stat(1 - (n - 1) * observed / expected, units=n_units)


def two_by_two(matrix: Matrix, positive: Value = 1) -> TwoByTwo:
    """The 2×2 table of two coders over the units both coded; a value other than `positive` counts as not applied."""
    rows = _rows(matrix)
    if len(rows) != 2:
        raise UsageError(f"a 2×2 table compares two coders, not {len(rows)}")
    cells = Counter(
        (a == positive, b == positive) for a, b in zip(rows[0], rows[1], strict=True) if a is not None and b is not None
    )
    return TwoByTwo(cells[True, True], cells[True, False], cells[False, True], cells[False, False])


@dataclass(frozen=True)
class CoderValueCounts:
    """How often each coder gave each value: `counts[i][j]` is coder i's count of `values[j]`; `missing[i]` the
    units coder i left blank. Shows at a glance a coder who never uses a category."""

    values: list[Value]
    counts: list[list[int]]
    missing: list[int]


def coder_value_counts(matrix: Matrix) -> CoderValueCounts:
    rows = _rows(matrix)
    values = ordered_values(v for row in rows for v in row if v is not None)
    counters = [Counter(v for v in row if v is not None) for row in rows]
    return CoderValueCounts(
        values=values,
        counts=[[c[v] for v in values] for c in counters],
        missing=[sum(v is None for v in row) for row in rows],
    )


# ---------------------------------------------------------------------------------------------------------------
# Character-level comparison, as NVivo's coding comparison query does it


Span = tuple[int, int]


def merge_spans(spans: Iterable[Span], length: int | None = None) -> list[Span]:
    """Sorted, non-overlapping half-open [start, end) spans; overlapping or touching spans of one coder become one,
    so a character coded twice by the same coder counts once."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if start < 0 or end < start or (length is not None and end > length):
            limit = f" in a text of {length} characters" if length is not None else ""
            raise InputError(f"bad character span ({start}, {end}){limit}")
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        elif end > start:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def _overlap(a: list[Span], b: list[Span]) -> int:
    total = i = j = 0
    while i < len(a) and j < len(b):
        total += max(0, min(a[i][1], b[j][1]) - max(a[i][0], b[j][0]))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def char_counts(length: int, spans_a: Iterable[Span], spans_b: Iterable[Span]) -> TwoByTwo:
    """Characters of one text (one interview) coded by both coders, A only, B only and neither, for one code.

    Spans are half-open [start, end) character offsets, as Python slices: (0, 200) is the first 200 characters.
    Pool interviews by adding the tables; `.percent_agreement()` and `.kappa()` then give NVivo's figures.
    """
    if length < 0:
        raise InputError(f"a text cannot have {length} characters")
    a, b = merge_spans(spans_a, length), merge_spans(spans_b, length)
    covered_a = sum(e - s for s, e in a)
    covered_b = sum(e - s for s, e in b)
    both = _overlap(a, b)
    return TwoByTwo(
        both=both, a_only=covered_a - both, b_only=covered_b - both, neither=length - covered_a - covered_b + both
    )
