"""The classifier's arithmetic, from scikit-learn: L2-regularised logistic regression, the decision threshold that
maximises F1 (from the precision-recall curve), and isotonic calibration.

The features are a few dozen dense numbers per turn (`suggest.features`); lbfgs on the whole training set is exact
enough and deterministic: the same decisions always give the same weights. What is stored is plain numbers (weights,
bias, the threshold, the calibration's points), so applying a model needs numpy alone.
"""

from __future__ import annotations

import numpy as np

L2 = 1.0  # the penalty on the squared weights (the bias is not penalised); cross-validation on the shipped corpus
LOGIT_CAP = 35.0  # a label with one class only in the training data: a certain no (or yes), as the sigmoid's range


def fit(x: np.ndarray, y: np.ndarray, l2: float = L2) -> tuple[np.ndarray, float]:
    """Weights and bias minimising the summed log-loss plus L2/2·|w|²."""
    from sklearn.linear_model import LogisticRegression

    if y.min() == y.max():  # scikit-learn needs both classes; nothing to learn but the constant
        return np.zeros(x.shape[1]), LOGIT_CAP if y.max() else -LOGIT_CAP
    model = LogisticRegression(C=1.0 / l2, solver="lbfgs", max_iter=1000, tol=1e-8)
    model.fit(x, y)
    return model.coef_[0].copy(), float(model.intercept_[0])


def predict(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x @ weights + bias, -LOGIT_CAP, LOGIT_CAP)))


def best_threshold(scores: np.ndarray, y: np.ndarray, default: float = 0.5) -> float:
    """The score from which calling a label gives the highest F1 on these (out-of-fold) scores; the higher one on a
    tie, since a wrong suggestion costs a coder more than a missing one. DEFAULT when there is no positive."""
    from sklearn.metrics import precision_recall_curve

    if not y.any():
        return default
    precision, recall, thresholds = precision_recall_curve(y, scores)
    p, r = precision[:-1], recall[:-1]  # the last point (recall 0) has no threshold
    f1 = np.divide(2 * p * r, p + r, out=np.zeros_like(p), where=(p + r) > 0)
    return float(thresholds[np.flatnonzero(f1 == f1.max())[-1]])


def isotonic(scores: np.ndarray, y: np.ndarray) -> tuple[list[float], list[float]]:
    """The non-decreasing step function of score that best fits the outcomes, as the points `np.interp` needs."""
    from sklearn.isotonic import IsotonicRegression

    if len(scores) == 0:
        return [], []
    fitted = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, y.astype(float))
    return fitted.X_thresholds_.tolist(), fitted.y_thresholds_.tolist()


def calibrated(score: np.ndarray | float, points: tuple[list[float], list[float]]) -> np.ndarray:
    xs, ys = points
    return np.interp(score, xs, ys) if xs else np.asarray(score)
