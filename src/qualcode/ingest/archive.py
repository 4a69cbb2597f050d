"""One budget for every zip archive qualcode opens (.docx transcripts, .qdpx projects): nothing is read from an
archive before its directory has been checked, and nothing is read past the budget while it is read.

Checked before reading, from the zip directory: the number of members, each member's compressed ratio
(uncompressed / compressed, for members over RATIO_FLOOR), the total uncompressed size, encryption, and paths that
would leave the archive (zip-slip). Checked while reading: the bytes actually unpacked are counted against each
member's declared size and the archive's total, since a header can lie.

XML compresses about tenfold and plain text three- to fivefold; MAX_RATIO leaves a wide margin above both, and an
archive that unpacks past it is a zip bomb. The absolute size is the caller's: a .docx may unpack to ten times the
transcript size limit, a .qdpx to 200 MB (`qualcode.refi.archive`).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from pathlib import Path

from qualcode.errors import InputError

MAX_RATIO = 100
# An office file (.docx, .xlsx) may unpack to this many times the transcript size limit (--max-size) in all: images,
# fonts and styles come with the text.
UNPACKED_RATIO = 10
RATIO_FLOOR = 1024 * 1024  # small members may compress as well as they like
MAX_MEMBERS = 100_000  # far more than any real document or project; refused before any member is looked at
CHUNK = 1024 * 1024


class Budget:
    """An open zip archive and what may still be unpacked from it."""

    def __init__(self, path: Path, archive: zipfile.ZipFile, *, max_total: int, hint: str = ""):
        """HINT ends the message when MAX_TOTAL is passed (how to raise it, where the caller has a way)."""
        self.path, self.zip, self.max_total, self.hint = path, archive, max_total, hint
        self.members: dict[str, zipfile.ZipInfo] = {}  # normalised, case-folded name → member
        self.unpacked = 0
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise InputError(f"zip bomb: more than {MAX_MEMBERS} members in the archive", path=path)
        total = 0
        for info in infos:
            name = safe_name(info.filename, path)
            if info.is_dir():
                continue
            total += info.file_size
            if total > max_total:
                raise InputError(self._too_big(), path=path)
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise InputError(
                    f"zip bomb: {info.filename!r} unpacks to {_mb(info.file_size)} from {info.compress_size} bytes "
                    f"(more than {MAX_RATIO} times): refused",
                    path=path,
                )
            if info.flag_bits & 0x1:
                raise InputError(f"{info.filename!r} is encrypted", path=path)
            self.members.setdefault(name.casefold(), info)

    def _too_big(self) -> str:
        return f"zip bomb: the archive unpacks to more than the {_mb(self.max_total)} limit{self.hint}"

    def find(self, name: str) -> zipfile.ZipInfo | None:
        """The member called NAME, matched case-insensitively (tools differ: 'Sources/', upper-case GUIDs)."""
        return self.members.get(posixpath.normpath(name.replace("\\", "/")).casefold())

    def read(self, info: zipfile.ZipInfo) -> bytes:
        """The member's bytes, counted as they are unpacked against its declared size and the archive's budget."""
        parts, size = [], 0
        try:
            with self.zip.open(info) as f:
                while chunk := f.read(CHUNK):
                    size += len(chunk)
                    self.unpacked += len(chunk)
                    if size > info.file_size:
                        raise InputError(
                            f"zip bomb: {info.filename!r} is larger than its header says ({info.file_size} bytes)",
                            path=self.path,
                        )
                    if self.unpacked > self.max_total:
                        raise InputError(self._too_big(), path=self.path)
                    parts.append(chunk)
        except (zipfile.BadZipFile, zlib.error, OSError, RuntimeError, EOFError, ValueError) as e:
            raise InputError(f"cannot read {info.filename!r} from the archive ({e})", path=self.path) from None
        return b"".join(parts)


def safe_name(name: str, path: Path) -> str:
    """The member's normalised path; refuses absolute paths and paths that climb out of the archive."""
    text = name.replace("\\", "/")
    norm = posixpath.normpath(text)
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text) or norm == ".." or norm.startswith("../"):
        raise InputError(f"archive member {name!r} points outside the archive (zip-slip): refused", path=path)
    return norm


def _mb(n: int) -> str:
    if n >= 1_048_576:
        return f"{n / 1_048_576:.0f} MB"
    return f"{n / 1_048_576:.1f} MB" if n >= 100_000 else f"{n} bytes"
