"""Agreement statistics against published worked examples and against formulas written out here by hand."""

from __future__ import annotations

import math
import random
from collections import Counter
from itertools import combinations, permutations

import pytest

from qualcode.agreement.stats import (
    FEWER_THAN_TWO_CODERS,
    KRIPPENDORFF_CONVENTION,
    LANDIS_KOCH_CONVENTION,
    NO_SHARED_UNIT,
    PairTable,
    TwoByTwo,
    alpha_band,
    char_counts,
    coder_value_counts,
    cohen_kappa,
    fleiss_kappa,
    kappa_band,
    krippendorff_alpha,
    merge_spans,
    percent_agreement,
    positive_agreement,
    two_by_two,
)
from qualcode.errors import InputError, UsageError

N = None

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C: observers A–D × units 1–12.
KRIPPENDORFF_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]

# Fleiss (1971), as on Wikipedia's "Fleiss' kappa" page: 10 subjects, 14 raters, counts per category 1–5.
FLEISS_COUNTS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def r3(stat) -> float:
    assert stat.value is not None, stat.reason
    return round(stat.value, 3)


# ---------------------------------------------------------------------------------------------------------------
# Independent implementations, written from the textbook formulas and sharing nothing with the module


def alpha_by_hand(matrix, delta) -> tuple[float, dict]:
    """Krippendorff's α from the coincidence matrix: each unit with m ≥ 2 values adds 1/(m−1) per ordered pair."""
    o: Counter = Counter()
    for column in zip(*matrix, strict=True):
        values = [v for v in column if v is not None]
        m = len(values)
        for i, j in permutations(range(m), 2):
            o[values[i], values[j]] += 1 / (m - 1)
    labels = sorted({c for c, _ in o})
    n_c = {c: sum(o[c, k] for k in labels) for c in labels}
    n = sum(n_c.values())
    d = {(c, k): delta(c, k, n_c, labels) for c in labels for k in labels}
    observed = sum(o[c, k] * d[c, k] for c in labels for k in labels) / n
    expected = sum(n_c[c] * n_c[k] * d[c, k] for c in labels for k in labels) / (n * (n - 1))
    return 1 - observed / expected, n_c


def nominal(c, k, _n, _labels):
    return float(c != k)


def interval(c, k, _n, _labels):
    return float((c - k) ** 2)


def ordinal(c, k, n_c, labels):
    lo, hi = min(c, k), max(c, k)
    between = sum(n_c[g] for g in labels if lo <= g <= hi)
    return (between - (n_c[c] + n_c[k]) / 2) ** 2


def kappa_by_hand(a, b) -> float:
    n = len(a)
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pe = sum((a.count(c) / n) * (b.count(c) / n) for c in set(a) | set(b))
    return (po - pe) / (1 - pe)


def correlated_coders(rng, units, categories, agree=0.7, missing=0.0, coders=2):
    truth = [rng.choice(categories) for _ in range(units)]
    rows = []
    for _ in range(coders):
        row = []
        for t in truth:
            if rng.random() < missing:
                row.append(None)
            else:
                row.append(t if rng.random() < agree else rng.choice(categories))
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------------------------
# Published values


def test_krippendorff_example_c_matrix_is_the_papers():
    # Unit 12 has a single value and is not pairable, so 40 of the 41 values enter the coincidence matrix; with
    # these marginals the hand computation gives the paper's .743 and .849, which pins the transcription.
    a, n_c = alpha_by_hand(KRIPPENDORFF_C, nominal)
    assert {c: round(v) for c, v in n_c.items()} == {1: 9, 2: 13, 3: 10, 4: 5, 5: 3}
    assert round(a, 3) == 0.743
    assert round(alpha_by_hand(KRIPPENDORFF_C, interval)[0], 3) == 0.849


def test_krippendorff_example_c_published_alphas():
    assert r3(krippendorff_alpha(KRIPPENDORFF_C, "nominal")) == 0.743
    assert r3(krippendorff_alpha(KRIPPENDORFF_C, "interval")) == 0.849
    assert krippendorff_alpha(KRIPPENDORFF_C).units == 11


