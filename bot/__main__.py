"""`python -m bot`: read the settings, open the resources, run the bot until stopped."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import sys
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import discord
from pydantic import ValidationError

from bot.backup import backup
from bot.bot import BookClubBot
from bot.clock import Clock
from bot.log import setup_logging
from bot.services.asker import Asker, ModelAsker, OfflineAsker, readonly_history
from bot.services.openlibrary import OpenLibraryCatalogue
from bot.settings import SETUP_HELP, Settings, describe_errors
from bot.store import Store, StoreError, is_busy

log = logging.getLogger("bot")

EXIT_CONFIG = 2


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        for line in describe_errors(error):
            print(f"Invalid setting {line}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


async def open_asker(settings: Settings, stack: AsyncExitStack, catalogue: OpenLibraryCatalogue) -> Asker:
    """The offline asker over a read-only connection, behind a model when OPENAI_API_KEY is set."""
    history = await stack.enter_async_context(readonly_history(settings.database_path))
    offline = OfflineAsker(history, catalogue)
    if settings.openai_api_key is None:
        return offline
    # Imported only when a model is configured: the SDK adds ~0.3 s and ~15 MB to every start of an offline bot.
    from openai import AsyncOpenAI

    client = await stack.enter_async_context(
        AsyncOpenAI(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=str(settings.openai_base_url) if settings.openai_base_url else None,
            # One quick retry at most: a member is waiting, and the offline answer is ready.
            max_retries=1,
            timeout=20.0,
        )
    )
    return ModelAsker(client, settings.openai_model, offline)


async def run(settings: Settings, token: str) -> None:
    timeout = aiohttp.ClientTimeout(total=20)
    clock = Clock()
    async with AsyncExitStack() as stack:
        store = await stack.enter_async_context(Store(settings.database_path))
        await store.db.wait_until_writable()
        http_session = await stack.enter_async_context(aiohttp.ClientSession(timeout=timeout))
        catalogue = OpenLibraryCatalogue(http_session, settings.openlibrary_base, store.catalogue_cache, clock)
        asker = await open_asker(settings, stack, catalogue)
        bot = BookClubBot(settings=settings, store=store, clock=clock, http_session=http_session, asker=asker,
                          catalogue=catalogue)
        async with bot:
            await bot.start(token)


def backup_command(settings: Settings, target: str) -> None:
    try:
        pages = backup(settings.database_path, Path(target))
    except (OSError, ValueError, RuntimeError, sqlite3.Error) as error:
        print(f"Backup failed: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"Backed up {settings.database_path} to {target} ({pages} pages).")


def main() -> None:
    settings = load_settings()
    arguments = sys.argv[1:]
    if arguments[:1] == ["backup"]:
        if len(arguments) != 2:
            print("Usage: python -m bot backup PATH", file=sys.stderr)
            raise SystemExit(EXIT_CONFIG)
        backup_command(settings, arguments[1])
        return
    if arguments:
        print("Usage: python -m bot [backup PATH]", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG)
    if settings.discord_token is None:
        print(SETUP_HELP, file=sys.stderr)
        raise SystemExit(EXIT_CONFIG)
    secrets = [s.get_secret_value() for s in (settings.discord_token, settings.openai_api_key) if s is not None]
    setup_logging(settings.log_level_number, secrets)
    try:
        asyncio.run(run(settings, settings.discord_token.get_secret_value()))
    except KeyboardInterrupt:
        log.info("stopped")
    except StoreError as error:
        print(f"Cannot start: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    except sqlite3.OperationalError as error:
        if not is_busy(error):
            raise
        # Taken again by another program between the wait above and a start-up write: say so, not a traceback.
        print(f"Cannot start: another program held the database {settings.database_path} for over 2 s during "
              "start-up. Close it (an open sqlite3 shell?) and start the bot again.", file=sys.stderr)
        raise SystemExit(1) from None
    except discord.LoginFailure:
        print("Discord refused the token in DISCORD_TOKEN: reset it in the developer portal and update .env.",
              file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


if __name__ == "__main__":
    main()
