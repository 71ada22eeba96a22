"""Builds examples/tiegraph.ipynb from examples/tiegraph_notebook.py, so the two hold the same cells.

The script is in the "percent" format (as Jupytext, VS Code and Spyder read it): `# %%` starts a
code cell, `# %% [markdown]` a markdown cell whose lines are comments. The notebook is written with
its outputs cleared. Standard library only.

    python3 examples/build_notebook.py          # write the notebook
    python3 examples/build_notebook.py --check  # exit 1 if the notebook is out of date
"""
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "tiegraph_notebook.py"
NOTEBOOK = HERE / "tiegraph.ipynb"


def cells(text):
    """(kind, lines) for each `# %%` cell of the script."""
    out = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            out.append(("markdown" if "[markdown]" in line else "code", []))
        elif out:
            out[-1][1].append(line)
    return out


def notebook(text):
    nb_cells = []
    for kind, lines in cells(text):
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if kind == "markdown":
            lines = [l[2:] if l.startswith("# ") else l.lstrip("#") for l in lines]
        source = [l + "\n" for l in lines]
        if source:
            source[-1] = source[-1].rstrip("\n")
        cell_id = hashlib.sha1(("".join(source) + str(len(nb_cells))).encode()).hexdigest()[:8]
        cell = {"cell_type": kind, "id": cell_id, "metadata": {}, "source": source}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        nb_cells.append(cell)
    return {
        "cells": nb_cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def main():
    want = json.dumps(notebook(SCRIPT.read_text()), indent=1, ensure_ascii=False) + "\n"
    if "--check" in sys.argv[1:]:
        if not NOTEBOOK.exists() or NOTEBOOK.read_text() != want:
            print(f"{NOTEBOOK.name} is out of date: run python3 examples/build_notebook.py", file=sys.stderr)
            return 1
        print(f"{NOTEBOOK.name} matches {SCRIPT.name}")
        return 0
    NOTEBOOK.write_text(want)
    print(f"wrote {NOTEBOOK}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
