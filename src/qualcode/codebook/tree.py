"""The code tree as the rest of qualcode reads it: typed codes, and the rules that follow from the tree.

Each rule of the codebook has its home here and nowhere else:
- a code's path ("Relevance/Constituent needs and priorities") and its criterion (its top-level ancestor);
- when a suggestion is shown: its score reaches the code's `threshold`, else the codebook's `min_score`;
- which codes exclude each other: the children of an exclusive parent (at most one per segment).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlite_utils import Database

from qualcode.errors import NotFoundError, UsageError

DEFAULT_MIN_SCORE = 0.5


@dataclass(frozen=True, slots=True)
class Code:
    id: int
    key: str
    name: str
    path: str
    parent_id: int | None
    position: int
    depth: int
    criterion_id: int  # the top-level ancestor (itself for a top-level code)
    criterion: str  # that ancestor's name
    guid: str
    colour: str | None = None
    definition: str | None = None
    include: str | None = None
    exclude: str | None = None
    examples: tuple[str, ...] = ()
    codable: bool = True
    exclusive: bool = False
    value: float | None = None
    threshold: float | None = None
    patterns: dict[str, list[dict]] = field(default_factory=dict, hash=False)  # language → patterns
    pattern_hash: str = ""


@dataclass(frozen=True, slots=True)
class Settings:
    name: str
    version: str | None
    language: str
    min_score: float
    hash: str
    source_file: str | None
    loaded_at: str


SETTINGS_COLUMNS = "name, version, language, min_score, hash, source_file, loaded_at"


def settings(db: Database) -> Settings | None:
    row = db.execute(f"SELECT {SETTINGS_COLUMNS} FROM codebook").fetchone()
    return Settings(*row) if row else None


def require_settings(db: Database) -> Settings:
    s = settings(db)
    if s is None:
        raise NotFoundError("the project has no codebook yet: load one with 'qualcode codebook load FILE.yml'")
    return s


class CodeTree:
    """Every code of a codebook in tree order (parents before children, siblings by position)."""

    def __init__(self, codes: Iterable[Code], settings: Settings | None = None):
        self.codes: list[Code] = list(codes)
        self.settings = settings
        self._by_id = {c.id: c for c in self.codes}
        self._children: dict[int | None, list[Code]] = {}
        for c in self.codes:
            self._children.setdefault(c.parent_id, []).append(c)

    @classmethod
    def load(cls, db: Database, *, require: bool = False) -> CodeTree:
        s = require_settings(db) if require else settings(db)
        return cls.from_rows([dict(r) for r in db.query("SELECT * FROM codes ORDER BY position, id")], s)

    @classmethod
    def from_rows(cls, rows: list[dict], settings: Settings | None = None) -> CodeTree:
        """From rows of a `codes` table (this project's or another's, as merge reads them)."""
        by_id = {r["id"]: r for r in rows}
        children: dict[int | None, list[dict]] = {}
        for r in rows:
            children.setdefault(r["parent_id"], []).append(r)
        out: list[Code] = []

        def walk(parent_id: int | None, prefix: str, depth: int, top: dict | None) -> None:
            for r in children.get(parent_id, []):
                root = top or r
                path = f"{prefix}/{r['name']}" if prefix else r["name"]
                out.append(_code(r, path, depth, root))
                walk(r["id"], path, depth + 1, root)

        walk(None, "", 0, None)
        if len(out) != len(by_id):  # a parent cycle or a dangling parent: `qualcode check` names it
            raise NotFoundError("the code tree is broken (a code's parent is missing): run 'qualcode check'")
        return cls(out, settings)

    # --- lookups ---------------------------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Code]:
        return iter(self.codes)

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, code_id: int) -> Code:
        return self._by_id[code_id]

    def get(self, code_id: int | None) -> Code | None:
        return self._by_id.get(code_id) if code_id is not None else None

    def __contains__(self, code_id: object) -> bool:
        return code_id in self._by_id

    @property
    def min_score(self) -> float:
        return self.settings.min_score if self.settings else DEFAULT_MIN_SCORE

    @property
    def language(self) -> str:
        return self.settings.language if self.settings else "en"

    def roots(self) -> list[Code]:
        return list(self._children.get(None, []))

    def children(self, code_id: int | None) -> list[Code]:
        return list(self._children.get(code_id, []))

    def codable(self) -> list[Code]:
        return [c for c in self.codes if c.codable]

    def by_path(self) -> dict[str, Code]:
        return {c.path: c for c in self.codes}

    def by_key(self) -> dict[str, Code]:
        return {c.key: c for c in self.codes}

    def by_guid(self) -> dict[str, Code]:
        """GUIDs compared in upper case: REFI-QDA peers write either case."""
        return {c.guid.upper(): c for c in self.codes}

    def subtree_ids(self, code_id: int) -> list[int]:
        """The code and every code below it, in tree order."""
        out = [code_id]
        for child in self._children.get(code_id, []):
            out += self.subtree_ids(child.id)
        return out

    def colour(self, code_id: int) -> str | None:
        """The code's colour, else its nearest ancestor's: a child drawn in its branch's colour."""
        code: Code | None = self._by_id[code_id]
        while code is not None and not code.colour:
            code = self.get(code.parent_id)
        return code.colour if code is not None else None

    def criterion_of(self, code_id: int) -> Code:
        return self._by_id[self._by_id[code_id].criterion_id]

    def resolve(self, name: str, *, codable: bool | None = None) -> Code:
        """A code by full path, key, or unambiguous name (case-insensitive); errors suggest close matches."""
        if not self.codes and self.settings is None:
            raise NotFoundError("the project has no codebook yet: load one with 'qualcode codebook load FILE.yml'")
        text = name.strip().strip("/").casefold()
        hits = [c for c in self.codes if c.path.casefold() == text or c.key.casefold() == text]
        if not hits:
            hits = [c for c in self.codes if c.name.casefold() == text]
        if len(hits) > 1:
            raise UsageError(f"code name {name!r} is ambiguous: {', '.join(c.path for c in hits)}; give the full path")
        if not hits:
            candidates = dict.fromkeys([c.path for c in self.codes] + [c.name for c in self.codes])
            close = difflib.get_close_matches(name, list(candidates), 3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise NotFoundError(f"no code {name!r} in the codebook{hint}")
        code = hits[0]
        if codable and not code.codable:
            raise UsageError(f"code {code.path!r} is a folder (codable: false) and cannot be applied")
        return code

    # --- the shown rule --------------------------------------------------------------------------------------------

    def threshold(self, code_id: int, default: float | None = None) -> float:
        """The score at which a suggestion of this code is shown: its own threshold, else the codebook's min_score
        (or DEFAULT, where a command lets the user override the codebook's)."""
        own = self._by_id[code_id].threshold
        if own is not None:
            return own
        return self.min_score if default is None else default

    def thresholds(self, default: float | None = None) -> dict[int, float]:
        return {c.id: self.threshold(c.id, default) for c in self.codes}

    def shown(self, code_id: int, score: float, default: float | None = None) -> bool:
        return score >= self.threshold(code_id, default)

    def shown_sql(self, db: Database, alias: str = "s", default: float | None = None) -> str:
        """The shown rule as an SQL condition on suggestions aliased ALIAS: the same thresholds, from this tree."""
        thresholds = self.thresholds(default)
        low = min(thresholds.values(), default=0.0)
        db.conn.create_function(
            "qualcode_threshold", 1, lambda code_id: thresholds.get(code_id, 2.0), deterministic=True
        )
        # The constant lets SQLite use the score index before calling the function on what is left.
        return f"({alias}.score >= {low!r} AND {alias}.score >= qualcode_threshold({alias}.code_id))"

    # --- the exclusive rule ----------------------------------------------------------------------------------------

    def exclusive_parent(self, code_id: int) -> Code | None:
        """The exclusive parent this code is an option of, if any."""
        parent = self.get(self._by_id[code_id].parent_id)
        return parent if parent is not None and parent.exclusive else None

    def one_per_scale(self, scores: dict[int, float]) -> dict[int, float]:
        """SCORES (code id → score) keeping, of each exclusive parent's options, the best-scoring one only (the
        first in tree order on a tie); codes outside exclusive scales all stay."""
        best: dict[int, int] = {}
        for cid in sorted(scores, key=lambda c: (-scores[c], self._by_id[c].position if c in self._by_id else 0)):
            parent = self.exclusive_parent(cid) if cid in self._by_id else None
            if parent is not None:
                best.setdefault(parent.id, cid)
        keep = set(best.values())
        return {c: s for c, s in scores.items() if c in keep or c not in self._by_id or not self.exclusive_parent(c)}

    def stored_clashes(self, db: Database, *, turn_id: int | None = None, coder: str | None = None) -> list[dict]:
        """Live codings that break an exclusive scale: the view `exclusive_clashes` (the rule applied to stored
        codings), each with its turn number and the paths of the scale and both options."""
        sql = "SELECT x.*, t.idx AS turn FROM exclusive_clashes x JOIN turns t ON t.id = x.turn_id"
        where, params = [], []
        for column, value in (("x.turn_id", turn_id), ("x.coder", coder)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql += (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY x.interview_id, t.idx, x.coder"
        out = []
        for r in db.query(sql, params):
            r = dict(r)
            r.update(
                parent=self[r["parent_id"]].path, code=self[r["code_id"]].path, other=self[r["other_code_id"]].path
            )
            out.append(r)
        return out

    @staticmethod
    def clash_message(clashes: list[dict], *, limit: int = 3) -> str:
        shown = "; ".join(
            f"{c['interview_id']} turn {c['turn']}: {c['code']} and {c['other']} by {c['coder']}"
            for c in clashes[:limit]
        )
        more = f", and {len(clashes) - limit} more" if len(clashes) > limit else ""
        return f"{clashes[0]['parent']} is exclusive (one option per passage), but {shown}{more}"

    def exclusive_conflicts(self, code_ids: Iterable[int]) -> list[tuple[Code, list[Code]]]:
        """(parent, options) for each exclusive parent with two or more of CODE_IDS among its children."""
        groups: dict[int, list[Code]] = {}
        for cid in dict.fromkeys(code_ids):
            parent = self.exclusive_parent(cid) if cid in self._by_id else None
            if parent is not None:
                groups.setdefault(parent.id, []).append(self._by_id[cid])
        return [(self._by_id[p], opts) for p, opts in groups.items() if len(opts) > 1]


def _code(r: dict, path: str, depth: int, root: dict) -> Code:
    return Code(
        id=r["id"],
        key=r["key"],
        name=r["name"],
        path=path,
        parent_id=r["parent_id"],
        position=r.get("position") or 0,
        depth=depth,
        criterion_id=root["id"],
        criterion=root["name"],
        guid=r["guid"],
        colour=r.get("colour"),
        definition=r.get("definition"),
        include=r.get("include"),
        exclude=r.get("exclude"),
        examples=tuple(_json(r.get("examples"), [])),
        codable=bool(r.get("codable", 1)),
        exclusive=bool(r.get("exclusive", 0)),
        value=r.get("value"),
        threshold=r.get("threshold"),
        patterns=_json(r.get("patterns"), {}),
        pattern_hash=r.get("pattern_hash") or "",
    )


def _json(value, default):
    if value is None or value == "":
        return default
    return json.loads(value) if isinstance(value, str) else value
