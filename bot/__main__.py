"""`python -m bot`: read the settings, open the resources, run the bot until stopped."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import signal
import sqlite3
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from bot.log import setup_logging
from bot.settings import SETUP_HELP, Settings, describe_errors
from bot.store import BUSY_TIMEOUT_SECONDS, Store, StoreError, is_busy, start_integrity_check
from bot.store.backup import backup

# discord.py, aiohttp and the bot's own modules are imported where they are used, after the database's integrity
# check has started: importing them is most of the start-up, and the check reads the whole file meanwhile.
if TYPE_CHECKING:
    from bot.bot import BookClubBot
    from bot.services.asker import Asker
    from bot.services.openlibrary import OpenLibraryCatalogue

log = logging.getLogger("bot")

EXIT_CONFIG = 2
STOP_GRACE_SECONDS = 10


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        for line in describe_errors(error):
            print(f"Invalid setting {line}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


async def open_asker(settings: Settings, stack: AsyncExitStack, catalogue: OpenLibraryCatalogue) -> Asker:
    """The offline asker over a read-only connection, behind a model when OPENAI_API_KEY is set."""
    from bot.services.asker import ModelAsker, OfflineAsker, readonly_history

    history = await stack.enter_async_context(readonly_history(settings.database))
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


class Stopper:
    """Ctrl-C (SIGINT) and SIGTERM (systemd, docker) stop the bot at whatever it is doing, once.

    Before the bot runs, the run is cancelled. Once it runs, the bot is closed, which ends discord.py's connection
    loop even inside its gateway handshake, where Python 3.11's `wait_for` swallows a cancellation: a Ctrl-C that
    landed there used to be lost and the bot ran on.
    """

    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self.bot_running = False
        self._main = asyncio.current_task()

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig.name)

    def _on_signal(self, name: str) -> None:
        log.info("%s received; stopping", name)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # A second signal gets Python's default: stop now.
            loop.remove_signal_handler(sig)
        self.requested.set()
        if not self.bot_running and self._main is not None:
            self._main.cancel()

    async def run_bot(self, bot: BookClubBot, token: str) -> None:
        """`bot.start(token)` until it ends or a stop is asked for; then the bot is closed and waited for."""
        self.bot_running = True
        running = asyncio.ensure_future(bot.start(token))
        asked = asyncio.ensure_future(self.requested.wait())
        try:
            await asyncio.wait({running, asked}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            asked.cancel()
        if running.done() and not self.requested.is_set():
            running.result()  # LoginFailure and the like reach main()
            return
        await bot.close()
        done, _ = await asyncio.wait({running}, timeout=STOP_GRACE_SECONDS)
        if not done:
            log.warning("the bot did not stop within %d s of closing; cancelling it", STOP_GRACE_SECONDS)
            running.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await running  # an error of a connection closed under it is expected now


async def run(settings: Settings, token: str, integrity: concurrent.futures.Future[None]) -> None:
    stopper = Stopper()
    stopper.install()
    try:
        await serve(settings, token, stopper, integrity)
    except asyncio.CancelledError:
        if not stopper.requested.is_set():
            raise
    log.info("stopped")


async def serve(settings: Settings, token: str, stopper: Stopper, integrity: concurrent.futures.Future[None]) -> None:
    import aiohttp

    from bot.bot import create_bot
    from bot.clock import Clock
    from bot.services.openlibrary import OpenLibraryCatalogue

    timeout = aiohttp.ClientTimeout(total=20)
    clock = Clock()
    async with AsyncExitStack() as stack:
        try:
            store = await stack.enter_async_context(Store(settings.database).open_checked(integrity))
        except (OSError, sqlite3.Error) as error:
            # A folder that cannot be made, a file that is not a database, no permission: one line, no traceback.
            raise StoreError(f"the database {settings.database_name} cannot be opened ({error}). Check "
                             f"{database_setting(settings)}.") from error
        await store.db.wait_until_writable()
        http_session = await stack.enter_async_context(aiohttp.ClientSession(timeout=timeout))
        catalogue = OpenLibraryCatalogue(http_session, settings.openlibrary_base, store.catalogue_cache, clock)
        asker = await open_asker(settings, stack, catalogue)
        bot = create_bot(settings=settings, store=store, clock=clock, http_session=http_session, asker=asker,
                         catalogue=catalogue)
        async with bot:
            await stopper.run_bot(bot, token)


def database_setting(settings: Settings) -> str:
    """The setting that names the database, for messages that tell the operator what to check."""
    return "DATABASE_URL" if settings.database_url is not None else "DATABASE_PATH"


def start_checks(settings: Settings) -> concurrent.futures.Future[None]:
    """The SQLite file's integrity check, started; a PostgreSQL server checks its own pages."""
    if settings.sqlite_file is None:
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        done.set_result(None)
        return done
    return start_integrity_check(settings.sqlite_file)


