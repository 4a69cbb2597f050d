"""Reading a .qdpx archive without trusting it: members are read into memory, never extracted, within the budget
every archive qualcode opens has (`qualcode.ingest.archive`: zip-slip, member count, compressed ratio and total size,
checked on the directory before anything is read and counted again while reading).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from qualcode.errors import InputError
from qualcode.ingest.archive import Budget

MAX_TOTAL_BYTES = 200 * 1024 * 1024  # a whole project: every transcript and the project.qde, unpacked


class Archive:
    def __init__(self, path: Path):
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
        except FileNotFoundError:
            raise InputError("no such file", path=path) from None
        except zipfile.BadZipFile as e:
            raise InputError(f"not a REFI-QDA project: a .qdpx file is a zip archive ({e})", path=path) from None
        except OSError as e:  # the file cannot be reached or read (a link in a loop, no permission, a folder)
            raise InputError(f"cannot read file: {e.strerror or e}", path=path) from None
            raise InputError(f"not a REFI-QDA project: a .qdpx file is a zip archive ({e})", path=path) from None
        try:
            self.budget = Budget(path, self.zip, max_total=MAX_TOTAL_BYTES)
        except BaseException:
            self.zip.close()
            raise

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.zip.close()

    def find(self, name: str) -> str | None:
        """The member called NAME, matched case-insensitively (tools differ: 'Sources/', upper-case GUIDs)."""
        info = self.budget.find(name)
        return info.filename if info else None

    def read(self, name: str) -> bytes:
        info = self.budget.find(name)
        if info is None:
            raise KeyError(name)
        return self.budget.read(info)
