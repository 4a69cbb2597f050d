"""Interview metadata from YAML front matter or a sidecar NAME.yml: the same keys in both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qualcode.errors import InputError
from qualcode.ingest.transcripts.types import Interviewer, Metadata, Participant
from qualcode.text import language, yamlfile

TOP_KEYS = {"interview", "title", "date", "language", "attributes", "interviewers", "participants"}
PERSON_KEYS = {"id", "speaker", "gender", "name"}


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """Return (yaml, body, body_first_line). yaml is None when the text has no front matter."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None, text, 1
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :]), i + 2
    return "", text, 1  # an opening line with no closing one: reported by the caller


def parse(data: Any, path: str | Path) -> Metadata:
    """Validate the mapping read from front matter or a sidecar and build Metadata."""
    if data is None:
        data = yamlfile.LineMap()
    if not isinstance(data, dict):
        raise InputError("front matter must be a mapping of keys such as interview:, participants:", path=path)
    unknown = sorted(set(map(str, data)) - TOP_KEYS)
    if unknown:
        line = data.line_of(unknown[0]) if isinstance(data, yamlfile.LineMap) else None
        raise InputError(
            f"unknown key {unknown[0]!r} in front matter (allowed: {', '.join(sorted(TOP_KEYS))}; "
            "put other facts under attributes:)",
            path=path,
            line=line,
        )
    meta = Metadata(
        interview=_text(data, "interview", path),
        title=_text(data, "title", path),
        date=_text(data, "date", path),
        language=declared_language(data, path),
    )
    attrs = data.get("attributes") or {}
    if not isinstance(attrs, dict):
        raise InputError("attributes: must be a mapping", path=path, line=_line(data, "attributes"))
    meta.attributes = {str(k): yamlfile.scalar(v) for k, v in attrs.items() if v is not None}
    meta.interviewers = [_interviewer(x, n, data, path) for n, x in enumerate(_list(data, "interviewers", path))]
    listed = _list(data, "participants", path)
    meta.participants = [_participant(x, n, data, path) for n, x in enumerate(listed)]
    # Each error names the line of the second entry, where the fix usually is, and the first entry's in its text.
    first: dict[str, int | None] = {}
    for n, (item, person) in enumerate(zip(listed, meta.participants, strict=True)):
        line = _item_line(data, "participants", n, item, "id")
        if person.id in first:
            where = f" (first on line {first[person.id]})" if first[person.id] else ""
            raise InputError(f"participant {person.id} is listed twice{where}", path=path, line=line)
        first[person.id] = line
    seen: dict[str, Interviewer | Participant] = {}
    for person in [*meta.interviewers, *meta.participants]:
        if person.speaker in seen:
            other = seen[person.speaker]
            raise InputError(
                f"speaker label {person.speaker!r} is used by both {other.id} and {person.id}"
                + (f" (first on line {other.line})" if other.line else ""),
                path=path,
                line=person.line,
            )
        seen[person.speaker] = person
    return meta


def declared_language(data: Any, path) -> str | None:
    """The `language:` a source's front matter or sidecar declares, checked (None when it declares none)."""
    value = _text(data, "language", path)
    return language.require(value, str(path), _line(data, "language")) if value else None


def _line(data: Any, key: str) -> int | None:
    return data.line_of(key) if isinstance(data, yamlfile.LineMap) else None


def _text(data: dict, key: str, path) -> str | None:
    value = data.get(key)
    if isinstance(value, dict | list):
        raise InputError(f"{key}: must be a single value", path=path, line=_line(data, key))
    return yamlfile.scalar(value)


def _list(data: dict, key: str, path) -> list:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise InputError(f"{key}: must be a list", path=path, line=_line(data, key))
    return value


def _item_line(parent: Any, key: str, index: int, item: Any, field: str = "speaker") -> int | None:
    """The line of a list entry's FIELD; a speaker label defaults to the id, so to the id's line."""
    if isinstance(item, yamlfile.LineMap):
        return item.line_of(field if field in item else "id")
    return parent.line_of_item(key, index) if isinstance(parent, yamlfile.LineMap) else None


def _interviewer(item: Any, index: int, parent: dict, path) -> Interviewer:
    line = _item_line(parent, "interviewers", index, item)
    if isinstance(item, str | int):
        return Interviewer(id=str(item), speaker=str(item), line=line)
    if not isinstance(item, dict) or item.get("id") in (None, ""):
        raise InputError("each interviewer needs an id", path=path, line=_line(parent, "interviewers"))
    extra = sorted(set(map(str, item)) - {"id", "speaker", "name"})
    if extra:
        raise InputError(f"unknown key {extra[0]!r} for an interviewer", path=path, line=_line(item, extra[0]))
    iid = str(item["id"])
    return Interviewer(
        id=iid, speaker=str(item.get("speaker") or iid), name=yamlfile.scalar(item.get("name")), line=line
    )


def _participant(item: Any, index: int, parent: dict, path) -> Participant:
    if isinstance(item, str | int):
        return Participant(id=str(item), speaker=str(item), line=_item_line(parent, "participants", index, item))
    if not isinstance(item, dict):
        raise InputError("each participant must be a mapping with an id", path=path, line=_line(parent, "participants"))
    line = item.line if isinstance(item, yamlfile.LineMap) else None
    if item.get("id") in (None, ""):
        raise InputError("participant without an id", path=path, line=line)
    pid = str(item["id"])
    attrs = {}
    for k, v in item.items():
        if str(k) in PERSON_KEYS or v is None:
            continue
        if isinstance(v, dict | list):
            raise InputError(f"participant {pid}: {k} must be a single value", path=path, line=_line(item, str(k)))
        attrs[str(k)] = yamlfile.scalar(v)
    return Participant(
        id=pid,
        speaker=str(item.get("speaker") or pid),
        gender=yamlfile.scalar(item.get("gender")),
        name=yamlfile.scalar(item.get("name")),
        attributes=attrs,
        line=_item_line(parent, "participants", index, item),
    )
