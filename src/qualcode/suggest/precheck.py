"""The pre-check rule: which suggestions a coder finds already checked when a turn is first shown.

Only those whose calibrated probability of being right (measured by cross-validation when the model was trained,
`suggest.classifier`) reaches PRECHECK, and of an exclusive scale's options only the best one: a pre-checked wrong
code invites a tired coder to accept it. Pattern evidence alone has no measured probability and is never
pre-checked. The session and the evaluation that measures the rule both call `prechecked`.
"""

from __future__ import annotations

from qualcode.codebook.tree import CodeTree

PRECHECK = 0.8


def prechecked(tree: CodeTree, suggestions: dict[int, tuple[float, float | None]]) -> set[int]:
    """The codes pre-checked among SUGGESTIONS (code id → (score, probability)), all of them shown."""
    likely = {c: score for c, (score, prob) in suggestions.items() if prob is not None and prob >= PRECHECK}
    return set(tree.one_per_scale(likely))
