"""At LOG_LEVEL=DEBUG the bot, discord.py and aiohttp log every route and much of what they receive: no webhook
token, interaction token or bot token may appear in that output, whichever logger wrote it."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.log import REDACTED, RedactingFilter, setup_logging
from tests.discord_double import DiscordDouble
from tests.e2e.conftest import BookClub

WEBHOOK_TOKEN = "Xk3_vQ-9" * 8
INTERACTION_TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDpzZWNyZXQ"


@pytest.fixture
def debug_output(double: DiscordDouble) -> Iterator[io.StringIO]:
    """Everything the process logs at DEBUG, through the bot's own logging set-up, from before the bot starts."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    gateway = logging.getLogger("discord.gateway")
    gateway_level = gateway.level
    output = io.StringIO()
    # As `python -m bot` does, with the bot token among the secrets.
    setup_logging(logging.DEBUG, [double.token], stream=output)
    try:
        yield output
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        gateway.setLevel(gateway_level)


async def test_debug_logs_show_the_routes_but_no_token(debug_output: io.StringIO, bookclub: BookClub) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    general = guild.channel("general")
    alice = guild.member("Alice")
    # A public answer (an interaction callback), a webhook made and used (Hide as spoiler), a deferred answer (an
    # interaction follow-up through /webhooks/<app>/<token>) and an ephemeral refusal.
    await (await double.slash(guild, alice, "spoiler", text="Ruth dies", in_channel=general)).reply()
    said = await double.post_message(general, alice, "and Tommy too")
    hidden = await double.message_command(guild, alice, "Hide as spoiler", said)
    assert (await hidden.reply(timeout=10.0)).text().startswith("Hidden")
    refused = await (await double.slash(guild, alice, "review list")).reply()
    assert refused.ephemeral

    logged = debug_output.getvalue()
    tokens = [interaction.token for interaction in double.interactions.values()]
    tokens += [webhook.token for webhook in double.webhooks.values()]
    assert double.webhooks, "Hide as spoiler did not go through a webhook"
    assert [token for token in tokens if token in logged] == [], "a webhook or interaction token was logged"
    assert double.token not in logged
    assert "/interactions/" in logged and "/webhooks/" in logged and REDACTED in logged, "the routes went unlogged"


def redacted(level: int, message: str, *args: object, exc: BaseException | None = None) -> str:
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.addFilter(RedactingFilter(["the-bot-token"]))
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        logger.log(level, message, *args, exc_info=(type(exc), exc, exc.__traceback__) if exc else None)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return output.getvalue()


def test_tokens_are_redacted_in_args_exceptions_and_every_shape() -> None:
    url = f"https://discord.com/api/v10/webhooks/123456789012345678/{WEBHOOK_TOKEN}?wait=1"
    callback = f"/api/v10/interactions/1234567890/{INTERACTION_TOKEN}/callback?with_response=1"
    followup = f"/webhooks/998877/{INTERACTION_TOKEN}/messages/@original"
    received = {"id": "1", "token": WEBHOOK_TOKEN, "url": url}
    try:
        raise ConnectionError(f"Cannot connect to {url}", "the-bot-token")
    except ConnectionError as error:
        failure = error
    text = redacted(logging.DEBUG, "%s %s has received %s", "POST", callback, received) + redacted(
        logging.DEBUG, "PATCH " + followup) + redacted(logging.ERROR, "failed: %r", failure, exc=failure)
    for secret in (WEBHOOK_TOKEN, INTERACTION_TOKEN, "the-bot-token"):
        assert secret not in text
    assert "/webhooks/123456789012345678/[redacted]?wait=1" in text
    assert "/interactions/1234567890/[redacted]/callback" in text and "/webhooks/998877/[redacted]/messages" in text
    assert "'token': '[redacted]'" in text and "Traceback" in text
