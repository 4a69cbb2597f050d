"""Reading a .qdpx archive without trusting it: members are read into memory, never extracted.

A member whose path would leave the archive (zip-slip) or that is absolute refuses the whole file, and so does an
archive that would unpack to more than MAX_TOTAL_BYTES or a member compressed suspiciously well (zip bomb). Reads
are capped at each member's declared size, so a lying header cannot make us allocate more.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path

from qualcode.errors import InputError

MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed; plain text and XML stay far below this
RATIO_FLOOR = 1024 * 1024  # small members may compress as well as they like
MAX_MEMBERS = 100_000  # far more than any real project; refused before any member is looked at


class Archive:
    def __init__(self, path: Path):
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
        except FileNotFoundError:
            raise InputError("no such file", path=path) from None
        except (zipfile.BadZipFile, OSError) as e:
            raise InputError(f"not a REFI-QDA project: a .qdpx file is a zip archive ({e})", path=path) from None
        self.members: dict[str, zipfile.ZipInfo] = {}
        if len(self.zip.infolist()) > MAX_MEMBERS:
            raise InputError(f"zip bomb: more than {MAX_MEMBERS} members in the archive", path=path)
        total = 0
        for info in self.zip.infolist():
            name = _safe_name(info.filename, path)
            if info.is_dir():
                continue
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise InputError(
                    f"zip bomb: the archive unpacks to more than the {_mb(MAX_TOTAL_BYTES)} limit", path=path
                )
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise InputError(
                    f"zip bomb: {info.filename!r} unpacks to {_mb(info.file_size)} from "
                    f"{info.compress_size} bytes (more than {MAX_RATIO} times)",
                    path=path,
                )
            if info.flag_bits & 0x1:
                raise InputError(f"{info.filename!r} is encrypted", path=path)
            self.members.setdefault(name.casefold(), info)

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.zip.close()

    def find(self, name: str) -> str | None:
        """The member called NAME, matched case-insensitively (tools differ: 'Sources/', upper-case GUIDs)."""
        info = self.members.get(posixpath.normpath(name.replace("\\", "/")).casefold())
        return info.filename if info else None

    def read(self, name: str) -> bytes:
        info = self.members[posixpath.normpath(name.replace("\\", "/")).casefold()]
        try:
            with self.zip.open(info) as f:
                data = f.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as e:
            raise InputError(f"cannot read {info.filename!r} from the archive ({e})", path=self.path) from None
        if len(data) > info.file_size:
            raise InputError(f"zip bomb: {info.filename!r} is larger than its header says", path=self.path)
        return data


def _safe_name(name: str, path: Path) -> str:
    """The member's normalised path; refuses absolute paths and paths that climb out of the archive."""
    text = name.replace("\\", "/")
    norm = posixpath.normpath(text)
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text) or norm == ".." or norm.startswith("../"):
        raise InputError(f"archive member {name!r} points outside the archive (zip-slip): refused", path=path)
    return norm


def _mb(n: int) -> str:
    return f"{n / 1_048_576:.0f} MB" if n >= 1_048_576 else f"{n} bytes"
