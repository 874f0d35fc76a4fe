"""Every file the app writes for a person (export, printed PDF, backup) goes through here.

The bytes go to a temporary file beside the target, readable by its owner only from the
first byte, and are renamed into place once whole: a reader sees the old file or the new
one, never a torn one. An existing target is replaced only when the caller says so (the
command line's --force, the save dialog's own overwrite question); the live database and
its -wal/-shm/-journal companions, folders and device nodes are never written over.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from backclinic.services.errors import ServiceError

DATABASE_COMPANIONS = ("", "-wal", "-shm", "-journal")


class OutputRefused(ServiceError):
    """The target cannot or may not be written; nothing was written, stored or audited."""


def database_files(live: Path | None) -> tuple[Path, ...]:
    """The live SQLite file and the companions SQLite keeps beside it."""
    if live is None:
        return ()
    return tuple(Path(f"{live}{suffix}") for suffix in DATABASE_COMPANIONS)


def _same_file(target: Path, protected: Path) -> bool:
    if target.absolute() == protected.absolute():
        return True
    try:
        if target.resolve() == protected.resolve():
            return True
        return target.exists() and protected.exists() and os.path.samefile(target, protected)
    except OSError:
        return False


def _exists(target: Path) -> str:
    return f"{target} already exists; confirm replacing it (--force on the command line)."


def check_output(
    path: str | os.PathLike[str], *, force: bool, protected: Iterable[Path] = ()
) -> Path:
    """The target as a Path, or OutputRefused in one sentence saying why it is not written.

    Called before any work is stored or audited, so a refused target leaves no trace.
    """
    target = Path(path).expanduser()
    for guarded in protected:
        if _same_file(target, guarded):
            raise OutputRefused(
                f"{target} is the live database (or one of its files); choose another file."
            )
    try:
        existing = os.lstat(target)
    except FileNotFoundError:
        existing = None
    except OSError as error:
        raise OutputRefused(f"{target} cannot be checked: {error.strerror}.") from error
    if existing is not None:
        if stat.S_ISDIR(existing.st_mode):
            raise OutputRefused(f"{target} is a folder; give a file name to write to.")
        if not (stat.S_ISREG(existing.st_mode) or stat.S_ISLNK(existing.st_mode)):
            raise OutputRefused(
                f"{target} is a device or other special file, not a regular file; "
                "choose a file name."
            )
        if stat.S_ISLNK(existing.st_mode) and not force:
            raise OutputRefused(
                f"{target} is a symbolic link; confirm replacing the link "
                "(--force on the command line)."
            )
        if not force:
            raise OutputRefused(_exists(target))
    if not target.parent.is_dir():
        raise OutputRefused(
            f"The folder {target.parent} does not exist; create it or choose another place."
        )
    return target


def write_atomically(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    force: bool,
    protected: Iterable[Path] = (),
) -> Path:
    """Write ``data`` whole to ``path`` (0600), or raise OutputRefused and write nothing."""
    target = check_output(path, force=force, protected=protected)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".partial", dir=target.parent
    )
    partial = Path(temporary)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        place(partial, target, force=force)
    except OSError as error:
        raise OutputRefused(f"{target} could not be written: {error.strerror or error}.") from error
    finally:
        partial.unlink(missing_ok=True)
    return target


def place(partial: Path, target: Path, *, force: bool) -> None:
    """Rename a finished temporary file into place; without force, never over another file.

    A link (which fails if the name was taken meanwhile) then unlink, so a file created by
    someone else between the check and now is not overwritten either.
    """
    if force:
        os.replace(partial, target)
        return
    try:
        os.link(partial, target)
    except FileExistsError:
        raise OutputRefused(_exists(target)) from None
    except OSError:
        # Some filesystems (FAT on a USB stick) have no hard links: check, then rename.
        if os.path.lexists(target):
            raise OutputRefused(_exists(target)) from None
        os.replace(partial, target)
        return
    partial.unlink()
