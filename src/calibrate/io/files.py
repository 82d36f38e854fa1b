"""Write output files all-or-nothing."""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

from ..errors import OutputError

#: Every file this process has written in full, in order (see :func:`written`).
_WRITTEN: list[Path] = []


def written() -> list[Path]:
    """The files this process has written in full so far (renamed into place)."""
    return list(_WRITTEN)


def write_files(files: Mapping[os.PathLike | str, bytes | str]) -> list[Path]:
    """Write every file, or none of them.

    Each file is first written in full to a temporary file beside it; only
    when all are written are they renamed into place (a rename is atomic
    within a folder). If anything fails or is interrupted before the renames,
    the temporary files are removed, so are the folders this call created,
    and no target is touched. Once the renames start, Ctrl-C does not stop
    them: they all complete and the call returns normally (the interrupt is
    absorbed), so that a command that was interrupted never leaves some
    files new and some old. Every target is therefore either its old content
    or its complete new content, never a part.

    Parameters
    ----------
    files : mapping
        ``{path: content}``; text is written as UTF-8.

    Returns
    -------
    list of Path
        The paths written.

    Raises
    ------
    OutputError
        When a file cannot be written (a read-only or full disk, no
        permission): the message names the output folder and the reason,
        never a temporary file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> [p.name for p in write_files({d / "a.txt": "hello", d / "b.json": b"{}"})]
    ['a.txt', 'b.json']
    """
    mode = _file_mode()
    staged: list[tuple[Path, Path]] = []
    created: list[Path] = []
    try:
        for path, content in files.items():
            path = Path(os.fspath(path))
            folder = path.parent
            try:
                missing = _missing_folders(folder)
                created += missing
                folder.mkdir(parents=True, exist_ok=True)
                data = content.encode("utf-8") if isinstance(content, str) else content
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
                staged.append((Path(tmp), path))
                os.chmod(tmp, mode)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError as exc:
                raise OutputError(f"cannot write to {folder}: {_reason(exc)}") from None
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        for folder in reversed(created):
            _remove_if_empty(folder)
        raise
    _commit(staged)
    return [path for _, path in staged]


def _commit(staged: list[tuple[Path, Path]]) -> None:
    """Rename every staged file into place; Ctrl-C waits until all are."""
    done, retried = 0, False
    try:
        with _interrupts_held():
            while done < len(staged):
                tmp, path = staged[done]
                try:
                    os.replace(tmp, path)
                except KeyboardInterrupt:
                    # Raised around the rename (not by a signal, which is held):
                    # finish the commit; retry once if the rename did not happen.
                    if tmp.exists():
                        if retried:
                            raise
                        retried = True
                        continue
                except OSError as exc:
                    raise OutputError(f"cannot write {path}: {_reason(exc)}") from None
                done, retried = done + 1, False
                _WRITTEN.append(path)
    finally:
        # Renames rarely fail (a target that became a folder, a vanished
        # disk); never leave temporary files behind when one does.
        for tmp, _ in staged[done:]:
            tmp.unlink(missing_ok=True)


@contextmanager
def _interrupts_held():
    """Hold Ctrl-C (SIGINT) until the block ends; it is then absorbed.

    Only the main thread can set signal handlers (and it alone receives
    SIGINT); elsewhere, or when the handler was not set from Python, the
    block runs as is.
    """
    previous = signal.getsignal(signal.SIGINT)
    if previous is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and its parents that do not exist yet, outermost first."""
    missing = []
    for parent in (folder, *folder.parents):
        if parent.exists():
            break
        missing.append(parent)
    return missing[::-1]


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty (someone else wrote there) or already gone


def _reason(exc: OSError) -> str:
    """The reason of an OSError without the file name it carries ("no space left on device")."""
    reason = exc.strerror or type(exc).__name__
    return reason[:1].lower() + reason[1:]


def _file_mode() -> int:
    """Permissions a plain ``open(path, "w")`` would give: 0o666 less the umask."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask
