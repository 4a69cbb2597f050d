"""The classifier's arithmetic: L2-regularised logistic regression, the decision threshold that maximises F1, and
isotonic calibration, in numpy alone.

The features are a few dozen dense numbers per turn (`suggest.features`), so Newton's method on the whole training
set converges in a dozen steps and is exact and deterministic: the same decisions always give the same weights.
"""

from __future__ import annotations

import numpy as np

L2 = 1.0  # the penalty on the squared weights (the bias is not penalised); cross-validation on the shipped corpus
STEPS = 50


def fit(x: np.ndarray, y: np.ndarray, l2: float = L2) -> tuple[np.ndarray, float]:
    """Weights and bias minimising the summed log-loss plus L2/2·|w|² (Newton's method)."""
    n, d = x.shape
    a = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0
    for _ in range(STEPS):
        p = _sigmoid(a @ w)
        grad = a.T @ (p - y) + penalty * w
        hess = (a * (p * (1 - p))[:, None]).T @ a + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w[:-1], float(w[-1])


def predict(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | float) -> np.ndarray:
    return _sigmoid(x @ weights + bias)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


def best_threshold(scores: np.ndarray, y: np.ndarray, default: float = 0.5) -> float:
    """The score from which calling a label gives the highest F1 on these (out-of-fold) scores; the higher one on a
    tie, since a wrong suggestion costs a coder more than a missing one. DEFAULT when there is no positive."""
    if not y.any():
        return default
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order], y[order].astype(float)
    tp = np.cumsum(t)
    called = np.arange(1, len(s) + 1)
    f1 = 2 * tp / (called + t.sum())
    last = np.r_[s[1:] != s[:-1], True]  # a threshold can only sit at the last of equal scores
    f1 = np.where(last, f1, -1)
    best = np.flatnonzero(f1 == f1.max())[0]
    return float(s[best])


def isotonic(scores: np.ndarray, y: np.ndarray) -> tuple[list[float], list[float]]:
    """Pool-adjacent-violators: the non-decreasing step function of score that best fits the outcomes, as points
    (mean score of a block, share of positives in it) for `np.interp`."""
    order = np.argsort(scores, kind="stable")
    blocks: list[list[float]] = []  # [sum of scores, sum of outcomes, count]
    for s, t in zip(scores[order].tolist(), y[order].astype(float).tolist(), strict=True):
        blocks.append([s, t, 1.0])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            s2, t2, n2 = blocks.pop()
            blocks[-1][0] += s2
            blocks[-1][1] += t2
            blocks[-1][2] += n2
    return [b[0] / b[2] for b in blocks], [b[1] / b[2] for b in blocks]


def calibrated(score: np.ndarray | float, points: tuple[list[float], list[float]]) -> np.ndarray:
    xs, ys = points
    return np.interp(score, xs, ys) if xs else np.asarray(score)
