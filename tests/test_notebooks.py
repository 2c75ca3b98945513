"""Every notebook in ``notebooks/`` runs top to bottom, and every notebook in git is stripped.

The notebooks run in a fresh ``python3`` kernel; jupyter_client launches a
kernelspec whose command is ``python`` with ``sys.executable``, so the kernel is
the interpreter running pytest (the venv's, with rlfa installed), which the
first test checks. The kernel inherits this process's environment: the
deterministic XLA flag from ``conftest.py`` and ``MPLBACKEND=Agg`` (no display).

Strip a notebook's outputs before committing it::

    python notebooks/strip_outputs.py notebooks/*.ipynb
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

# Each notebook runs top to bottom in a kernel of its own: the full suite's, not the inner loop's.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TIMEOUT_PER_CELL_S = 300


def _repo_notebooks() -> list[Path]:
    """Every notebook in the repository, outside hidden directories and run outputs."""
    return sorted(p for p in ROOT.rglob("*.ipynb")
                  if not any(part.startswith(".") or part in ("runs", "build")
                             for part in p.relative_to(ROOT).parts[:-1]))


def _execute(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    client = NotebookClient(nb, kernel_name="python3", timeout=TIMEOUT_PER_CELL_S,
                            resources={"metadata": {"path": str(cwd)}})
    return client.execute()


def test_the_kernel_is_this_interpreter(monkeypatch, tmp_path):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import sys, os, rlfa\nprint(sys.executable)\nprint(os.environ['MPLBACKEND'])")])
    out = _execute(nb, tmp_path).cells[0].outputs[0]["text"].split()
    assert out == [sys.executable, "Agg"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, monkeypatch, tmp_path):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    # Run from a scratch directory so anything a notebook writes stays out of the repo.
    _execute(nb, tmp_path)  # raises CellExecutionError, with the traceback, on any error


def test_the_issue_8_notebooks_are_there():
    expected = {"linear_fa_random_walk", "backprop", "dqn_ladder", "extending_rlfa"}
    assert expected <= {p.stem for p in NOTEBOOKS}, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", _repo_notebooks(),
                         ids=[str(p.relative_to(ROOT)) for p in _repo_notebooks()])
def test_notebook_is_stripped(path):
    nb = json.loads(path.read_text())
    dirty = [i for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, (f"{path.relative_to(ROOT)}: code cells {dirty} have outputs or execution "
                       f"counts; strip them with `python notebooks/strip_outputs.py {path}`.")