def test_krippendorff_example_c_ordinal_matches_the_hand_formula():
    # No published ordinal value was verified at the source, so this checks only against the ordinal metric.
    expected = alpha_by_hand(KRIPPENDORFF_C, ordinal)[0]
    assert krippendorff_alpha(KRIPPENDORFF_C, "ordinal").value == pytest.approx(expected, abs=1e-9)


def test_string_labels_are_mapped_to_codes_and_numbers():
    names = {1: "none", 2: "low", 3: "mid", 4: "high", 5: "full"}
    labelled = [[None if v is None else names[v] for v in row] for row in KRIPPENDORFF_C]
    scale = {name: float(v) for v, name in names.items()}
    assert r3(krippendorff_alpha(labelled, "nominal")) == 0.743
    assert r3(krippendorff_alpha(labelled, "interval", values=scale)) == 0.849
    assert krippendorff_alpha(labelled, "ordinal", values=scale).value == pytest.approx(
        krippendorff_alpha(KRIPPENDORFF_C, "ordinal").value
    )


def test_cohen_kappa_on_a_published_two_by_two():
    # [[20, 5], [10, 15]]: rows coder A yes/no, columns coder B yes/no. po = .70, pe = .5·.6 + .5·.4 = .50.
    a = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert r3(cohen_kappa([a, b])) == 0.400
    table = two_by_two([a, b])
    assert table == TwoByTwo(both=20, a_only=5, b_only=10, neither=15)
    assert r3(table.kappa()) == 0.400
    assert r3(percent_agreement([a, b])) == 0.700
    assert r3(table.percent_agreement()) == 0.700
    assert r3(positive_agreement([a, b])) == round(40 / 55, 3)


def test_fleiss_kappa_published_example():
    ratings = []
    for counts in FLEISS_COUNTS:
        ratings.append([category for category, c in enumerate(counts, start=1) for _ in range(c)])
    matrix = [list(rater) for rater in zip(*ratings, strict=True)]  # 14 rater slots × 10 subjects
    assert len(matrix) == 14 and len(matrix[0]) == 10
    assert r3(fleiss_kappa(matrix)) == 0.210


def test_nvivo_character_comparison_example():
    # NVivo's help: 1,000 characters, 50 coded by both, 150 by one user only, 800 by neither: agreement 85 %.
    # A codes 0–149 (as two overlapping spans, merged), B codes 100–199: both 100–149.
    table = char_counts(1000, [(0, 120), (80, 150)], [(100, 200)])
    assert table == TwoByTwo(both=50, a_only=100, b_only=50, neither=800)
    assert r3(table.percent_agreement()) == 0.850
    # NVivo's κ steps: EF1 = A·B/total, EF2 = notA·notB/total, κ = (agree − ΣEF) / (total − ΣEF).
    ef1 = 150 * 100 / 1000
    ef2 = 850 * 900 / 1000
    agree = 50 + 800
    expected = (agree - (ef1 + ef2)) / (1000 - (ef1 + ef2))
    assert round(expected, 3) == 0.318
    assert table.kappa().value == pytest.approx(expected)


def test_character_tables_pool_across_interviews():
    first = char_counts(1000, [(0, 150)], [(100, 200)])
    second = char_counts(500, [], [(0, 10)])
    pooled = first + second
    assert pooled == TwoByTwo(both=50, a_only=100, b_only=60, neither=1290)
    assert pooled.total == 1500


