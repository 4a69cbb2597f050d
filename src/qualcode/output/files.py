"""The one way qualcode writes a file the user asked for (`-o FILE`, `export qdpx FILE`, `backup FILE`, the demo).

- The project file is never a target: a path that is the project (after resolving links; the same file by
  `os.path.samefile` when it exists), or its `-wal`, `-shm` or `-journal` file beside it, is refused.
- The file is written under a temporary name beside it, flushed to disk (fsync) and renamed over the target only
  when complete, so a full disk or a crash leaves the previous file as it was and no partial file behind.
- A new file gets the user's usual permissions (0666 less the umask; `tempfile.mkstemp` alone would make it 0600);
  a file that is replaced keeps its own, as writing over it in place would.
- A symbolic link is followed: the file it points to is replaced and the link stays. A target that is not a regular
  file (a device, a named pipe) is written in place, since there is no file to keep and renaming over a device
  would replace it. `/dev/stdout`, `/dev/fd/N` and `/proc/self/fd/N` are written through the descriptor the shell
  set up, whatever it holds: reopening them by name would truncate a file opened with `>>` (or replace it by the
  rename), and cannot reach a pipe.
- An existing file without write permission is refused, not replaced: the rename would go through where an
  in-place write would not.
- Every OSError while writing is one QualcodeError naming the file, but a broken pipe (the reader of a pipe or a
  named pipe went away), which is raised as it is: the command line ends quietly on it, as it does on stdout.
- SIGTERM and SIGHUP, which end a process without running any `finally`, become SystemExit while a temporary file
  exists, so it is removed on the way out.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from qualcode.errors import ConflictError, NotFoundError, QualcodeError, UsageError

PROJECT_SIDE_FILES = ("", "-wal", "-shm", "-journal")
CHUNK = 1024 * 1024


def write(path: str | Path, content: str | bytes, *, project: str | Path | None, overwrite: bool = True) -> None:
    """Write CONTENT (text as UTF-8) to PATH, never over PROJECT, never leaving a partial file."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    with (
        destination(path, project=project, overwrite=overwrite) as dest,
        open(dest, "r+b") if isinstance(dest, Path) else contextlib.nullcontext(dest) as f,
    ):
        view = memoryview(data)
        while view:  # os.write and its count: a short write (a pipe, a full disk) is carried on or raised, never lost
            view = view[os.write(f.fileno(), view[:CHUNK]) :]


@contextlib.contextmanager
def destination(path: str | Path, *, project: str | Path | None, overwrite: bool = True) -> Iterator[Path | BinaryIO]:
    """`replacing`, with a target written in place already open: a temporary file to fill by name, or a binary
    file on the device, pipe or descriptor PATH names."""
    with replacing(path, project=project, overwrite=overwrite) as tmp:
        if tmp is not None:
            yield tmp
            return
        with _open_in_place(Path(path)) as f:
            yield f


@contextlib.contextmanager
def replacing(path: str | Path, *, project: str | Path | None, overwrite: bool = True) -> Iterator[Path | None]:
    """A temporary file beside PATH for the caller to fill (by name: SQLite and zipfile write through it); when the
    block ends without an error it is flushed to disk and renamed over PATH, otherwise removed. Yields None when
    PATH is a device, a pipe or an inherited descriptor, which the caller writes in place (`destination` opens it)."""
    target = Path(path)
    real = check_target(target, project=project, overwrite=overwrite)
    with _terminate_by_exception():
        if _descriptor(target) is not None or (real.exists() and not real.is_file()):
            try:
                yield None
            except BrokenPipeError:  # the reader of the pipe went away: the caller ends as it does on stdout
                raise
            except OSError as e:
                raise _failed(target, e) from e
            return
        existed, tmp = real.exists(), None
        try:
            fd, name = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
            tmp = Path(name)
            os.close(fd)
            yield tmp
            _finish(tmp, real)
        except OSError as e:
            raise _failed(target, e, kept=existed) from e
        finally:
            if tmp is not None:
                # SQLite may have left its rollback journal beside a database written here (a backup on a full disk).
                for leftover in (tmp, Path(f"{tmp}-journal")):
                    with contextlib.suppress(FileNotFoundError):
                        leftover.unlink()


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
    # os.access alone says yes to root for any file; the permission bits are what the file's owner meant.
    if real.is_file() and not (os.access(real, os.W_OK) and real.stat().st_mode & 0o222):
        raise QualcodeError(f"{path} is read-only: make it writable, or choose another file")
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


def _descriptor(path: Path) -> int | None:
    """The descriptor of this process PATH names, through links: /dev/stdout, /dev/fd/N, /proc/self/fd/N."""
    names = re.compile(rf"/(?:dev|proc/self|proc/{os.getpid()})/fd/(\d+)")
    p = os.path.abspath(path)
    for _ in range(40):  # as many links as the kernel follows
        if m := names.fullmatch(p):
            return int(m[1])
        try:
            p = os.path.normpath(os.path.join(os.path.dirname(p), os.readlink(p)))
        except OSError:  # not a link
            return None
    return None


def _open_in_place(path: Path) -> BinaryIO:
    fd = _descriptor(path)
    if fd is None:
        # No O_CREAT or O_TRUNC: PATH is a device or a pipe (opening a pipe waits for its reader).
        return os.fdopen(os.open(path, os.O_WRONLY), "wb")
    for stream in (sys.stdout, sys.stderr):  # what was printed there before comes first
        with contextlib.suppress(OSError, ValueError):
            if stream.fileno() == fd:
                stream.flush()
    return os.fdopen(os.dup(fd), "wb")


@contextlib.contextmanager
def _terminate_by_exception() -> Iterator[None]:
    """SIGTERM and SIGHUP raise SystemExit (exit status 128 + the signal, as a shell reports it) for the duration,
    in the main thread and unless someone else handles them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) == signal.SIG_DFL:
            previous[sig] = signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; it is put back at once
    os.umask(mask)
    return mask


def _failed(path: Path, e: OSError, *, kept: bool = False) -> QualcodeError:
    kept_note = f" ({path} as it was before is unchanged)" if kept else ""
    return QualcodeError(f"cannot write {path}: {e.strerror or e}{kept_note}")
