"""Which files an import reads: the files named, the transcripts inside folders, and the metadata beside them."""

from __future__ import annotations

from pathlib import Path

from qualcode.errors import InputError, NotFoundError
from qualcode.ingest.transcripts import EXTENSIONS

TABLES = (".csv", ".xlsx")
README = "readme.md"


def collect_files(paths: list[Path], *, tables: bool = False) -> list[Path]:
    """Files named, and the transcripts inside folders (recursive, sorted, sidecar .yml files skipped). In a folder a
    spreadsheet is a survey only with its sidecar NAME.yml, or when TABLES (the survey's columns were given): a
    folder also holds coding files and other tables that are not evidence. A folder's README.md is not read, and
    neither is one named among other files (see skipped_readmes)."""
    files: list[Path] = []
    skipped = skipped_readmes(paths)
    for p in paths:
        if p.is_dir():
            files.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.is_file()
                    and f.suffix.lower() in EXTENSIONS
                    and not f.name.startswith((".", "~$"))
                    and f.name.lower() != README
                    and (tables or f.suffix.lower() not in TABLES or sidecar_of(f) is not None)
                )
            )
        elif p in skipped:
            continue
        elif p.exists():
            files.append(p)
        else:  # exists() says False for what cannot be reached too (a link in a loop): ask the system why
            try:
                p.stat()
            except FileNotFoundError:
                raise NotFoundError("no such file or folder", path=p) from None
            except OSError as e:
                raise InputError(f"cannot read file: {e.strerror or e}", path=p) from None
    return files


def skipped_readmes(paths: list[Path]) -> list[Path]:
    """README.md files (any case) named among other paths: `qualcode import transcripts/*.md` names the folder's
    read-me through the shell's glob, and a folder given whole skips it. Named alone (or only read-mes), a read-me
    is what the user asked for and is imported."""
    readmes = [p for p in paths if p.name.lower() == README and p.is_file()]
    return readmes if len(readmes) < len(paths) else []


def sidecar_of(path: Path) -> Path | None:
    """The metadata file beside a transcript: NAME.yml (or .yaml) for NAME.ext, or for NAME.transcript.vtt."""
    stem = path.name.split(".")[0]
    for cand in (
        path.with_suffix(".yml"),
        path.with_suffix(".yaml"),
        path.parent / f"{stem}.yml",
        path.parent / f"{stem}.yaml",
    ):
        if cand.is_file() and cand != path:
            return cand
    return None