# ---------------------------------------------------------------------------------------------------------------
# Independent checks on random data


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_binary_two_coders_against_hand_formulas(seed):
    rng = random.Random(seed)
    a, b = correlated_coders(rng, 120, [0, 1], agree=0.6)
    matrix = [a, b]

    assert cohen_kappa(matrix).value == pytest.approx(kappa_by_hand(a, b))
    assert two_by_two(matrix).kappa().value == pytest.approx(kappa_by_hand(a, b))
    assert percent_agreement(matrix).value == pytest.approx(sum(x == y for x, y in zip(a, b, strict=True)) / 120)

    # Two coders, binary, nothing missing: coincidence matrix o_cc = 2·(units both c), o_01 = o_10 = disagreements.
    o = {(c, k): 0 for c in (0, 1) for k in (0, 1)}
    for x, y in zip(a, b, strict=True):
        o[x, y] += 1
        o[y, x] += 1
    n0, n1 = o[0, 0] + o[0, 1], o[1, 0] + o[1, 1]
    n = n0 + n1
    alpha = 1 - (n - 1) * o[0, 1] / (n0 * n1)
    assert krippendorff_alpha(matrix).value == pytest.approx(alpha)

    both = sum(x == 1 and y == 1 for x, y in zip(a, b, strict=True))
    one = sum(x != y for x, y in zip(a, b, strict=True))
    assert positive_agreement(matrix).value == pytest.approx(2 * both / (2 * both + one))


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_alpha_with_missing_values_and_many_coders_against_hand_formula(seed):
    rng = random.Random(seed)
    matrix = correlated_coders(rng, 60, [1, 2, 3, 4, 5], agree=0.6, missing=0.3, coders=4)
    for level, delta in (("nominal", nominal), ("ordinal", ordinal), ("interval", interval)):
        expected = alpha_by_hand(matrix, delta)[0]
        assert krippendorff_alpha(matrix, level).value == pytest.approx(expected, abs=1e-9), level


@pytest.mark.parametrize("seed", [21, 22])
def test_many_coder_agreement_definitions(seed):
    rng = random.Random(seed)
    matrix = correlated_coders(rng, 80, [0, 1], agree=0.7, missing=0.25, coders=3)

    # Percent agreement: per unit, the share of agreeing coder pairs; then the mean over units with ≥ 2 values.
    shares = []
    for column in zip(*matrix, strict=True):
        values = [v for v in column if v is not None]
        pairs = list(combinations(values, 2))
        if pairs:
            shares.append(sum(x == y for x, y in pairs) / len(pairs))
    assert percent_agreement(matrix).value == pytest.approx(sum(shares) / len(shares))
    assert percent_agreement(matrix).units == len(shares)

    # Positive agreement: 2a / (2a + b + c) pooled over every pair of coders that both coded a unit.
    a = bc = 0
    for i, j in combinations(range(3), 2):
        for x, y in zip(matrix[i], matrix[j], strict=True):
            if x is None or y is None:
                continue
            a += x == 1 and y == 1
            bc += (x == 1) != (y == 1)
    assert positive_agreement(matrix).value == pytest.approx(2 * a / (2 * a + bc))


def test_many_coder_percent_and_positive_agreement_small_example():
    matrix = [[1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 0]]
    # Unit shares of agreeing pairs: 3/3, 1/3, 1/3, 3/3.
    assert percent_agreement(matrix).value == pytest.approx((1 + 1 / 3 + 1 / 3 + 1) / 4)
    # Pairs with a positive: unit 1 three pairs all positive, unit 2 one of two, unit 3 none of two.
    assert positive_agreement(matrix).value == pytest.approx(2 * 4 / (2 * 4 + 4))


def test_fleiss_equals_hand_formula_with_three_coders():
    rng = random.Random(7)
    matrix = correlated_coders(rng, 40, ["a", "b", "c"], agree=0.6, coders=3)
    units = list(zip(*matrix, strict=True))
    n, m = len(units), 3
    p_bar = sum(sum(c * (c - 1) for c in Counter(u).values()) / (m * (m - 1)) for u in units) / n
    totals = Counter(v for u in units for v in u)
    p_e = sum((t / (n * m)) ** 2 for t in totals.values())
    assert fleiss_kappa(matrix).value == pytest.approx((p_bar - p_e) / (1 - p_e))


