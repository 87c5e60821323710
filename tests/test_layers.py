"""The layers' direction: the bot's core never imports a cog (read from the source), and what the core shares."""

from __future__ import annotations

import ast
from pathlib import Path

import aiohttp

from bot.bot import BookClubBot
from bot.clock import ManualClock
from bot.services.asker import OfflineAsker
from bot.settings import Settings
from bot.store import Store

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (inside functions and TYPE_CHECKING blocks too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_nothing_under_bot_imports_from_cogs() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(name for name in imported_modules(path)
                                            if name == "cogs" or name.startswith("cogs."))
        for path in sorted((ROOT / "bot").rglob("*.py"))
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def reaches(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


# Pure logic: no Discord, no database, no outside I/O, and nothing from the layers above.
NOT_IN_DOMAIN = ("discord", "aiosqlite", "sqlite3", "aiohttp", "httpx", "openai", "bot.store", "bot.services",
                 "bot.app", "bot.bot", "cogs")


def test_the_domain_imports_no_discord_database_or_outside_io() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(name for name in imported_modules(path) if reaches(name, NOT_IN_DOMAIN))
        for path in sorted((ROOT / "bot" / "domain").rglob("*.py"))
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_use_cases_import_no_discord() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(name for name in imported_modules(path) if reaches(name, ("discord",)))
        for path in sorted((ROOT / "bot" / "app").rglob("*.py"))
    }
    assert {path: names for path, names in offenders.items() if names} == {}


# The database drivers belong to the store. Outside it, only to name the store's errors (bot/errors.py subclasses
# sqlite3's), to report a failed start (bot/__main__.py) and to survive a failed cache write (Open Library).
DRIVER_USERS = {"bot/errors.py", "bot/__main__.py", "bot/services/openlibrary.py"}


def test_only_the_store_talks_to_the_database_driver() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(name for name in imported_modules(path)
                                            if reaches(name, ("sqlite3", "aiosqlite")))
        for path in sorted((ROOT / "bot").rglob("*.py"))
        if ROOT / "bot" / "store" not in path.parents
    }
    assert {path for path, names in offenders.items() if names} == DRIVER_USERS


def test_the_check_sees_an_import_of_a_cog_wherever_it_is(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import cogs.club\n"
                      "def late():\n    from cogs._shared.replies import reply\n", encoding="utf-8")
    assert {"cogs.club", "cogs._shared.replies"} <= imported_modules(module)


def test_no_cog_imports_sqlite3_or_the_store_and_none_is_over_400_lines() -> None:
    for path in sorted((ROOT / "cogs").rglob("*.py")):
        assert "sqlite3" not in imported_modules(path), path
        text = path.read_text(encoding="utf-8")
        assert len(text.splitlines()) <= 400, path
        assert "bot.store" not in text, f"{path} reaches the store: cogs call use cases (bot.services)"


async def test_club_shares_the_asker_name_index_and_errors_are_reported_by_an_extension(tmp_path: Path,
                                                                                        clock: ManualClock) -> None:
    settings = Settings(_env_file=None, database_path=tmp_path / "bookclub.db")  # pyright: ignore[reportCallIssue]
    async with Store(settings.database_path) as store, aiohttp.ClientSession() as session:
        await store.migrate()
        asker = OfflineAsker(store.history)
        bot = BookClubBot(settings=settings, store=store, clock=clock, http_session=session, asker=asker)
        assert bot.services.club.index is asker.index
        plain = bot.tree.on_error
        await bot.load_extension("cogs.errors")
        reporter = bot.get_cog("ErrorReporter")
        assert reporter is not None and bot.tree.on_error == getattr(reporter, "on_app_command_error", None)
        await bot.unload_extension("cogs.errors")
        assert bot.tree.on_error == plain
