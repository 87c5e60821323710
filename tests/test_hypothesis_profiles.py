"""The property tests draw the same examples on every CI run and new ones on a developer's machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOW_PROFILE = "import tests.conftest; from hypothesis import settings; print(settings.default.derandomize)"


def derandomized_with(ci: str | None) -> bool:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    if ci is not None:
        env["CI"] = ci
    result = subprocess.run([sys.executable, "-c", SHOW_PROFILE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60, check=True)
    return result.stdout.strip() == "True"


def test_ci_draws_the_same_examples_every_run() -> None:
    assert derandomized_with("true")


def test_a_local_run_draws_new_examples() -> None:
    assert not derandomized_with(None)

