"""``python -m rlfa compare|redraw``: commands on saved run directories.

    python -m rlfa compare RUN_DIR [RUN_DIR ...] [--out DIR] [--reps N] [--seed S] [--curve COLUMN]
    python -m rlfa redraw RUN_DIR [RUN_DIR ...]

``compare``: statistics across runs (:mod:`rlfa.compare`); ``redraw``: a run's
``figure.png`` drawn again from its files (:func:`rlfa.study.redraw`), without
rerunning it.
"""

from __future__ import annotations

import sys

USAGE = ("usage: python -m rlfa compare RUN_DIR [RUN_DIR ...] [--out DIR] [--reps N] "
         "[--seed S] [--curve COLUMN]\n       python -m rlfa redraw RUN_DIR [RUN_DIR ...]\n"
         "compare: statistics across runs (python -m rlfa compare --help); redraw: a run's "
         "figure.png again from its files, without rerunning it")


def redraw(paths: list[str]) -> int:
    """The ``redraw`` command: print each figure's path; 2 with one ``error:`` line on a
    directory that cannot be drawn."""
    from rlfa import study

    if not paths:
        print(USAGE + "\nerror: redraw needs at least one RUN_DIR", file=sys.stderr)
        return 2
    for path in paths:
        try:
            print(f"figure: {study.redraw(path)}", flush=True)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    return 0


def main(argv: list[str]) -> int:
    """Run the command ``argv`` names (``sys.argv[1:]``); returns the exit status."""
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if argv[:1] == ["redraw"]:
        return redraw(argv[1:])
    if argv[:1] != ["compare"]:
        print(USAGE + "\nerror: the subcommands are 'compare' and 'redraw'", file=sys.stderr)
        return 2
    from rlfa import compare

    return compare.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
