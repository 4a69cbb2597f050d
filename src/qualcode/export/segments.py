"""What every export starts from: whose codings to report, and every coded segment with who said it.

A segment is one live coding anchored in a turn: one code on one span. Two codes on the same span are two segments,
so segments split cleanly between codes and between criteria (MAXQDA's "coded segments"). "No code" decisions are
not segments; orphaned codings (lost in an edited transcript) have no speaker and are only counted.
"""

from __future__ import annotations

from sqlite_utils import Database

from qualcode.agreement import consensus
from qualcode.codebook.tree import CodeTree
from qualcode.coding import retrieval
from qualcode.errors import ConflictError, NotFoundError, UsageError
from qualcode.ingest.participants import NOT_RECORDED, attribute_names
from qualcode.ingest.participants import counts as participant_counts
from qualcode.store.queries import SOURCE_KINDS, coders, left_out, require_coders
from qualcode.text import language

CONSENSUS = "consensus"
# A segment's role says whose words it is: someone interviewed (a participant), a survey respondent, a document's
# text, or an interviewer (never evidence).
ROLES = {"interviewee": "participant", "respondent": "respondent", "document": "document", "interviewer": "interviewer"}
EVIDENCE = ("participant", "respondent", "document")
CASE_STUDY = "case_study"
STAKEHOLDER = "stakeholder_group"
SOURCE = "source"  # the kind of source, usable wherever an attribute is
LANGUAGE = "language"  # the source's language, likewise


def select(db: Database, coder: str | None, *, allow_incomplete: bool = False) -> dict:
    """The segments an export reports (see `load`): CODER's, or the default coder's (`choose_coder`).

    An incomplete consensus is refused unless ALLOW_INCOMPLETE: its figures would count only the turns settled so
    far. Either way the data carries the consensus's status ("consensus"), for the export to state it.
    """
    chosen = choose_coder(db, coder)
    status = consensus.status(db, chosen)
    if status is not None and not status.complete and not allow_incomplete:
        raise ConflictError(
            f"{status.describe()} An export of it would count only what is settled so far: finish the review, "
            "export another coder with --coder, or give --allow-incomplete to export it marked as incomplete"
        )
    data = load(db, chosen)
    data["consensus"] = status.as_dict() if status else None
    data["base"] = base(db, chosen)
    return data


def _decided(db: Database, coder: str, column: str) -> tuple[str, list]:
    """SQL for the COLUMN values (of turns t and speakers s) of the units CODER answers for, and its parameters:
    those CODER decided, and for a consensus also those of the sources (and survey respondents) both of its pair
    decided. A consensus answers for what both decided, settled or not yet: without them, a source whose only unit
    both decided is a disagreement still open would drop out of the base, and its undecided unit with it."""
    units = "FROM live_codings c JOIN turns t ON t.id = c.turn_id LEFT JOIN speakers s ON s.id = t.speaker_id"
    sql, params = f"SELECT {column} {units} WHERE c.coder = ?", [coder]
    if pair := consensus.consensus_coders(db).get(coder):
        sql += f" UNION SELECT {column} {units} WHERE c.coder IN (?, ?) GROUP BY 1 HAVING count(DISTINCT c.coder) = 2"
        params += list(pair)
    return sql, params


def decided_sources(db: Database, coder: str) -> list[str]:
    """The sources (interviews, surveys, documents) where CODER decided at least one unit; for a consensus, also
    those where both of its pair did."""
    sql, params = _decided(db, coder, "t.interview_id")
    return [r[0] for r in db.execute(f"SELECT * FROM ({sql}) ORDER BY 1", params)]


def decided_people(db: Database, coder: str) -> set[str]:
    """The people CODER's counts are read against: everyone in the interviews (and documents) CODER decided, and the
    survey respondents CODER decided an answer of. A survey is coded respondent by respondent, often a sample of
    them: its other respondents are not in the base. For a consensus, "decided" includes what both of its pair
    decided (see _decided)."""
    decided = decided_sources(db, coder)
    marks = ", ".join("?" * len(decided))
    people = {
        r[0]
        for r in db.execute(
            f"""SELECT ip.participant_id FROM interview_participants ip JOIN participants p ON p.id = ip.participant_id
                WHERE p.kind != 'respondent' AND ip.interview_id IN ({marks})""",
            decided,
        )
    }
    sql, params = _decided(db, coder, "s.participant_id")
    return people | {
        r[0] for r in db.execute(f"SELECT id FROM participants WHERE kind = 'respondent' AND id IN ({sql})", params)
    }


