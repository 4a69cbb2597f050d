"""Open-ended survey answers (.csv, .xlsx): each respondent a person of the survey, each non-empty answer one unit.

Which column is what comes from options (`--id-column`, `--question`, `--attribute`) or from a sidecar NAME.yml:

    survey: staff-survey            # the source's id (default: the file name)
    title: Survey of ILO staff (2021)
    language: en
    id_column: respondent_id
    attribute_columns: [gender, stakeholder_group, region]
    questions:                      # column → the question as it was asked
      q1_what_worked: "In your experience, what worked best ...?"

Respondent ids are the survey's own (S001), kept study-unique as SURVEY:S001. A respondent who answered nothing is
still a respondent of the survey: counted in its denominators, with no unit to code.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.errors import InputError, UsageError
from qualcode.ingest.transcripts import metadata, source
from qualcode.ingest.transcripts.types import Metadata, Participant, Transcript, Turn
from qualcode.output.render import plural
from qualcode.text import yamlfile

SIDECAR_KEYS = {"survey", "title", "date", "language", "attributes", "id_column", "attribute_columns", "questions"}


@dataclass
class Spec:
    id_column: str | None = None
    questions: dict[str, str] = field(default_factory=dict)  # column → question text (the column name if unknown)
    attribute_columns: list[str] = field(default_factory=list)
    meta: Metadata = field(default_factory=Metadata)


def parse(path: Path, spec: Spec, *, encoding: str | None = None, max_bytes: int = source.MAX_BYTES) -> Transcript:
    spec = _with_sidecar(path, spec, encoding)
    if not spec.id_column:
        raise UsageError(
            f"{path.name} is a survey: name its respondent id column with --id-column COLUMN and its open questions "
            f"with --question COLUMN (repeatable), or describe them in {path.with_suffix('.yml').name} "
            "(see qualcode import --help)"
        )
    header, rows = _rows(path, encoding, max_bytes)
    where = {name: i for i, name in enumerate(header)}
    wanted = [spec.id_column, *spec.questions, *spec.attribute_columns]
    missing = [c for c in wanted if c not in where]
    if missing:
        raise InputError(f"no column {missing[0]!r} in the header (columns: {', '.join(header)})", path=path, line=1)
    if not spec.questions:
        raise UsageError(f"{path.name}: name at least one open-question column with --question COLUMN")
    sid = spec.meta.interview or path.name.split(".")[0]
    people: list[Participant] = []
    turns: list[Turn] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        rid = row[where[spec.id_column]].strip()
        if not rid:
            raise InputError(f"row without a respondent id (column {spec.id_column!r})", path=path, line=line)
        if rid in seen:
            raise InputError(f"respondent {rid!r} appears twice (also on line {seen[rid]})", path=path, line=line)
        seen[rid] = line
        attrs = {c: row[where[c]].strip() for c in spec.attribute_columns if row[where[c]].strip()}
        gender = next((attrs.pop(c) for c in list(attrs) if c.casefold() == "gender"), None)
        people.append(Participant(id=f"{sid}:{rid}", speaker=rid, gender=gender, attributes=attrs))
        for column, question in spec.questions.items():
            answer = " ".join(row[where[column]].split())  # an answer is one paragraph: line breaks inside a cell
            if answer:
                turns.append(Turn(label=rid, text=answer, line=line, context=question))
    if not turns:
        raise InputError("no answers: every open-question cell is empty", path=path)
    meta = spec.meta
    meta.interview, meta.participants = sid, people
    notes = [f"{plural(len(people), 'respondent')}, {plural(len(turns), 'answer')}"]
    fmt = f"survey-{path.suffix.lower().lstrip('.')}"
    return Transcript(path=str(path), format=fmt, turns=turns, meta=meta, kind="survey", notes=notes)


def _with_sidecar(path: Path, spec: Spec, encoding: str | None) -> Spec:
    sidecar = path.with_suffix(".yml")
    if not sidecar.is_file():
        return spec
    data = yamlfile.load(source.decode(sidecar.read_bytes(), sidecar, encoding), sidecar)
    if not isinstance(data, dict):
        raise InputError("a survey's metadata file is a mapping (survey:, id_column:, questions: ...)", path=sidecar)
    unknown = sorted(set(map(str, data)) - SIDECAR_KEYS)
    if unknown:
        raise InputError(
            f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(SIDECAR_KEYS))})",
            path=sidecar,
            line=data.line_of(unknown[0]),
        )
    questions = data.get("questions") or {}
    if not isinstance(questions, dict):
        raise InputError("questions: maps each column to its question", path=sidecar, line=data.line_of("questions"))
    meta = Metadata(
        interview=yamlfile.scalar(data.get("survey")),
        title=yamlfile.scalar(data.get("title")),
        date=yamlfile.scalar(data.get("date")),
        language=metadata.declared_language(data, sidecar),
        attributes={str(k): yamlfile.scalar(v) or "" for k, v in (data.get("attributes") or {}).items()},
    )
    # Options on the command line win over the file, one by one.
    return Spec(
        id_column=spec.id_column or yamlfile.scalar(data.get("id_column")),
        questions=spec.questions or {str(k): str(v) for k, v in questions.items()},
        attribute_columns=spec.attribute_columns or [str(c) for c in data.get("attribute_columns") or []],
        meta=meta,
    )


def _rows(path: Path, encoding: str | None, max_bytes: int) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(line, cells)]): CSV through the csv module, .xlsx through openpyxl (first sheet)."""
    if path.suffix.lower() == ".xlsx":
        return _xlsx_rows(path, max_bytes)
    text = source.read_text(path, encoding, max_bytes=max_bytes)
    # strict: a quote left open must not swallow the next respondents' rows into one answer.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1  # the current record's first line: where an open quote is to be found
    try:
        header = [h.strip() for h in next(reader)]
        rows, start = [], reader.line_num + 1
        for r in reader:
            if len(r) > len(header):
                raise InputError("more fields than columns", path=path, line=start)
            if any(c.strip() for c in r):
                rows.append((start, r + [""] * (len(header) - len(r))))
            start = reader.line_num + 1
    except csv.Error as e:
        raise InputError(f"not a readable CSV file ({e})", path=path, line=start) from e
    return header, rows


def _xlsx_rows(path: Path, max_bytes: int) -> tuple[list[str], list[tuple[int, list[str]]]]:
    from zipfile import BadZipFile, ZipFile

    from openpyxl import load_workbook

    from qualcode.ingest.archive import UNPACKED_RATIO, Budget

    data = source.read_bytes(path, max_bytes=max_bytes)
    try:
        # A workbook is a zip archive: its members' declared sizes pass the same budget as a .docx before openpyxl
        # unpacks any (zipfile stops a member at its declared size, so a header that lies fails its CRC instead).
        with ZipFile(io.BytesIO(data)) as archive:
            hint = f" ({UNPACKED_RATIO} times --max-size; raise --max-size if the workbook is real)"
            Budget(path, archive, max_total=UNPACKED_RATIO * max_bytes, hint=hint)
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        values = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    except (BadZipFile, KeyError, ValueError, OSError) as e:
        raise InputError(f"not a readable .xlsx workbook ({e})", path=path) from e
    if not values:
        raise InputError("the first sheet is empty", path=path)
    header = [h.strip() for h in values[0]]
    return header, [
        (n, r + [""] * (len(header) - len(r))) for n, r in enumerate(values[1:], 2) if any(c.strip() for c in r)
    ]
