"""The README's two fresh-machine commands are exactly what CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text(), flags=re.DOTALL)


def test_readme_has_two_commands_and_ci_runs_both_verbatim():
    main_job, test_suite = readme_commands()
    assert "python -m experiments.dqn" in main_job and "pytest" in test_suite
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert main_job in ci_lines and test_suite in ci_lines
    assert ci_lines.index(main_job) < ci_lines.index(test_suite)
    assert "set -euo pipefail" in ci_lines
