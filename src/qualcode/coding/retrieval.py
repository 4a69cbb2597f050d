"""Retrieval: coded segments, full-text search (and lexical autocoding from it), code co-occurrence, and bulk
acceptance of suggestions.

Segments and search share one filter model. A segment or turn has the attributes of its speaker and of its interview;
where both levels define a name (stakeholder_group does in the shipped corpus), the participant's value wins, because
it describes the person who said the words. Values compare case-insensitively (ASCII, as SQLite's NOCASE).
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from sqlite_utils import Database

from qualcode.codebook.tree import Code, CodeTree
from qualcode.coding.codings import add_codes, ensure_coder, new_batch, turn_by_id
from qualcode.errors import NotFoundError, UsageError
from qualcode.ingest import interviews
from qualcode.ingest.participants import attribute_names, normalise_gender
from qualcode.store.db import transaction
from qualcode.store.queries import require_coders, source_kind

SNIPPET_TOKENS = 16
LEVELS = ("code", "criterion")


@dataclass
class Filters:
    where: list[tuple[str, str]] = field(default_factory=list)  # (attribute, value), ANDed
    interviews: list[str] = field(default_factory=list)  # ORed among themselves


def parse_where(items: list[str] | None) -> list[tuple[str, str]]:
    """'case_study=Ethiopia' → ('case_study', 'Ethiopia'); anything without a name, '=' and a value is a usage error."""
    out = []
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"--where expects ATTR=VALUE (for example gender=woman), got {item!r}")
        out.append((name.strip(), value.strip()))
    return out


def _ids_param(ids) -> str:
    # One JSON parameter instead of a variable number of '?': SQLite caps the number of parameters.
    return json.dumps(list(ids))


def _filter_sql(db: Database, f: Filters | None) -> tuple[str, list]:
    """SQL conditions over aliases t (turns), s (speakers), p (participants, left-joined)."""
    if f is None:
        return "", []
    sql, params = "", []
    if f.interviews:
        for iid in f.interviews:
            interviews.require(db, iid)
        sql += " AND t.interview_id IN (SELECT value FROM json_each(?))"
        params.append(_ids_param(f.interviews))
    known = attribute_names(db)
    names = {n.casefold(): n for n in [*known["participant"], *known["interview"]]}
    for name, value in f.where:
        if name.casefold() in ("source", "kind"):  # the kind of source: interviews, survey answers, documents
            sql += " AND t.interview_id IN (SELECT id FROM interviews WHERE kind = ?)"
            params.append(source_kind(value))
        elif name.casefold() == "language":  # the source's language (en, fr, es)
            sql += " AND t.interview_id IN (SELECT id FROM interviews WHERE language = ? COLLATE NOCASE)"
            params.append(value)
        elif name.casefold() == "gender":
            sql += " AND p.gender = ? COLLATE NOCASE"
            params.append(normalise_gender(value))
        elif name.casefold() in names:
            sql += """ AND coalesce(
                (SELECT value FROM participant_attributes WHERE participant_id = s.participant_id AND name = ?),
                (SELECT value FROM interview_attributes WHERE interview_id = t.interview_id AND name = ?)
            ) = ? COLLATE NOCASE"""
            params += [names[name.casefold()], names[name.casefold()], value]
        else:
            listing = ", ".join(sorted({"gender", "language", "source", *names.values()}))
            raise NotFoundError(f"--where {name}: no attribute {name!r} in this project (known: {listing})")
    return sql, params


def _context(db: Database, turn_ids) -> dict[int, dict]:
    """turn id → interview, turn index, speaker, participant, gender, stakeholder_group and both attribute levels."""
    rows = db.execute(
        """SELECT t.id, t.interview_id, t.idx, t.text, s.label, s.participant_id, p.gender, p.kind, i.kind,
                  t.page, t.context, i.language
           FROM turns t JOIN speakers s ON s.id = t.speaker_id LEFT JOIN participants p ON p.id = s.participant_id
           JOIN interviews i ON i.id = t.interview_id
           WHERE t.id IN (SELECT value FROM json_each(?))""",
        [_ids_param(set(turn_ids))],
    ).fetchall()
    pattrs: dict[str, dict[str, str]] = defaultdict(dict)
    for pid, name, value in db.execute(
        "SELECT participant_id, name, value FROM participant_attributes WHERE participant_id IN "
        "(SELECT value FROM json_each(?)) ORDER BY rowid",
        [_ids_param({r[5] for r in rows if r[5]})],
    ):
        pattrs[pid][name] = value
    iattrs = interviews.interview_attributes(db)
    out = {}
    for tid, iid, idx, text, label, pid, gender, person_kind, kind, page, context, language in rows:
        pa, ia = dict(pattrs.get(pid, {})), dict(iattrs.get(iid, {}))
        out[tid] = {
            "interview": iid,
            "turn": idx,
            "source_kind": kind,  # interview | survey | document
            "language": language,  # the source's: quotes are marked with it
            "speaker_kind": person_kind or "interviewer",  # interviewee | respondent | document | interviewer
            "page": page,
            "context": context,
            "speaker": label,
            "participant": pid,
            "gender": gender,
            "stakeholder_group": pa.get("stakeholder_group", ia.get("stakeholder_group")),
            "participant_attributes": pa,
            "interview_attributes": ia,
            "turn_text": text,
        }
    return out


# --- segments ------------------------------------------------------------------------------------------------------


def segments(
    db: Database, code: str, *, coder: str | None = None, filters: Filters | None = None, subcodes: bool = True
) -> dict:
    """Live codings of CODE (and, by default, of every code below it), one row per coded span, in transcript order.

    Orphaned codings (not anchored in the current text) have no turn to show; they are counted, not listed.
    """
    tree = CodeTree.load(db)
    target = tree.resolve(code)
    if coder:
        require_coders(db, [coder])
    ids = tree.subtree_ids(target.id) if subcodes else [target.id]
    where, params = _filter_sql(db, filters)
    if coder:
        where += " AND c.coder = ?"
        params.append(coder)
    rows = db.execute(
        f"""SELECT c.id, c.turn_id, c.code_id, c.coder, c.memo, c.start - t.start, c.end - t.start,
                   substr(i.text, c.start + 1, c.end - c.start), c.translation
            FROM live_codings c JOIN turns t ON t.id = c.turn_id JOIN interviews i ON i.id = c.interview_id
            JOIN speakers s ON s.id = t.speaker_id LEFT JOIN participants p ON p.id = s.participant_id
            WHERE c.code_id IN (SELECT value FROM json_each(?)) {where}""",
        [_ids_param(ids), *params],
    ).fetchall()
    ctx = _context(db, {r[1] for r in rows})
    out = []
    for cid, tid, code_id, who, memo, a, b, text, translation in rows:
        row = dict(ctx[tid])
        row.pop("turn_text")
        order = (row["interview"], row["turn"], a, tree[code_id].position, who)
        out.append(
            {
                **row,
                "code": tree[code_id].path,
                "coder": who,
                "memo": memo,
                "start": a,
                "end": b,
                "text": text,
                "translation": translation,  # the coder's, for a quote in another language than the report's
                "coding": cid,
                "_sort": order,
            }
        )
    out.sort(key=lambda r: r.pop("_sort"))
    orphan_sql = (
        "SELECT count(*) FROM live_codings WHERE turn_id IS NULL AND code_id IN (SELECT value FROM json_each(?))"
    )
    orphan_params: list = [_ids_param(ids)]
    if coder:
        orphan_sql += " AND coder = ?"
        orphan_params.append(coder)
    if filters and filters.interviews:
        orphan_sql += " AND interview_id IN (SELECT value FROM json_each(?))"
        orphan_params.append(_ids_param(filters.interviews))
    return {
        "code": target.path,
        "codes": [tree[i].path for i in ids],
        "subcodes": subcodes,
        "segments": out,
        "orphaned": db.execute(orphan_sql, orphan_params).fetchone()[0],
    }


# --- search --------------------------------------------------------------------------------------------------------


FTS_HELP = (
    'the query is FTS5 syntax: words (all must occur), "an exact phrase", OR, NOT, prefix*, NEAR(a b, 5); '
    "put text containing punctuation such as ':' or '-' inside double quotes"
)


def search(
    db: Database,
    query: str,
    *,
    filters: Filters | None = None,
    limit: int | None = None,
    all_turns: bool = False,
    code_as: str | None = None,
    coder: str | None = None,
    mark: tuple[str, str] = ("**", "**"),
) -> dict:
    """Turns matching QUERY, best first (bm25), with a snippet whose matches are wrapped in MARK; at most LIMIT of
    them, with the number that matched as "total".

    With CODE_AS and CODER, every hit listed is coded with that code over the whole turn, as one batch (origin
    'search'), so lexical autocoding can be undone in one step.
    """
    if not query.strip():
        raise UsageError("the search query is empty")
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1")
    code = None
    if code_as:
        if not coder:
            raise UsageError("--code-as needs --coder NAME (or QUALCODE_CODER)")
        code = CodeTree.load(db).resolve(code_as, codable=True)
    where, params = _filter_sql(db, filters)
    if not all_turns:
        where += " AND s.participant_id IS NOT NULL"
    sql = f"""SELECT t.id, bm25(turns_fts), snippet(turns_fts, 0, ?, ?, '…', {SNIPPET_TOKENS})
              FROM turns_fts JOIN turns t ON t.id = turns_fts.rowid JOIN speakers s ON s.id = t.speaker_id
              LEFT JOIN participants p ON p.id = s.participant_id
              WHERE turns_fts MATCH ? {where}
              ORDER BY bm25(turns_fts), t.interview_id, t.idx"""
    try:
        found = db.execute(sql, [*mark, query, *params]).fetchall()
    except sqlite3.OperationalError as e:
        text = str(e)
        if text.startswith(("fts5:", "no such column", "unterminated string", "unknown special query")):
            raise UsageError(f"cannot read the search query {query!r} ({text}); {FTS_HELP}") from None
        raise
    total = len(found)
    found = found[:limit] if limit else found
    ctx = _context(db, [r[0] for r in found])
    hits = []
    for rank, (tid, score, snippet) in enumerate(found, 1):
        row = dict(ctx[tid])
        row["text"] = row.pop("turn_text")
        # bm25() is smaller for better matches; the sign is flipped so a higher score reads as a better match.
        hits.append({"rank": rank, **row, "score": -score, "snippet": snippet, "turn_id": tid})
    result: dict = {"query": query, "total": total, "hits": hits, "coded": None}
    if code and hits:
        result["coded"] = _code_hits(db, [h["turn_id"] for h in hits], code, coder, query)
    return result


def _code_hits(db: Database, turn_ids: list[int], code: Code, coder: str, query: str) -> dict:
    report = {
        "code": code.path,
        "coder": coder,
        "batch": None,
        "turns": len(turn_ids),
        "added": 0,
        "already": 0,
        "no_code_withdrawn": 0,
    }
    with transaction(db):
        coder = ensure_coder(db, coder)
        batch = new_batch(db, coder, "search", description=f"search {query!r} → {code.path}")
        for tid in turn_ids:
            t = turn_by_id(db, tid)
            report["no_code_withdrawn"] += db.execute(
                "SELECT count(*) FROM live_codings WHERE turn_id = ? AND coder = ? AND code_id IS NULL", [tid, coder]
            ).fetchone()[0]
            n = add_codes(db, t, [code.id], coder, a=t.start, b=t.end, memo=None, origin="search", batch_id=batch)
            report["added" if n else "already"] += 1
        if report["added"] or report["no_code_withdrawn"]:
            report["batch"] = batch
        else:  # nothing changed: an empty batch would only clutter the history and the undo stack
            db.execute("DELETE FROM batches WHERE id = ?", [batch])
    return report


# --- co-occurrence -------------------------------------------------------------------------------------------------


def cooccurrence(db: Database, *, coder: str | None = None, level: str = "code") -> dict:
    """Pairs of codes (or criteria) applied to the same turns: count of turns with both, and Jaccard (both / either).

    A unit is one turn as coded by one coder: with --coder, that coder's turns; without, every coder's turns count
    separately, so two coders who disagree on a turn do not make their codes look co-occurring. A coding anywhere in
    a turn counts for the whole turn; "no code" decisions and orphaned codings are left out.
    """
    if level not in LEVELS:
        raise UsageError(f"--level must be one of {', '.join(LEVELS)}")
    tree = CodeTree.load(db, require=True)
    if coder:
        require_coders(db, [coder])
    label = {c.id: c.path if level == "code" else c.criterion for c in tree}
    order = list(dict.fromkeys(label.values()))
    sql = "SELECT coder, turn_id, code_id FROM live_codings WHERE code_id IS NOT NULL AND turn_id IS NOT NULL"
    params = []
    if coder:
        sql += " AND coder = ?"
        params.append(coder)
    units: dict[str, set] = defaultdict(set)
    for who, tid, cid in db.execute(sql, params):
        units[label[cid]].add((who, tid))
    labels = [x for x in order if units[x]]
    pairs = []
    for a, b in combinations(labels, 2):
        both = len(units[a] & units[b])
        if both:
            either = len(units[a] | units[b])
            pairs.append(
                {
                    "a": a,
                    "b": b,
                    "both": both,
                    "either": either,
                    "jaccard": both / either,
                    "a_turns": len(units[a]),
                    "b_turns": len(units[b]),
                }
            )
    pairs.sort(key=lambda p: (-p["both"], -p["jaccard"], order.index(p["a"]), order.index(p["b"])))
    matrix = [[len(units[a] & units[b]) for b in labels] for a in labels]
    jaccard = [[len(units[a] & units[b]) / len(units[a] | units[b]) for b in labels] for a in labels]
    return {
        "level": level,
        "coder": coder,
        "units": len(set().union(*units.values())) if units else 0,
        "labels": labels,
        "turns": {x: len(units[x]) for x in labels},
        "matrix": matrix,
        "jaccard": jaccard,
        "pairs": pairs,
    }


# --- accepting suggestions -----------------------------------------------------------------------------------------


def accept_suggestions(
    db: Database, coder: str, min_score: float, *, code: str | None = None, interview_ids: list[str] | None = None
) -> dict:
    """Turn-level suggestions that are shown (score at or above the code's threshold, else the codebook's min_score)
    and score at least MIN_SCORE become CODER's codings, as one batch (origin 'suggestion', with the score).

    Turns the coder has already decided (any live coding, "no code" included) are skipped whole: a bulk accept never
    overrides a person's decision. CODE limits it to that code and the codes below it.
    """
    if not 0 <= min_score <= 1:
        raise UsageError(f"--min-score must be between 0 and 1, got {min_score}")
    tree = CodeTree.load(db, require=True)
    sql = f"""SELECT s.turn_id, s.code_id, max(s.score) FROM suggestions s
              JOIN codes k ON k.id = s.code_id JOIN turns t ON t.id = s.turn_id
              WHERE s.unit = 'turn' AND {tree.shown_sql(db, "s")} AND s.score >= ? AND k.codable = 1"""
    params: list = [min_score]
    if code:
        sql += " AND s.code_id IN (SELECT value FROM json_each(?))"
        params.append(_ids_param(tree.subtree_ids(tree.resolve(code).id)))
    for iid in interview_ids or []:
        interviews.require(db, iid)
    if interview_ids:
        sql += " AND s.interview_id IN (SELECT value FROM json_each(?))"
        params.append(_ids_param(interview_ids))
    sql += " GROUP BY s.turn_id, s.code_id ORDER BY t.interview_id, t.idx, k.position"
    coder = coder.strip()
    report = {
        "coder": coder,
        "min_score": min_score,
        "batch": None,
        "turns": 0,
        "codings": 0,
        "skipped_turns": 0,
        "lesser_options_left_out": 0,
        "by_code": {},
    }
    with transaction(db):
        ensure_coder(db, coder)
        by_turn: dict[int, dict[int, float]] = defaultdict(dict)
        for tid, cid, score in db.execute(sql, params).fetchall():
            by_turn[tid][cid] = score
        decided = {
            r[0]
            for r in db.execute(
                "SELECT DISTINCT turn_id FROM live_codings WHERE coder = ? AND turn_id IS NOT NULL", [coder]
            )
        }
        todo = {tid: tree.one_per_scale(s) for tid, s in by_turn.items() if tid not in decided}
        report["skipped_turns"] = len(by_turn) - len(todo)
        # Of an exclusive scale a turn takes its best option: the others are counted, never stored beside it.
        report["lesser_options_left_out"] = sum(len(by_turn[tid]) - len(s) for tid, s in todo.items())
        if not todo:
            return report
        batch = new_batch(db, coder, "accept-suggestions", description=f"accept suggestions scoring >= {min_score}")
        counts: dict[int, int] = defaultdict(int)
        for tid, scores in todo.items():
            t = turn_by_id(db, tid)
            for cid in scores:
                counts[cid] += add_codes(
                    db,
                    t,
                    [cid],
                    coder,
                    a=t.start,
                    b=t.end,
                    memo=None,
                    origin="suggestion",
                    batch_id=batch,
                    scores=scores,
                )
        report.update(batch=batch, turns=len(todo), codings=sum(counts.values()))
        ordered = sorted(counts, key=lambda cid: tree[cid].position)
        report["by_code"] = {tree[cid].path: counts[cid] for cid in ordered}
    return report
