"""The notebooks in notebooks/ are stored without outputs, and run from top to bottom.

Each notebook runs in a fresh ``python3`` kernel of this interpreter (ipykernel's own
kernel spec: a ``python3`` spec installed for the user or system-wide may point at
another Python, without calibrate), with notebooks/ as the working directory, on an
in-memory copy: the file in the repository is never rewritten. A failing cell fails the
test with the cell's source and the error.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
#: The notebooks issue #6 asks for; others may join them.
EXPECTED = {
    "01_calibrate.ipynb",
    "02_threshold_with_capacity.ipynb",
    "03_compare_and_export.ipynb",
    "04_monitor_and_recalibrate.ipynb",
}
CELL_TIMEOUT = 300  # seconds

#: Metadata that running a notebook writes (timings, widget state), not its author.
RUN_CELL_METADATA = ("execution", "ExecuteTime")
RUN_NOTEBOOK_METADATA = ("widgets",)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def test_the_analyst_notebooks_are_there():
    assert EXPECTED <= {path.name for path in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_is_stripped(path: Path):
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    problems = [f"metadata {key!r}" for key in RUN_NOTEBOOK_METADATA if key in nb.metadata]
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            if cell.outputs:
                problems.append(f"cell {index}: {len(cell.outputs)} output(s)")
            if cell.execution_count is not None:
                problems.append(f"cell {index}: execution_count {cell.execution_count}")
        problems += [
            f"cell {index}: metadata {key!r}" for key in RUN_CELL_METADATA if key in cell.metadata
        ]
    assert not problems, (
        f"{path.name} is not stripped (python scripts/strip_notebooks.py): " + "; ".join(problems)
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs(path: Path):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    # No kernel directories: "python3" is ipykernel's built-in spec, which starts
    # sys.executable.
    specs = KernelSpecManager(kernel_dirs=[], ensure_native_kernel=True)
    kernel = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs)
    running: dict = {}
    client = NotebookClient(
        nb,
        km=kernel,
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
        on_cell_start=lambda cell, cell_index: running.update(cell=cell, index=cell_index),
    )
    # Warnings inside the notebook are shown to the reader, never errors (even when the
    # environment turns them into errors for this process).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    try:
        # cleanup_kc: stop the kernel and close its channels, although we made the manager.
        client.execute(cleanup_kc=True, env=env)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        pytest.fail(_failure(path, running, exc), pytrace=False)


def _failure(path: Path, running: dict, exc: Exception) -> str:
    """Which cell failed, its source, and the error (traceback without colour codes)."""
    from nbclient.exceptions import CellTimeoutError

    cell = running.get("cell")
    if cell is None:
        return f"{path.name}: {type(exc).__name__}: {exc}"
    errors = [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    if isinstance(exc, CellTimeoutError):
        what = f"timed out: still running after {CELL_TIMEOUT} s"
    elif errors:
        error = errors[0]
        trace = _ANSI.sub("", "\n".join(error.get("traceback", [])))
        what = f"{error.get('ename')}: {error.get('evalue')}\n{trace}"
    else:
        what = f"{type(exc).__name__}: {_ANSI.sub('', str(exc))}"
    return (
        f"{path.name}: code cell {running['index']} failed\n"
        f"--- source ---\n{cell.source}\n--- error ---\n{what}"
    )