def pair_table(a, b) -> PairTable:
    return PairTable(Counter(zip(a, b, strict=True)))


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_weighted_pair_table_equals_the_package_on_the_expanded_matrix(seed):
    rng = random.Random(seed)
    a, b = correlated_coders(rng, 150, [1, 2, 3, 5, 8], agree=0.55)
    table = pair_table(a, b)
    assert table.total == 150
    assert table.kappa().value == pytest.approx(cohen_kappa([a, b]).value)
    assert table.fleiss().value == pytest.approx(fleiss_kappa([a, b]).value)
    assert table.percent_agreement().value == pytest.approx(percent_agreement([a, b]).value)
    for level in ("nominal", "ordinal", "interval"):
        assert table.alpha(level).value == pytest.approx(krippendorff_alpha([a, b], level).value, abs=1e-12)
    names = {1: "one", 2: "two", 3: "three", 5: "five", 8: "eight"}
    labelled = pair_table([names[x] for x in a], [names[x] for x in b])
    scale = {name: float(v) for v, name in names.items()}
    assert labelled.alpha("interval", scale).value == pytest.approx(table.alpha("interval").value)


def test_two_by_two_as_pairs_gives_alpha_and_fleiss_of_the_expanded_characters():
    table = char_counts(1000, [(0, 150)], [(100, 200)])
    a = [1] * 150 + [0] * 850
    b = [0] * 100 + [1] * 100 + [0] * 800
    assert table.pairs().alpha().value == pytest.approx(krippendorff_alpha([a, b]).value, abs=1e-12)
    assert table.pairs().fleiss().value == pytest.approx(fleiss_kappa([a, b]).value)
    assert table.pairs().kappa().value == pytest.approx(table.kappa().value)


def test_pair_table_degenerate_cases():
    assert PairTable({}).alpha().reason == "nothing to compare: no units"
    same = PairTable({(0, 0): 40, (1, 1): 0})
    for stat in (same.kappa(), same.fleiss(), same.alpha()):
        assert stat.value is None and stat.reason.startswith("no variation: every unit has the same value (0)")
    assert same.percent_agreement().value == 1.0
    with pytest.raises(UsageError, match="needs numbers"):
        PairTable({("low", "high"): 1}).alpha("interval")


# ---------------------------------------------------------------------------------------------------------------
# Degenerate cases: explained, never a crash


def test_a_code_nobody_used():
    matrix = [[0, 0, 0, 0], [0, 0, 0, 0]]
    assert percent_agreement(matrix).value == 1.0
    for stat in (cohen_kappa(matrix), fleiss_kappa(matrix), krippendorff_alpha(matrix)):
        assert stat.value is None
        assert stat.reason.startswith("no variation: every unit has the same value (0)")
        assert stat.units == 4
    assert "nobody gave 1" in positive_agreement(matrix).reason
    table = two_by_two(matrix)
    assert table.percent_agreement().value == 1.0
    assert "neither coder applied the code" in table.kappa().reason
    assert "neither coder applied the code" in table.positive_agreement().reason


def test_all_same_value_positive_is_explained_and_perfect_agreement_with_two_values_is_one():
    everywhere = [[1, 1, 1], [1, 1, 1]]
    assert cohen_kappa(everywhere).value is None
    assert "both coders applied it everywhere" in two_by_two(everywhere).kappa().reason
    assert positive_agreement(everywhere).value == 1.0

    perfect = [[1, 0, 1, 0], [1, 0, 1, 0]]
    assert cohen_kappa(perfect).value == 1.0
    assert krippendorff_alpha(perfect).value == pytest.approx(1.0)
    assert fleiss_kappa(perfect).value == 1.0


def test_variation_only_on_unpairable_units_is_no_variation():
    # Left alone the package would return nan with a warning: its value domain counts the lone 1.
    stat = krippendorff_alpha([[0, 0, 1], [0, 0, None]])
    assert stat.value is None and stat.reason.startswith("no variation")


@pytest.mark.parametrize("matrix", [[[1, 0, 1]], [[1, 0, 1], [None, None, None]], []])
def test_one_coder_only(matrix):
    for stat in (
        percent_agreement(matrix),
        positive_agreement(matrix),
        cohen_kappa(matrix),
        fleiss_kappa(matrix),
        krippendorff_alpha(matrix),
    ):
        assert stat.value is None and stat.reason == FEWER_THAN_TWO_CODERS


