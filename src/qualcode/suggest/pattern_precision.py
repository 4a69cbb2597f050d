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
    found = scorer.matches([e.text for e in data], [e.language for e in data])
    for ex, (language, matches) in zip(data, found, strict=True):
        given = {a for c in ex.codes if c in tree for a in _with_ancestors(tree, c)}
        criteria = {tree[c].criterion_id for c in given}
        for key in dict.fromkeys((m.code_id, language, m.pattern) for m in matches if m.code_id in scope):
            row = rows.get(key)
            if row is None:
                m = next(m for m in matches if (m.code_id, m.pattern) == (key[0], key[2]))
                row = rows[key] = PatternRow(tree[m.code_id].path, language, m.pattern + 1, m.label, m.weight)
            row.turns += 1
            row.code_right += key[0] in given
            row.criterion_right += tree[key[0]].criterion_id in criteria
    kept = [r for r in rows.values() if r.turns >= min_turns]
    ordered = sorted(kept, key=lambda r: (r.criterion_right / r.turns, r.code_right / r.turns, -r.turns, r.code))
    return PatternReport(coder, len(data), tree.language, ordered)


def _with_ancestors(tree: CodeTree, code_id: int) -> list[int]:
    out = [code_id]
    while (parent := tree[out[-1]].parent_id) is not None:
        out.append(parent)
    return out
