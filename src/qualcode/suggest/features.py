"""What the text classifier reads of a turn: its lowercased lemmas, then one token per code (and its criterion)
whose patterns matched, so the model can learn how far to trust each code's patterns. The pattern tokens name
codes, not words, so they mean the same in every language."""

from __future__ import annotations

from qualcode.codebook.tree import CodeTree


def features(doc, matches, marks: dict[int, tuple[str, ...]]) -> str:
    words = [t.lemma_ for t in doc if not (t.is_punct or t.is_space)]
    return " ".join(words + sorted({tok for m in matches for tok in marks.get(m.code_id, ())}))


def feature_marks(tree: CodeTree) -> dict[int, tuple[str, ...]]:
    """code id → the tokens its pattern matches add: one for the code, one for its criterion."""
    return {c.id: (_token("pat", c.key), _token("crit", tree.criterion_of(c.id).key)) for c in tree}


def _token(prefix: str, key: str) -> str:
    return prefix + "_" + "".join(ch if ch.isalnum() else "_" for ch in key)
