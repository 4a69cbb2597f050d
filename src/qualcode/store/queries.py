"""Questions about the project that several packages ask, answered once.

Live codings are the view `live_codings` (migration m009): codings not retired by undo, removal or review. Read
current codings from it, never from `codings` with a condition of your own.
"""

from __future__ import annotations

from sqlite_utils import Database

from qualcode.errors import NotFoundError, UsageError


def coders(db: Database, *, with_codings: bool = False) -> list[str]:
    """The project's coders: everyone who has coded in it (registered with their first coding, kept after undo);
    with WITH_CODINGS, only those with a live coding now (a decision of "no code" counts)."""
    if with_codings:
        return [r[0] for r in db.execute("SELECT DISTINCT coder FROM live_codings ORDER BY coder")]
    return [r[0] for r in db.execute("SELECT name FROM coders ORDER BY name")]


def require_coders(db: Database, names: list[str]) -> None:
    """Every name is a coder of the project; the error lists the coders there are."""
    known = coders(db)
    missing = [n for n in names if n not in known]
    if missing:
        listed = ", ".join(known) if known else "none yet"
        raise NotFoundError(f"no coder {missing[0]!r} in this project (coders: {listed})")


# The kinds of source a project holds (migration m011), and the words users may type for them.
SOURCE_KINDS = ("interview", "survey", "document")
_KIND_WORDS = {"interview": "interview", "interviews": "interview", "survey": "survey", "surveys": "survey",
               "document": "document", "documents": "document"}  # fmt: skip
# Whose voices each kind of source holds: an interview's interviewees, a survey's respondents, a document's author.
PERSON_KIND = {"interview": "interviewee", "survey": "respondent", "document": "document"}


def sources_of(db: Database, word: str, within: list[str] | None = None) -> list[str]:
    """The ids of the sources of the kind WORD names (interviews, survey, documents), among WITHIN when given; an
    error when there are none, so a narrowed command never runs on nothing without saying so."""
    kind = source_kind(word)
    ids = [r[0] for r in db.execute("SELECT id FROM interviews WHERE kind = ? ORDER BY id", [kind])]
    if within:
        ids = [i for i in within if i in set(ids)]
    if not ids:
        among = " among the interviews given" if within else ""
        raise NotFoundError(f"no source of kind {kind}{among} in this project")
    return ids


def source_kind(word: str) -> str:
    """'interviews' → 'interview', and so on; anything else is a usage error listing the kinds."""
    kind = _KIND_WORDS.get(word.strip().casefold())
    if kind is None:
        raise UsageError(f"no kind of source {word!r}: choose interviews, survey or documents")
    return kind


def left_out(db: Database, coders: list[str], interviews: list[str] | None = None) -> tuple[int, int]:
    """How many live codings of CODERS (within INTERVIEWS) no figure can count: orphaned ones (no place in the edited
    text) and, apart from those, ones whose code is gone from the codebook."""
    where, params = f"coder IN ({', '.join('?' * len(coders))})", list(coders)
    if interviews:
        where += f" AND interview_id IN ({', '.join('?' * len(interviews))})"
        params += list(interviews)
    gone = "code_id IS NOT NULL AND code_id NOT IN (SELECT id FROM codes)"
    orphaned, unknown = db.execute(
        f"""SELECT count(*) FILTER (WHERE turn_id IS NULL AND NOT ({gone})), count(*) FILTER (WHERE {gone})
            FROM live_codings WHERE {where}""",
        params,
    ).fetchone()
    return orphaned, unknown