def test_no_overlapping_units():
    matrix = [[1, 0, None, None], [None, None, 1, 0]]
    for stat in (percent_agreement(matrix), positive_agreement(matrix), krippendorff_alpha(matrix)):
        assert stat.value is None and stat.reason == NO_SHARED_UNIT
    assert cohen_kappa(matrix).reason == "no unit coded by both coders"
    assert fleiss_kappa(matrix).reason == NO_SHARED_UNIT
    assert two_by_two(matrix).total == 0
    assert two_by_two(matrix).kappa().value is None


def test_fleiss_needs_the_same_number_of_ratings_per_unit():
    stat = fleiss_kappa(KRIPPENDORFF_C)
    assert stat.value is None
    assert stat.reason.startswith("Fleiss' κ needs the same number of coders on every unit")
    # Units nobody coded are not a different number of ratings.
    assert fleiss_kappa([[1, 0, None, 1], [1, 0, None, 0]]).defined


def test_cohen_kappa_is_for_two_coders():
    stat = cohen_kappa([[1, 0], [1, 0], [1, 1]])
    assert stat.value is None and "exactly two coders" in stat.reason


def test_nan_counts_as_missing():
    assert percent_agreement([[1, math.nan, 0], [1, 1, 0]]).units == 2


# ---------------------------------------------------------------------------------------------------------------
# Bad input raises


def test_bad_input_raises_qualcode_errors():
    with pytest.raises(InputError, match="row 2 has 2"):
        percent_agreement([[1, 0, 1], [1, 0]])
    with pytest.raises(UsageError, match="unknown level"):
        krippendorff_alpha(KRIPPENDORFF_C, "ratio")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="needs numbers"):
        krippendorff_alpha([["low", "high"], ["low", "low"]], "interval")
    with pytest.raises(InputError, match="no numeric value given for 'high'"):
        krippendorff_alpha([["low", "high"], ["low", "low"]], "ordinal", values={"low": 1})
    with pytest.raises(UsageError):
        two_by_two([[1], [1], [1]])
    with pytest.raises(InputError, match="bad character span"):
        char_counts(100, [(90, 120)], [])
    with pytest.raises(InputError):
        char_counts(100, [(50, 40)], [])


# ---------------------------------------------------------------------------------------------------------------
# Tables, spans and bands


def test_coder_value_counts():
    table = coder_value_counts([["b", "a", None, "b"], ["a", "a", "c", None]])
    assert table.values == ["a", "b", "c"]
    assert table.counts == [[1, 2, 0], [2, 0, 1]]
    assert table.missing == [1, 1]


def test_merge_spans():
    assert merge_spans([(10, 20), (0, 5), (15, 30), (30, 32), (40, 40)]) == [(0, 5), (10, 32)]
    assert char_counts(10, [(0, 5), (0, 5)], []) == TwoByTwo(a_only=5, neither=5)


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (1.0, "reliable"),
        (0.800, "reliable"),
        (0.7999, "tentative conclusions only"),
        (0.667, "tentative conclusions only"),
        (0.6669, "unreliable"),
        (-0.2, "unreliable"),
    ],
)
def test_alpha_band(value, label):
    band = alpha_band(value)
    assert band.label == label
    assert band.convention == KRIPPENDORFF_CONVENTION


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (-0.01, "poor"),
        (0.0, "slight"),
        (0.20, "slight"),
        (0.205, "fair"),
        (0.40, "fair"),
        (0.41, "moderate"),
        (0.60, "moderate"),
        (0.61, "substantial"),
        (0.80, "substantial"),
        (0.81, "almost perfect"),
        (1.0, "almost perfect"),
    ],
)
def test_kappa_band(value, label):
    band = kappa_band(value)
    assert band.label == label
    assert band.convention == LANDIS_KOCH_CONVENTION
