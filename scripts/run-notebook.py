#!/usr/bin/env python3
"""Executes a notebook headless against an export folder; exits non-zero if any cell raises.

Usage: run-notebook.py NOTEBOOK EXPORT_DIR
The notebook runs with EXPORT_DIR as its working directory (and INFERMESH_EXPORT set to it). Nothing is
written back: the committed notebook keeps no outputs.
"""
import os
import sys

import nbformat
from nbclient import NotebookClient


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 64
    notebook_path, export_dir = sys.argv[1], os.path.abspath(sys.argv[2])
    notebook = nbformat.read(notebook_path, as_version=4)
    nbformat.validate(notebook)
    os.environ["INFERMESH_EXPORT"] = export_dir
    os.environ.setdefault("MPLBACKEND", "Agg")
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": export_dir}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, if one fails
    cells = sum(1 for cell in notebook.cells if cell.cell_type == "code")
    print(f"{notebook_path}: {cells} code cells ran without error on {export_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
