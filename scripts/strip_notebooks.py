"""Strip outputs, execution counts and run metadata from notebooks, in place.

Notebooks are kept in the repository without outputs (tests/test_notebooks.py checks
it), so that diffs show what changed in the code and text, not in the results.

Usage::

    python scripts/strip_notebooks.py                 # every notebook under notebooks/
    python scripts/strip_notebooks.py a.ipynb b.ipynb # these notebooks
    python scripts/strip_notebooks.py --check         # list unstripped notebooks, exit 1 if any
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"

#: Metadata that running a notebook writes (timings, widget state), not its author.
RUN_CELL_METADATA = ("execution", "ExecuteTime")
RUN_NOTEBOOK_METADATA = ("widgets",)


def strip(nb: nbformat.NotebookNode) -> bool:
    """Remove outputs, execution counts and run metadata; True when anything changed."""
    changed = False
    for key in RUN_NOTEBOOK_METADATA:
        changed |= nb.metadata.pop(key, None) is not None
    # The kernel fills in its Python version, lexer and so on; the language's name is enough.
    language = nb.metadata.get("language_info")
    if language and set(language) - {"name"}:
        nb.metadata["language_info"] = {"name": language.get("name", "python")}
        changed = True
    for cell in nb.cells:
        if cell.cell_type == "code":
            changed |= bool(cell.outputs) or cell.execution_count is not None
            cell.outputs = []
            cell.execution_count = None
        for key in RUN_CELL_METADATA:
            changed |= cell.metadata.pop(key, None) is not None
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: notebooks/)")
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a notebook has outputs"
    )
    args = parser.parse_args(argv)
    paths = args.paths or sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    unstripped = []
    for path in paths:
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        if not strip(nb):
            continue
        unstripped.append(path)
        if not args.check:
            nbformat.validate(nb)
            nbformat.write(nb, path)
    verb = "not stripped" if args.check else "stripped"
    for path in unstripped:
        print(f"{verb}: {path}")
    return 1 if args.check and unstripped else 0


if __name__ == "__main__":
    sys.exit(main())
