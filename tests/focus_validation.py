"""FOCUS 1.2 datasets checked by the FinOps Foundation's focus-validator, run by deploy/focus/focus-validator.sh.

The validator needs Python >= 3.12 and its own pinned packages, so it lives in a venv of its own that the
script builds on first use (about a minute, once per machine) and reuses after that (a few seconds a run).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "deploy" / "focus" / "focus-validator.sh"
FAILED = "FAILED "  # how the script starts the line of each failing rule


class FocusValidatorSetupError(RuntimeError):
    """The validator could not be installed or run: the script's exit 2, with its stderr."""


def validate_focus(csv_path: Path, workdir: Path) -> list[str]:
    """The rules of FOCUS 1.2 that the CSV dataset fails, as "RuleId: what the rule requires";
    empty when it is valid. The validator's JUnit XML report is left in `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    report = workdir / f"{csv_path.stem}.focus-junit.xml"
    done = subprocess.run(
        ["bash", str(SCRIPT), "validate", str(csv_path), str(report)],
        capture_output=True,
        text=True,
        timeout=1200,  # the first run pip-installs the validator
        check=False,
    )
    failing = [line.removeprefix(FAILED) for line in done.stdout.splitlines() if line.startswith(FAILED)]
    if done.returncode == 0 and not failing:
        return []
    if done.returncode == 1 and failing:
        return failing
    raise FocusValidatorSetupError(
        f"{SCRIPT.name} validate {csv_path} exited {done.returncode}\n"
        f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}"
    )
