"""The stored codebook written back out: a tree with counts, YAML (loadable again), Markdown."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict

import yaml
from sqlite_utils import Database

from qualcode.codebook.parse import DEFAULT_WEIGHT
from qualcode.codebook.tree import CodeTree


def tree(db: Database, coder: str | None = None) -> dict:
    """Settings and nested codes with the number of live codings (every coder's pooled, or CODER's) and shown
    suggestions per code."""
    from qualcode.store.queries import require_coders

    tree = CodeTree.load(db, require=True)
    if coder is not None:
        require_coders(db, [coder])
    sql = "SELECT code_id, count(*) FROM live_codings WHERE code_id IS NOT NULL" + (" AND coder = ?" if coder else "")
    codings = Counter(dict(db.execute(sql + " GROUP BY code_id", [coder] if coder else [])))
    # Of those, the orphaned: kept, but in no figure until re-anchored (every export says so).
    orphaned = Counter(dict(db.execute(sql + " AND turn_id IS NULL GROUP BY code_id", [coder] if coder else [])))
    suggestions = Counter(
        dict(
            db.execute(f"SELECT code_id, count(*) FROM suggestions s WHERE {tree.shown_sql(db, 's')} GROUP BY code_id")
        )
    )
    nodes: dict[int, dict] = {}
    roots: list[dict] = []
    for c in tree:
        node = {
            "key": c.key,
            "name": c.name,
            "path": c.path,
            "colour": c.colour,
            "codable": c.codable,
            "exclusive": c.exclusive,
            "value": c.value,
            "threshold": c.threshold,
            "definition": c.definition,
            "include": c.include,
            "exclude": c.exclude,
            "examples": list(c.examples),
            "patterns": {lang: list(ps) for lang, ps in c.patterns.items()},
            "codings": codings[c.id],
            "orphaned": orphaned[c.id],
            "suggestions": suggestions[c.id],
            "children": [],
        }
        nodes[c.id] = node
        (nodes[c.parent_id]["children"] if c.parent_id else roots).append(node)
    return {**asdict(tree.settings), "coder": coder, "codes": roots}


def _pattern_out(p: dict):
    body = p["phrase"] if "phrase" in p else p["tokens"]
    if p.get("weight", DEFAULT_WEIGHT) != DEFAULT_WEIGHT:
        return {"phrase" if "phrase" in p else "tokens": body, "weight": p["weight"]}
    return body


def _code_out(node: dict, language: str) -> dict:
    out: dict = {"key": node["key"], "name": node["name"]}
    for k in ("colour", "definition", "include", "exclude"):
        if node[k]:
            out[k] = node[k]
    if node["examples"]:
        out["examples"] = node["examples"]
    if not node["codable"]:
        out["codable"] = False
    if node["exclusive"]:
        out["exclusive"] = True
    if node["value"] is not None:
        out["value"] = int(node["value"]) if float(node["value"]).is_integer() else node["value"]
    if node["threshold"] is not None:
        out["threshold"] = node["threshold"]
    pats = node["patterns"]
    if list(pats) == [language]:  # the codebook's language alone: the plain list a user writes
        out["patterns"] = [_pattern_out(p) for p in pats[language]]
    elif pats:
        out["patterns"] = {lang: [_pattern_out(p) for p in ps] for lang, ps in pats.items()}
    if node["children"]:
        out["children"] = [_code_out(c, language) for c in node["children"]]
    return out


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper, data: str):
    style = ">" if len(data) > 100 and "\n" not in data else ("|" if "\n" in data else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


def _list(dumper, data: list):
    # Token patterns read best on one line, as written in the codebook.
    flow = bool(data) and all(
        isinstance(x, dict)
        and not any(isinstance(v, list | dict) and k != "IN" and k != "NOT_IN" for k, v in x.items())
        for x in data
    )
    flow = flow and all(k.isupper() for x in data for k in x)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(list, _list)


def to_yaml(db: Database) -> str:
    """The current codebook as a YAML file that `codebook load` accepts and that round-trips."""
    t = tree(db)
    doc = {"codebook": t["name"]}
    if t["version"]:
        doc["version"] = t["version"]
    doc["language"] = t["language"]
    doc["min_score"] = t["min_score"]
    doc["codes"] = [_code_out(c, t["language"]) for c in t["codes"]]
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)


def to_markdown(db: Database, coder: str | None = None) -> str:
    t = tree(db, coder)
    whose = f" by {coder}" if coder else " (every coder's, pooled)"
    lines = [f"# {t['name']}" + (f" (version {t['version']})" if t["version"] else ""), ""]

    def walk(nodes, depth):
        for n in nodes:
            flags = [f for f, on in (("folder", not n["codable"]), ("exclusive", n["exclusive"])) if on]
            head = "#" * min(depth + 2, 6)
            lines.append(f"{head} {n['path']}" + (f" ({', '.join(flags)})" if flags else ""))
            lines.append("")
            lines.append(f"Codings{whose}: {n['codings']}. Suggestions: {n['suggestions']}.")
            lines.append("")
            for label, k in (("Definition", "definition"), ("Include", "include"), ("Exclude", "exclude")):
                if n[k]:
                    lines.extend([f"**{label}.** {n[k]}", ""])
            walk(n["children"], depth + 1)

    walk(t["codes"], 0)
    return "\n".join(lines)
