"""`make` on a machine as it comes: a Python that is too old, a venv that cannot be made, one left half-built."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make") or "make"
# An interpreter whose version and `-m venv` the test decides; the venv's python is a copy whose pip only logs.
FAKE_PYTHON = """#!/bin/sh
case "$1" in
  -c) [ "$FAKE_VERSION_OK" = 1 ]; exit $? ;;
  -V) echo "Python $FAKE_VERSION"; exit 0 ;;
  -m) case "$2" in
        venv) mkdir -p "$3/bin"; [ "$FAKE_VENV_FAILS" = 1 ] && exit 1; cp "$0" "$3/bin/python"; exit 0 ;;
        pip) echo "$*" >> "$FAKE_LOG"; exit 0 ;;
      esac ;;
esac
exit 1
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    fake = tmp_path / "fakepython"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    return tmp_path


def make(checkout: Path, *, version: str = "3.12.1", version_ok: bool = True,
         venv_fails: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FAKE_VERSION": version, "FAKE_VERSION_OK": "1" if version_ok else "0",
           "FAKE_VENV_FAILS": "1" if venv_fails else "0", "FAKE_LOG": str(checkout / "pip.log")}
    return subprocess.run([MAKE, "--no-print-directory", ".venv/.installed", "PYTHON=./fakepython"], cwd=checkout,
                          env=env, capture_output=True, text=True, timeout=60, check=False)


def test_a_python_older_than_3_11_gets_one_line_and_no_venv(checkout: Path) -> None:
    result = make(checkout, version="3.10.12", version_ok=False)
    assert result.returncode != 0
    (line,) = result.stderr.strip().splitlines()
    assert "needs Python 3.11 or newer" in line and "Python 3.10.12" in line and "PYTHON=" in line
    assert not (checkout / ".venv").exists()


def test_a_venv_that_cannot_be_created_is_not_left_behind(checkout: Path) -> None:
    result = make(checkout, venv_fails=True)
    assert result.returncode != 0
    assert "Could not create .venv" in result.stderr
    assert not (checkout / ".venv").exists()


def test_a_half_built_venv_is_made_again_and_the_install_finishes(checkout: Path) -> None:
    # An install interrupted while the venv was being made: a python that does not run, and no stamp.
    (checkout / ".venv" / "bin").mkdir(parents=True)
    (checkout / ".venv" / "bin" / "python").write_text("")
    result = make(checkout)
    assert result.returncode == 0, result.stderr
    assert (checkout / ".venv" / ".installed").exists()
    assert "install --quiet -e .[dev]" in (checkout / "pip.log").read_text()
    assert make(checkout).stdout.strip().endswith("is up to date.")
