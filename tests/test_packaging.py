"""The wheel built from pyproject.toml is the whole bot: installed into a fresh venv outside the checkout, it runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "bot", "cogs")
# Every extension imports, and the schema's migrations apply to a new database: what a start does after the token.
SMOKE = """
import asyncio, importlib, sys
from pathlib import Path
import bot
from bot.bot import extension_names
from bot.services.asker import load_prompt
from bot.store import Store

async def migrate() -> list[int]:
    async with Store(Path(sys.argv[1])) as store:
        return await store.migrate()

for name in extension_names():
    importlib.import_module(name)
assert load_prompt("ask_system.md")
print(bot.__file__, len(extension_names()), len(asyncio.run(migrate())))
"""


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_the_wheel_installed_outside_the_checkout_starts(tmp_path: Path) -> None:
    source = tmp_path / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    # Offline: the venv's own setuptools builds it and nothing is fetched.
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                "-w", tmp_path / "dist", source, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("bookclub_bot-*.whl")

    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path).returncode == 0
    python = venv / "bin" / "python"
    # The dependencies come from the project's environment, after the wheel's own packages: nothing is downloaded.
    purelib = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                       cwd=tmp_path).stdout.strip())
    (purelib / "project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q",
                    wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DISCORD_", "OPENAI_", "PYTHON", "DATABASE_"))}
    smoke = run(python, "-c", SMOKE, elsewhere / "club.db", cwd=elsewhere, env=env)
    assert smoke.returncode == 0, smoke.stderr
    module, extensions, migrations = smoke.stdout.split()
    assert Path(module).is_relative_to(venv)
    assert int(extensions) >= 5 and int(migrations) >= 7

    started = run(python, "-m", "bot", cwd=elsewhere, env=env)
    assert started.returncode == 2, started.stderr
    (line,) = started.stderr.strip().splitlines()
    assert "DISCORD_TOKEN" in line
