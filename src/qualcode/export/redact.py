"""Pseudonymised exports: the project's redaction list, and the redactor every `--redact` export applies.

What a redactor replaces, matched as whole words (not inside a longer word), longest name first:

- every participant's speaker label and recorded name ("Ms Sharma", "Ayesha"), case-insensitively, becomes the
  participant's pseudonym id (P017);
- the given name and the surname taken from a label or name of several words ("Maricel" and "Lim" from "Maricel
  Lim"; "Ben Salah" from "Ms Ben Salah"), with a title before them if there is one ("Madame Lim"), become the
  pseudonym too. These parts are a guess at how people are mentioned, so they and the titles match only as written
  (capitalised): "Rosa" is a name, "rosa" may be a word;
- a name or part shared by several participants cannot say who is meant and becomes "[name]";
- every name on the redaction list (`qualcode redact add`), case-insensitively, becomes "[name]".

Names and text are compared in Unicode NFC, so a name typed in decomposed form ("Krako\u0301w", as macOS keyboards
give it) matches the composed form imported text has ("Kraków"), and the other way round. A name part matches as
written and in capitals ("NOVAK" for "Novak"): capitals are how transcripts shout or stress a name.

Case-insensitive matching means a list entry or label that is also an ordinary word ("May", "Hope") is replaced
wherever that word occurs; that is the safe side for a pseudonymised export. A participant id that itself contains
a name (speakers imported without metadata get ids such as "INT-05:Ayesha") or a listed name is replaced by a
made-up pseudonym (ANON-001, numbered in id order). So is an interview id that holds a name, as one taken from a
file name does ("Maria Lopez.txt" is interview "Maria Lopez"): it becomes INTERVIEW-001, numbered in id order.
Exports apply the redactor to everything they write about people and places: text, quotes, memos, titles,
attribute values, participant and interview ids, and the names of the sources in a .qdpx.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from sqlite_utils import Database

from qualcode.errors import NotFoundError, UsageError
from qualcode.store.db import now, transaction

NAME = "[name]"
TITLES = (
    "Mr",
    "Mrs",
    "Ms",
    "Miss",
    "Mx",
    "Dr",
    "Prof",
    "Madame",
    "Mme",
    "Mlle",
    "Monsieur",
    "Sr",
    "Sra",
    "Srta",
    "Señor",
    "Señora",
    "Don",
    "Doña",
    "Dona",
    "Khun",
    "Ato",
    "Wzro",
    "Sister",
    "Brother",
    "Hon",
    "Sir",
    "Dame",
)
_TITLE = re.compile(rf"^(?:{'|'.join(TITLES)})\.?$", re.IGNORECASE)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _key(text: str) -> str:
    return nfc(" ".join(text.split())).casefold()


def _pattern(term: str) -> str:
    # Words of a name may be split over a line break in a transcript, so any run of spaces matches one space.
    return r"\s+".join(re.escape(w) for w in term.split())


def name_parts(name: str) -> list[str]:
    """The given name and surname in a name of several words; a leading title is not a name."""
    words = name.split()
    if words and _TITLE.match(words[0]):
        return [" ".join(words[1:])] if len(words) > 1 else []
    if len(words) < 2:
        return []
    return [words[0], " ".join(words[1:])]


@dataclass
class Redactor:
    """Callable: text → text with every name replaced. `enabled=False` gives the identity (no --redact)."""

    enabled: bool = True
    pseudonyms: dict[str, str] = field(default_factory=dict)  # participant id → pseudonym
    full: dict[str, str] = field(default_factory=dict)  # casefolded name → replacement
    parts: dict[str, str] = field(default_factory=dict)  # name part as written → replacement
    interviews: dict[str, str] = field(default_factory=dict)  # interview id → pseudonym, for ids holding a name
    _regex: re.Pattern | None = None

    def __post_init__(self) -> None:
        alternatives = []
        if self.full:
            alternatives.append(
                "(?P<full>(?i:" + "|".join(_pattern(t) for t in sorted(self.full, key=len, reverse=True)) + "))"
            )
        if self.parts:
            titles = "(?:" + "|".join(TITLES) + r")\.?\s+"
            names = "|".join(_pattern(t) for t in sorted(self.parts, key=len, reverse=True))
            alternatives.append(f"(?:{titles})?(?P<part>{names})")
        if self.enabled and alternatives:
            # Full names first: at one position "Ms Lim" (one person) must win over "Lim" (perhaps several).
            self._regex = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")

    def __call__(self, text: str | None) -> str | None:
        if not text or self._regex is None:
            return text
        return self._regex.sub(self._replace, nfc(text))

    def _replace(self, m: re.Match) -> str:
        if "full" in m.re.groupindex and m.group("full") is not None:
            return self.full.get(_key(m.group("full")), NAME)
        return self.parts.get(" ".join(m.group("part").split()), NAME)

    def interview(self, iid: str | None) -> str | None:
        """The id to show for an interview: a pseudonym when the id holds a name."""
        if not self.enabled or iid is None:
            return iid
        return self.interviews.get(iid, iid)

    def participant(self, pid: str | None) -> str | None:
        """The id to show for a participant: the pseudonym when redacting."""
        if not self.enabled or pid is None:
            return pid
        return self.pseudonyms.get(pid, pid)

    def speaker(self, label: str | None, pid: str | None) -> str | None:
        """A speaker as shown: a participant's label becomes their pseudonym; an interviewer's label stays."""
        if not self.enabled:
            return label
        return self.participant(pid) if pid else self(label)


IDENTITY = Redactor(enabled=False)


def redactor(db: Database, enabled: bool = True) -> Redactor:
    """The redactor for this project (the identity when not ENABLED)."""
    if not enabled:
        return IDENTITY
    names: dict[str, set[str]] = defaultdict(set)  # participant id → labels and recorded names
    for pid, name in db.execute("SELECT id, name FROM participants"):
        if name and name.strip():
            names[pid].add(nfc(" ".join(name.split())))
    for pid, label in db.execute("SELECT participant_id, label FROM speakers WHERE participant_id IS NOT NULL"):
        names[pid].add(nfc(" ".join(label.split())))
    on_list = [nfc(name) for name in listed(db)]
    pids = sorted({r[0] for r in db.execute("SELECT id FROM participants")})
    pseudonyms, n = {}, 0
    for pid in pids:
        forms = [x for x in names[pid] if x != pid] + on_list
        if any(re.search(rf"(?<!\w){_pattern(x)}(?!\w)", nfc(pid), re.IGNORECASE) for x in forms):
            n += 1
            pseudonyms[pid] = f"ANON-{n:03d}"
        else:
            pseudonyms[pid] = pid
    # One owner set per name, whether it is someone's whole label or part of another's: "Maricel" is one person's
    # label and part of "Maricel Lim", so alone it cannot say who is meant.
    owners: dict[str, set[str]] = defaultdict(set)
    full_forms, part_forms = set(), set()
    for pid, forms in names.items():
        for form in forms:
            if form != pid:
                owners[_key(form)].add(pid)
                full_forms.add(_key(form))
            for part in name_parts(form):
                owners[_key(part)].add(pid)
                part_forms.add(part)

    def replacement(key: str) -> str:
        return pseudonyms[next(iter(owners[key]))] if len(owners[key]) == 1 else NAME

    full = {k: replacement(k) for k in full_forms}
    for name in on_list:
        full.setdefault(_key(name), NAME)
    # A part that is someone's whole name is matched as that name, case-insensitively, above.
    parts = {p: replacement(_key(p)) for p in part_forms if _key(p) not in full}
    parts.update({p.upper(): parts[p] for p in list(parts) if p.upper() not in parts})
    r = Redactor(pseudonyms=pseudonyms, full=full, parts=parts)
    n = 0
    for (iid,) in db.execute("SELECT id FROM interviews ORDER BY id"):
        if r(iid) != nfc(iid):
            n += 1
            r.interviews[iid] = f"INTERVIEW-{n:03d}"
    return r


# --- the redaction list ----------------------------------------------------------------------------------------


def listed(db: Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT name FROM redactions ORDER BY name COLLATE NOCASE")]


def add(db: Database, names: list[str]) -> dict:
    """Add NAMES to the redaction list, in NFC: {"added": [...], "already": [...]} (comparison ignores case)."""
    clean = [nfc(" ".join(n.split())) for n in names]
    if not clean or any(not n for n in clean):
        raise UsageError("give one or more non-empty names: qualcode redact add 'Ms Sharma' Kathmandu")
    report: dict = {"added": [], "already": []}
    with transaction(db):
        for name in dict.fromkeys(clean):
            if any(_key(name) == _key(other) for other in listed(db)):
                report["already"].append(name)
            else:
                db.execute("INSERT INTO redactions (name, added_at) VALUES (?, ?)", [name, now()])
                report["added"].append(name)
    return report


def remove(db: Database, name: str) -> str:
    """Remove NAME (any case) from the redaction list; returns the name as it was stored."""
    row = next(((other,) for other in listed(db) if _key(other) == _key(name)), None)
    if not row:
        names = listed(db)
        hint = f" (listed: {', '.join(names)})" if names else " (the list is empty)"
        raise NotFoundError(f"{name!r} is not on the redaction list{hint}")
    with transaction(db):
        db.execute("DELETE FROM redactions WHERE name = ?", [row[0]])
    return row[0]
