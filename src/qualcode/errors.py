"""The one family of errors the library raises. The CLI turns each into one line on stderr and an exit code."""

from __future__ import annotations

from pathlib import Path


class QualcodeError(Exception):
    """Something the user can fix: bad input, unknown ids, a refused operation. Exit code 1."""

    exit_code = 1

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        return where + self.message


class InputError(QualcodeError):
    """A file cannot be read as what it claims to be (encoding, syntax, structure)."""


class NotFoundError(QualcodeError):
    """An interview, turn, code, coder or batch named by the user does not exist."""


class ConflictError(QualcodeError):
    """The operation would contradict what the project already holds."""


class UsageError(QualcodeError):
    """The command was called in a way that cannot work (missing or contradictory options). Exit code 2."""

    exit_code = 2