def base(db: Database, coder: str) -> dict:
    """What CODER's counts of people are read against: the sources CODER decided (a decision on any unit), the
    people in them by gender (decided_people), and how many of their units CODER left undecided. A consensus is read
    against what both of its pair decided (see _decided); its undecided units are then told apart by how many of its
    pair decided each: both (its status's disagreements not yet reviewed and agreements not yet carried over), one
    (in no consensus), or neither (the pair's own coding is unfinished there).

    "12 of the 23 women interviewed" means 23 women took part in the interviews this coder decided: the study's 65
    women include many whose interviews nobody coded.
    """
    decided = decided_sources(db, coder)
    marks = ", ".join("?" * len(decided))
    kinds = dict.fromkeys(SOURCE_KINDS, 0)
    for (kind,) in db.execute(f"SELECT kind FROM interviews WHERE id IN ({marks})", decided):
        kinds[kind] += 1
    people = decided_people(db, coder)
    speakers, params = _decided(db, coder, "t.speaker_id")
    # A unit is owed a decision when its source was decided; for a survey, when its respondent was.
    owed = f"""FROM turns t JOIN speakers s ON s.id = t.speaker_id JOIN participants p ON p.id = s.participant_id
               WHERE t.interview_id IN ({marks}) AND (p.kind != 'respondent' OR s.id IN ({speakers}))"""
    units, done = db.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE t.id IN (SELECT turn_id FROM live_codings WHERE coder = ?))
            {owed}""",
        [coder, *decided, *params],
    ).fetchone()
    pair = consensus.consensus_coders(db).get(coder)
    extra = {}
    if pair:
        by_pair = dict(
            db.execute(
                f"""SELECT (SELECT count(DISTINCT c.coder) FROM live_codings c
                            WHERE c.turn_id = t.id AND c.coder IN (?, ?)) AS n, count(*)
                    {owed} AND t.id NOT IN (SELECT turn_id FROM live_codings WHERE coder = ? AND turn_id IS NOT NULL)
                    GROUP BY n""",
                [*pair, *decided, *params, coder],
            ).fetchall()
        )
        extra["undecided_by_pair"] = {"both": by_pair.get(2, 0), "one": by_pair.get(1, 0), "neither": by_pair.get(0, 0)}
    return {
        **extra,
        "sources": kinds,
        "participants": participant_counts(db, only=people),
        "respondents": participant_counts(db, kind="respondent", only=people),
        "units": units,
        "undecided": units - done,
        # Whose decisions set the sources: CODER's, or for a consensus both of its pair's.
        "decided_by": f"{pair[0]} and {pair[1]} both" if pair else coder,
    }


def caveats_for(db: Database, coder: str | None) -> list[str]:
    """caveats() of the exported coder's figures, without loading their segments."""
    chosen = choose_coder(db, coder)
    status = consensus.status(db, chosen)
    orphaned, unknown = left_out(db, [chosen])
    data = {"coder": chosen, "base": base(db, chosen), "orphaned": orphaned, "unknown_code": unknown}
    return caveats({**data, "consensus": status.as_dict() if status else None})


def choose_coder(db: Database, coder: str | None) -> str:
    """CODER if given; else the consensus coder if there is one; else the only coder; else an error naming them.

    Exports report one coder's codings: pooling two coders would count a disagreement as two findings.
    """
    known = coders(db, with_codings=True)  # a coder whose every coding was undone has nothing to report
    if coder:
        coder = coder.strip()
        require_coders(db, [coder])
        return coder
    if not known:
        raise NotFoundError("the project has no codings yet: import or apply some first (qualcode codings import)")
    made = [c for c in consensus.consensus_coders(db) if c in known]
    if len(made) == 1:
        return made[0]
    if CONSENSUS in known:
        return CONSENSUS
    if len(known) == 1:
        return known[0]
    pairs = consensus.consensus_coders(db)
    empty = [f"{c}, the consensus of {a} and {b}, has none" for c, (a, b) in pairs.items() if c not in known]
    why = f" with codings ({'; '.join(empty)})" if empty else ""  # every coding of it undone, say
    raise UsageError(
        f"the project has {len(known)} coders and no single consensus{why}: which coder's codings? "
        f"Give --coder {' or --coder '.join(known)}"
    )


