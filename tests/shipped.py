"""The shipped corpus read independently of qualcode, so exports can be checked against the source files.

Transcripts: YAML front matter (PyYAML) and paragraphs opening with a known speaker label; a paragraph without one
continues the turn before it, and consecutive paragraphs of one speaker are one turn (as the importer does). Turns
are numbered from 0. Codings: the coders' CSV files, one row per (interview, turn, code); an empty code is a
"no code" decision.

Surveys (surveys/NAME.csv with the sidecar NAME.yml): a unit per non-empty answer, respondents in row order and
questions in the sidecar's order, whitespace collapsed; a respondent is SURVEY:ID. Documents (documents/DOC-*.md):
a unit per paragraph of the body, headings excluded. Their codings are in codings/evidence/.
"""

from __future__ import annotations

import csv
import functools
import re
from collections import defaultdict

import yaml

from tests.conftest import CODEBOOK, CODINGS, CORPUS, ROOT, Cli

SURVEYS = ROOT / "surveys"
DOCUMENTS = ROOT / "documents"


@functools.cache
def transcripts() -> dict[str, dict]:
    out = {}
    for path in sorted(CORPUS.glob("INT-*.md")):
        _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
        meta = yaml.safe_load(front)
        people = {p["speaker"]: p for p in meta["participants"]}
        interviewers = set(meta.get("interviewers") or [])
        turns: list[list[str]] = []
        for block in re.split(r"\n\s*\n", body.strip()):
            label, sep, rest = block.partition(":")
            if sep and (label in people or label in interviewers):
                if turns and turns[-1][0] == label:
                    turns[-1][1] += "\n\n" + rest.strip()
                else:
                    turns.append([label, rest.strip()])
            else:
                turns[-1][1] += "\n\n" + block.strip()
        out[meta["interview"]] = {"meta": meta, "people": people, "turns": turns}
    return out


@functools.cache
def participants() -> dict[str, dict]:
    """Participant id → front-matter entry (with the interview's attributes under 'interviews')."""
    out: dict[str, dict] = {}
    for iid, t in transcripts().items():
        for p in t["meta"]["participants"]:
            entry = out.setdefault(p["id"], {**p, "interviews": {}})
            entry["interviews"][iid] = t["meta"].get("attributes", {})
    return out


def labels() -> set[str]:
    """Every participant's speaker label."""
    return {p["speaker"] for t in transcripts().values() for p in t["meta"]["participants"]}


@functools.cache
def codebook() -> list[dict]:
    """Codes in tree order: path, name, depth, criterion, codable."""
    data = yaml.safe_load(CODEBOOK.read_text(encoding="utf-8"))
    out = []

    def walk(codes, parent, depth, criterion):
        for c in codes:
            path = f"{parent}/{c['name']}" if parent else c["name"]
            out.append(
                {
                    "path": path,
                    "name": c["name"],
                    "depth": depth,
                    "criterion": criterion or c["name"],
                    "codable": c.get("codable", True),
                    "definition": c.get("definition"),
                }
            )
            walk(c.get("children") or [], path, depth + 1, criterion or c["name"])

    walk(data["codes"], None, 0, None)
    return out


def codable_in(criterion: str) -> list[str]:
    return [c["path"] for c in codebook() if c["criterion"] == criterion and c["codable"]]


@functools.cache
def evidence(coder: str) -> list[dict]:
    """CODER's codings of participants' turns, each with who said it and the turn's text."""
    out = []
    with open(CODINGS / f"{coder}.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if not row["code"]:
                continue
            t = transcripts()[row["interview"]]
            label, text = t["turns"][int(row["turn"])]
            person = t["people"].get(label)
            if person is None:
                continue
            attrs = t["meta"].get("attributes", {})
            out.append(
                {
                    "interview": row["interview"],
                    "turn": int(row["turn"]),
                    "code": row["code"],
                    "criterion": row["code"].split("/")[0],
                    "memo": row["memo"],
                    "participant": person["id"],
                    "speaker": label,
                    "gender": person["gender"],
                    "text": text,
                    "case_study": attrs.get("case_study"),
                    "stakeholder_group": person.get("stakeholder_group", attrs.get("stakeholder_group")),
                }
            )
    return out


def people_by_gender(rows: list[dict]) -> dict[str, int]:
    out: dict[str, set] = defaultdict(set)
    for r in rows:
        out[r["gender"]].add(r["participant"])
    return {g: len(ids) for g, ids in out.items()}


def build(tmp_path_factory, name: str) -> Cli:
    """The shipped project through the CLI: the corpus, the DAC codebook and both coders' codings."""
    cli = Cli(tmp_path_factory.mktemp(name) / "shipped.db")
    cli("import", CORPUS)
    cli("codebook", "load", CODEBOOK)
    cli("codings", "import", CODINGS / "coder-a.csv")
    cli("codings", "import", CODINGS / "coder-b.csv")
    return cli


@functools.cache
def decisions(coder: str) -> dict[tuple[str, int], frozenset[str]]:
    """(interview, turn) → the code paths CODER gave it (empty for "no code"), from the coding file alone."""
    return _decisions(CODINGS / f"{coder}.csv")


def _decisions(path) -> dict[tuple[str, int], frozenset[str]]:
    out: dict[tuple[str, int], set[str]] = defaultdict(set)
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            key = (row["interview"], int(row["turn"]))
            out[key]  # a decision, even when it is "no code"
            if row["code"]:
                out[key].add(row["code"])
    return {k: frozenset(v) for k, v in out.items()}


@functools.cache
def exclusive_scales() -> list[frozenset[str]]:
    """The option paths of each exclusive parent in the codebook file."""
    data = yaml.safe_load(CODEBOOK.read_text(encoding="utf-8"))
    out = []

    def walk(codes, parent):
        for c in codes:
            path = f"{parent}/{c['name']}" if parent else c["name"]
            if c.get("exclusive"):
                out.append(frozenset(f"{path}/{k['name']}" for k in c["children"]))
            walk(c.get("children") or [], path)

    walk(data["codes"], None)
    return out


def segments_of(key: tuple[str, int], codes) -> list[dict]:
    """One segment per code on a turn, with who said it; nothing for an interviewer's turn."""
    t = transcripts()[key[0]]
    label, _ = t["turns"][key[1]]
    person = t["people"].get(label)
    if person is None:
        return []
    return [
        {"interview": key[0], "turn": key[1], "code": c, "participant": person["id"], "gender": person["gender"]}
        for c in sorted(codes)
    ]


def base_by_gender(coder: str) -> dict[str, int]:
    """The participants of the interviews CODER decided, by gender: the denominator of CODER's shares."""
    decided = {k[0] for k in decisions(coder)}
    people = {p["id"]: p["gender"] for iid in decided for p in transcripts()[iid]["meta"]["participants"]}
    out: dict[str, int] = defaultdict(int)
    for g in people.values():
        out[g] += 1
    return dict(out)


@functools.cache
def surveys() -> dict[str, dict]:
    """Survey id → {"spec", "units": [(respondent, text, question)], "respondents": {id: gender}}."""
    out = {}
    for sidecar in sorted(SURVEYS.glob("*.yml")):
        spec = yaml.safe_load(sidecar.read_text(encoding="utf-8"))
        units, respondents = [], {}
        with open(sidecar.with_suffix(".csv"), encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                rid = f"{spec['survey']}:{row[spec['id_column']]}"
                respondents[rid] = row.get("gender") or "not recorded"
                for column, question in spec["questions"].items():
                    if row[column].strip():
                        units.append((rid, " ".join(row[column].split()), question))
        out[spec["survey"]] = {"spec": spec, "units": units, "respondents": respondents}
    return out


@functools.cache
def documents() -> dict[str, list[str]]:
    """Document id → its paragraphs (headings are sections, not units)."""
    out = {}
    for path in sorted(DOCUMENTS.glob("DOC-*.md")):
        _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
        blocks = [" ".join(b.split()) for b in re.split(r"\n\s*\n", body.strip())]
        out[yaml.safe_load(front)["document"]] = [b for b in blocks if b and not b.startswith("#")]
    return out


@functools.cache
def other_evidence(coder: str) -> list[dict]:
    """CODER's codings of survey answers and document paragraphs (codings/evidence/CODER.csv), each with its role,
    respondent and gender (a document has neither) and the unit's text."""
    out = []
    with open(CODINGS / "evidence" / f"{coder}.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if not row["code"]:
                continue
            turn = int(row["turn"])
            entry = {"interview": row["interview"], "turn": turn, "code": row["code"]}
            entry["criterion"] = row["code"].split("/")[0]
            if row["interview"] in surveys():
                survey = surveys()[row["interview"]]
                rid, text, _ = survey["units"][turn]
                entry.update(role="respondent", participant=rid, gender=survey["respondents"][rid], text=text)
            else:
                entry.update(role="document", participant=None, gender=None, text=documents()[row["interview"]][turn])
            out.append(entry)
    return out


@functools.cache
def other_decisions(coder: str) -> dict[tuple[str, int], frozenset[str]]:
    """(survey or document, unit) → the code paths CODER gave it, from codings/evidence/CODER.csv alone."""
    return _decisions(CODINGS / "evidence" / f"{coder}.csv")
