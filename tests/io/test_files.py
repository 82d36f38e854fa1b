"""Tests for calibrate.io.files: outputs are written all or none; errors name the folder."""

from __future__ import annotations

import errno
import os
import signal
import tempfile

import pytest

from calibrate.errors import CalibrateError, OutputError
from calibrate.io.files import write_files

REAL_REPLACE = os.replace


def _files(folder):
    return {folder / "a.json": "new a", folder / "b.txt": "new b", folder / "c.bin": b"new c"}


def _everything(root):
    """Every file and folder under ``root``, with the content of the files."""
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else None
        for p in sorted(root.rglob("*"))
    }


def _os_error(code):
    def fail(*args, **kwargs):
        # As the system reports it: with the name of the temporary file.
        raise OSError(code, os.strerror(code), "/somewhere/.a.json.x1y2z3.tmp")

    return fail


CASES = [
    ("fsync", errno.ENOSPC, "no space left on device"),
    ("mkstemp", errno.EROFS, "read-only file system"),
    ("mkstemp", errno.EACCES, "permission denied"),
]


def _patch(monkeypatch, where, fail):
    if where == "mkstemp":
        monkeypatch.setattr(tempfile, "mkstemp", fail)
    else:
        monkeypatch.setattr(os, where, fail)


@pytest.mark.parametrize(("where", "code", "reason"), CASES)
def test_a_failed_write_names_the_folder_and_leaves_old_files(
    tmp_path, monkeypatch, where, code, reason
):
    for path in _files(tmp_path):
        path.write_text("old")
    before = _everything(tmp_path)
    _patch(monkeypatch, where, _os_error(code))
    with pytest.raises(OutputError) as caught:
        write_files(_files(tmp_path))
    assert str(caught.value) == f"cannot write to {tmp_path}: {reason}"
    assert isinstance(caught.value, CalibrateError) and isinstance(caught.value, OSError)
    assert _everything(tmp_path) == before


@pytest.mark.parametrize(("where", "code", "reason"), CASES)
def test_a_failed_write_removes_the_folders_it_created(tmp_path, monkeypatch, where, code, reason):
    out = tmp_path / "new" / "deeper"
    _patch(monkeypatch, where, _os_error(code))
    with pytest.raises(OutputError, match=f"^cannot write to {out}: {reason}$"):
        write_files(_files(out))
    assert _everything(tmp_path) == {}


def test_a_failed_write_keeps_a_folder_that_was_there(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(os, "fsync", _os_error(errno.ENOSPC))
    with pytest.raises(OutputError):
        write_files(_files(out / "sub"))
    assert _everything(tmp_path) == {"out": None}


def test_ctrl_c_while_writing_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / "new"
    calls = []

    def interrupted(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_files(_files(out))
    assert _everything(tmp_path) == {}


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("at", [0, 1, 2])
def test_ctrl_c_during_the_renames_completes_them(tmp_path, monkeypatch, at, when):
    """Once the renames start, every file ends up new and the write succeeds."""
    for path in _files(tmp_path):
        path.write_text("old")
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) - 1 == at and when == "before":
            raise KeyboardInterrupt
        REAL_REPLACE(src, dst)
        if len(calls) - 1 == at and when == "after":
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", replace)
    paths = write_files(_files(tmp_path))
    assert paths == list(_files(tmp_path))
    assert _everything(tmp_path) == {
        p.name: c.encode() if isinstance(c, str) else c for p, c in _files(tmp_path).items()
    }


def test_a_real_ctrl_c_during_the_renames_waits_for_them(tmp_path, monkeypatch):
    # Python's own Ctrl-C handler, whatever an earlier test installed (pyspark installs one).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        REAL_REPLACE(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    try:
        write_files(_files(tmp_path))
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.txt", "c.bin"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_failed_rename_names_the_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "replace", _os_error(errno.EACCES))
    with pytest.raises(
        OutputError, match=f"^cannot write {tmp_path / 'a.json'}: permission denied$"
    ):
        write_files(_files(tmp_path))
    assert _everything(tmp_path) == {}