def load(db: Database, coder: str) -> dict:
    """CODER's segments in tree order of their criteria, then transcript order, each with its code's row.

    {"coder", "tree" (the CodeTree), "segments", "orphaned", "interviewer_segments"}. Every segment carries
    "code_id", "criterion", "role" and both attribute levels.
    """
    tree = CodeTree.load(db, require=True)
    by_path = tree.by_path()
    out, orphaned = [], 0
    for root in tree.roots():
        data = retrieval.segments(db, root.key, coder=coder)
        orphaned += data["orphaned"]
        for s in data["segments"]:
            code = by_path[s["code"]]
            s.update(code_id=code.id, criterion=code.criterion, role=ROLES[s["speaker_kind"]])
            # A passage in another language than the codebook's (the team's working language) is quoted as spoken,
            # and says which language it is in.
            s["quoted_in"] = None if s["language"] == tree.language else language.name(s["language"])
            out.append(s)
    # A coding whose code is gone from the codes table (deleted behind the tool's back; `qualcode check` lists it)
    # is in no branch of the tree: counted here so that every export can say it is left out.
    unknown = left_out(db, [coder])[1]
    return {
        "coder": coder,
        "tree": tree,
        "segments": out,
        "orphaned": orphaned,
        "unknown_code": unknown,
        "interviewer_segments": sum(s["role"] == "interviewer" for s in out),
    }


def incomplete_coding(coder: str, base: dict) -> str | None:
    """The warning every figure of CODER carries when CODER left units of the sources they coded undecided."""
    if not base["undecided"]:
        return None
    n, units = base["undecided"], base["units"]
    why = ""
    if by := base.get("undecided_by_pair"):  # a consensus: which of them its review can settle, and which not
        parts = [
            f"{by['both']:,} both decided, not yet settled",
            f"{by['one']:,} only one of them decided",
            f"{by['neither']:,} neither decided",
        ]
        why = f" ({'; '.join(p for p, k in zip(parts, ('both', 'one', 'neither'), strict=True) if by[k])})"
    return (
        f"INCOMPLETE CODING: {coder} has not decided {n:,} unit{'s' if n != 1 else ''} of the {units:,} in the sources "
        f"{base['decided_by']} coded{why}: the figures may undercount."
    )


def caveats(data: dict) -> list[str]:
    """What a reader of any figure made from DATA (select()) must be told: an unfinished consensus, undecided units,
    and codings left out because they have no place in the text or no code in the codebook."""
    out = []
    if data.get("consensus") and not data["consensus"]["complete"]:
        out.append(data["consensus"]["description"])
    if line := incomplete_coding(data["coder"], data["base"]):
        out.append(line)
    if n := data["orphaned"]:
        out.append(
            f"{n:,} orphaned coding{'s are' if n != 1 else ' is'} left out: no longer anchored in the edited "
            "transcripts (see qualcode codings orphans)."
        )
    if n := data.get("interviewer_segments"):
        out.append(
            f"{n:,} segment{'s' if n != 1 else ''} coded on interviewers' turns {'are' if n != 1 else 'is'} left out: "
            "an interviewer's words are not evidence from the people interviewed."
        )
    if n := data.get("unknown_code"):
        out.append(
            f"{n:,} coding{'s are' if n != 1 else ' is'} left out: {'their' if n != 1 else 'its'} code is no longer "
            "in the codebook (run qualcode check)."
        )
    return out


def check_attribute(db: Database, name: str) -> str:
    """NAME as the project spells it (gender, source, or a participant or interview attribute); unknown names list the
    known."""
    if name.casefold() in ("gender", SOURCE, LANGUAGE):
        return name.casefold()
    known = attribute_names(db)
    spelt = {n.casefold(): n for n in [*known["interview"], *known["participant"]]}
    if name.casefold() not in spelt:
        listing = ", ".join(sorted({"gender", SOURCE, LANGUAGE, *spelt.values()}))
        raise NotFoundError(f"no attribute {name!r} in this project (known: {listing})")
    return spelt[name.casefold()]


def value(segment: dict, attribute: str) -> str:
    """The segment's value of ATTRIBUTE: the speaker's own value wins over the interview's, as in retrieval; "source"
    is the kind of source it comes from (interview, survey, document)."""
    if attribute == "gender":
        return segment["gender"] or NOT_RECORDED
    if attribute == SOURCE:
        return segment["source_kind"]
    if attribute == LANGUAGE:
        return segment["language"]
    v = segment["participant_attributes"].get(attribute)
    if v is None:
        v = segment["interview_attributes"].get(attribute)
    return v if v not in (None, "") else NOT_RECORDED


def value_order(attribute: str, values) -> list[str]:
    from qualcode.ingest.participants import gender_order

    values = set(values)
    if attribute == "gender":
        return gender_order(values)
    if attribute == SOURCE:
        return [k for k in SOURCE_KINDS if k in values]
    return sorted(values, key=lambda v: (v == NOT_RECORDED, v.casefold()))
