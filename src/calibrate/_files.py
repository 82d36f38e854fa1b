"""Write output files all-or-nothing."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path


def write_files(files: Mapping[os.PathLike | str, bytes | str]) -> list[Path]:
    """Write every file, or none of them.

    Each file is first written in full to a temporary file beside it; only
    when all are written are they renamed into place (a rename is atomic
    within a folder). If anything fails before the renames, the temporary
    files are removed and no target is touched. Every target is therefore
    either its old content or its complete new content, never a part.

    Parameters
    ----------
    files : mapping
        ``{path: content}``; text is written as UTF-8.

    Returns
    -------
    list of Path
        The paths written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> [p.name for p in write_files({d / "a.txt": "hello", d / "b.json": b"{}"})]
    ['a.txt', 'b.json']
    """
    mode = _file_mode()
    staged: list[tuple[Path, Path]] = []
    try:
        for path, content in files.items():
            path = Path(os.fspath(path))
            path.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode("utf-8") if isinstance(content, str) else content
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((Path(tmp), path))
            os.chmod(tmp, mode)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    done = 0
    try:
        for tmp, path in staged:
            os.replace(tmp, path)
            done += 1
    finally:
        # Renames rarely fail (a target that became a folder, a vanished
        # disk); never leave temporary files behind when one does.
        for tmp, _ in staged[done:]:
            tmp.unlink(missing_ok=True)
    return [path for _, path in staged]


def _file_mode() -> int:
    """Permissions a plain ``open(path, "w")`` would give: 0o666 less the umask."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask
