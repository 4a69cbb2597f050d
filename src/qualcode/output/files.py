"""The one way qualcode writes a file the user asked for (`-o FILE`, `export qdpx FILE`, `backup FILE`, the demo).

- The project file is never a target: a path that is the project (after resolving links; the same file by
  `os.path.samefile` when it exists), or its `-wal`, `-shm` or `-journal` file beside it, is refused.
- The file is written under a temporary name beside it, flushed to disk (fsync) and renamed over the target only
  when complete, so a full disk or a crash leaves the previous file as it was and no partial file behind.
- A new file gets the user's usual permissions (0666 less the umask; `tempfile.mkstemp` alone would make it 0600);
  a file that is replaced keeps its own, as writing over it in place would.
- A symbolic link is followed: the file it points to is replaced and the link stays. A target that is not a regular
  file (`/dev/stdout`, a named pipe) is written in place, since there is no file to keep and renaming over a device
  would replace it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from qualcode.errors import ConflictError, NotFoundError, QualcodeError, UsageError

PROJECT_SIDE_FILES = ("", "-wal", "-shm", "-journal")
CHUNK = 1024 * 1024


def write(path: str | Path, content: str | bytes, *, project: str | Path | None, overwrite: bool = True) -> None:
    """Write CONTENT (text as UTF-8) to PATH, never over PROJECT, never leaving a partial file."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    with replacing(path, project=project, overwrite=overwrite) as tmp:
        if tmp is None:  # a device or a pipe: written in place
            _write_in_place(Path(path), data)
            return
        fd = os.open(tmp, os.O_WRONLY)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view[:CHUNK]) :]
        finally:
            os.close(fd)


@contextlib.contextmanager
def replacing(path: str | Path, *, project: str | Path | None, overwrite: bool = True) -> Iterator[Path | None]:
    """A temporary file beside PATH for the caller to fill (by name: SQLite and zipfile write through it); when the
    block ends without an error it is flushed to disk and renamed over PATH, otherwise removed. Yields None when
    PATH is a device or a pipe, which the caller writes in place."""
    target = Path(path)
    real = check_target(target, project=project, overwrite=overwrite)
    if real.exists() and not real.is_file():
        yield None
        return
    try:
        fd, name = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    except OSError as e:
        raise _failed(target, e) from e
    os.close(fd)
    tmp, existed = Path(name), real.exists()
    try:
        yield tmp
        _finish(tmp, real)
    except OSError as e:
        raise _failed(target, e, kept=existed) from e
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def check_target(path: Path, *, project: str | Path | None, overwrite: bool = True) -> Path:
    """The real path PATH will be written to; refuses the project, a folder, a missing folder, and with
    OVERWRITE=False an existing file."""
    real = Path(os.path.realpath(path))
    if project is not None and str(project) != ":memory:" and _is_project(path, real, Path(project)):
        raise UsageError(
            f"{path} is the project file itself (--db): writing there would destroy the project; choose another file"
        )
    if real.is_dir():
        raise UsageError(f"{path} is a folder; name the file to write")
    if not real.parent.is_dir():
        raise NotFoundError(f"folder {real.parent} does not exist", path=path)
    if real.exists() and not overwrite:
        raise ConflictError(f"{path} already exists; choose another name, or overwrite it with --force")
    return real


def _is_project(path: Path, real: Path, project: Path) -> bool:
    project_real = Path(os.path.realpath(project))
    for suffix in PROJECT_SIDE_FILES:
        side = project_real.with_name(project_real.name + suffix)
        if real == side:
            return True
        with contextlib.suppress(OSError):  # a hard link, or a path the realpath comparison cannot see through
            if real.exists() and side.exists() and os.path.samefile(real, side):
                return True
    return False


def _finish(tmp: Path, real: Path) -> None:
    try:
        mode = stat.S_IMODE(real.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    os.chmod(tmp, mode)
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, real)
    with contextlib.suppress(OSError):  # the rename itself reaches the disk with the folder's entry
        dirfd = os.open(real.parent, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)


def _write_in_place(path: Path, data: bytes) -> None:
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as e:
        raise _failed(path, e) from e


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; it is put back at once
    os.umask(mask)
    return mask


def _failed(path: Path, e: OSError, *, kept: bool = False) -> QualcodeError:
    kept_note = f" ({path} as it was before is unchanged)" if kept else ""
    return QualcodeError(f"cannot write {path}: {e.strerror or e}{kept_note}")
