"""How each pattern does against a coder's decisions: on how many of the turns the coder decided it matches, and on
how many of those the coder applied its code (or a code below it), or any code of its criterion.

This is what narrowing patterns needs. The model reads one pattern score per code, so a pattern that matches many
turns its code was not given on raises that code's score where the coder disagrees, and no training can tell it
from the code's good patterns: it has to be narrowed or dropped in the codebook. Judge a change on other coders'
decisions than the ones that showed the pattern up, as the held-out sets are used (heldout/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from qualcode.codebook.tree import CodeTree
from qualcode.errors import UsageError
from qualcode.store.queries import require_coders
from qualcode.suggest.classifier import examples
from qualcode.suggest.score import Scorer


@dataclass
class PatternRow:
    code: str  # the code's path
    language: str
    pattern: int  # 1-based, in the code's list for that language, as `codebook load` names patterns
    label: str
    weight: float
    turns: int = 0  # decided turns it matches (a turn counts once)
    code_right: int = 0  # of those, turns the coder applied its code or a code below it
    criterion_right: int = 0  # turns the coder applied any code of its criterion

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "language": self.language,
            "pattern": self.pattern,
            "label": self.label,
            "weight": self.weight,
            "turns": self.turns,
            "code right": self.code_right,
            "code precision": self.code_right / self.turns,
            "criterion right": self.criterion_right,
            "criterion precision": self.criterion_right / self.turns,
        }


@dataclass
class PatternReport:
    coder: str
    turns: int  # turns the coder decided
    language: str  # the codebook's
    rows: list[PatternRow]  # the patterns matching at least MIN_TURNS of them, least precise (criterion level) first


def pattern_precision(db: Database, coder: str, *, code: str | None = None, min_turns: int = 1) -> PatternReport:
    """Every pattern (of CODE's subtree, if given) that matches at least MIN_TURNS of the turns CODER decided."""
    require_coders(db, [coder])
    data = examples(db, coder)
    if not data:
        raise UsageError(f"coder {coder!r} has no decided turns to measure the patterns against")
    tree = CodeTree.load(db, require=True)
    scope = set(tree.subtree_ids(tree.resolve(code).id)) if code else {c.id for c in tree}
    scorer = Scorer.build(db, use_model=False)
    rows: dict[tuple[int, str, int], PatternRow] = {}
    below = {c: set(tree.subtree_ids(c)) for c in scope}
    found = scorer.matches([e.text for e in data], [e.language for e in data])
    for ex, (language, matches) in zip(data, found, strict=True):
        criteria = {tree[c].criterion_id for c in ex.codes if c in tree}
        first = {}  # a pattern counts once per turn, however often it matches there
        for m in matches:
            if m.code_id in scope:
                first.setdefault((m.code_id, m.pattern), m)
        for (code_id, idx), m in first.items():
            key = (code_id, language, idx)
            row = rows.get(key) or rows.setdefault(
                key, PatternRow(tree[code_id].path, language, idx + 1, m.label, m.weight)
            )
            row.turns += 1
            row.code_right += bool(ex.codes & below[code_id])
            row.criterion_right += tree[code_id].criterion_id in criteria
    kept = [r for r in rows.values() if r.turns >= min_turns]
    ordered = sorted(kept, key=lambda r: (r.criterion_right / r.turns, r.code_right / r.turns, -r.turns, r.code))
    return PatternReport(coder, len(data), tree.language, ordered)