def backup_command(settings: Settings, target: str) -> None:
    if settings.sqlite_file is None:
        print("Backup copies a SQLite file; on PostgreSQL use the server's own tools (pg_dump), as "
              "docs/operations.md says.", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG)
    try:
        pages = backup(settings.sqlite_file, Path(target))
    except (OSError, ValueError, RuntimeError, sqlite3.Error) as error:
        print(f"Backup failed: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"Backed up {settings.sqlite_file} to {target} ({pages} pages).")


def database_password(settings: Settings) -> str | None:
    """The password in DATABASE_URL, which no log line may show."""
    if settings.database_url is None:
        return None
    from urllib.parse import urlsplit

    return urlsplit(settings.database_url.get_secret_value()).password or None


def main() -> None:
    if sys.argv[1:2] == ["migrate-db"]:
        # Needs no settings: both databases are named on the command line.
        from bot.migrate_db import main as migrate_db

        raise SystemExit(migrate_db(sys.argv[2:]))
    settings = load_settings()
    arguments = sys.argv[1:]
    if arguments[:1] == ["backup"]:
        if len(arguments) != 2:
            print("Usage: python -m bot backup PATH", file=sys.stderr)
            raise SystemExit(EXIT_CONFIG)
        backup_command(settings, arguments[1])
        return
    if arguments:
        print("Usage: python -m bot [backup PATH | migrate-db --from URL --to URL]", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG)
    if settings.discord_token is None:
        print(SETUP_HELP, file=sys.stderr)
        raise SystemExit(EXIT_CONFIG)
    secrets = [s.get_secret_value() for s in (settings.discord_token, settings.openai_api_key) if s is not None]
    if (password := database_password(settings)) is not None:
        secrets.append(password)
    setup_logging(settings.log_level_number, secrets)
    try:
        integrity = start_checks(settings)
    except StoreError as error:
        print(f"Cannot start: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    import aiohttp
    import discord

    try:
        asyncio.run(run(settings, settings.discord_token.get_secret_value(), integrity))
    except KeyboardInterrupt:
        # A second Ctrl-C while stopping.
        log.info("stopped")
    except StoreError as error:
        print(f"Cannot start: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    except sqlite3.Error as error:
        if isinstance(error, sqlite3.OperationalError) and is_busy(error):
            # Taken again by another program between the wait for it and a start-up write.
            print(f"Cannot start: another program held the database {settings.database_name} for over "
                  f"{BUSY_TIMEOUT_SECONDS} s during start-up. Close it (an open sqlite3 shell?) and start the bot "
                  "again.", file=sys.stderr)
        else:
            # A read-only file or disk, a full disk, a damaged file: only start-up errors get here.
            print(f"Cannot start: the database {settings.database_name} cannot be used ({error}). Check "
                  f"{database_setting(settings)}, that the bot may write there, and the disk.", file=sys.stderr)
        raise SystemExit(1) from None
    except aiohttp.ClientConnectionError as error:
        # Login is the first request; the gateway reconnects by itself once the bot runs.
        print(f"Cannot reach Discord ({error}). Check the network, or DISCORD_API_BASE when it is set, and "
              "start the bot again.", file=sys.stderr)
        raise SystemExit(1) from None
    except discord.PrivilegedIntentsRequired:
        print("Discord refused the Message Content intent that MESSAGE_CONTENT_INTENT=true asks for: enable it in "
              "the developer portal (Bot → Privileged Gateway Intents → Message Content Intent), or set "
              "MESSAGE_CONTENT_INTENT=false.", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None
    except discord.LoginFailure:
        print("Discord refused the token in DISCORD_TOKEN: reset it in the developer portal and update .env.",
              file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


if __name__ == "__main__":
    main()
