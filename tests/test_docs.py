"""The user-facing docs stay true to the code: every command and option, the cooldowns, every setting, the intents
and the invite's permissions are documented as the bot really has them."""

from __future__ import annotations

import re
from pathlib import Path

import discord
from discord import app_commands

from bot.bot import BookClubBot, gateway_intents
from bot.domain.cooldowns import Limit
from bot.settings import Settings
from cogs._shared.checks import ASK_LIMIT, HIDE_LIMIT, REVIEW_LIMIT, SPOILER_LIMIT
from cogs.club.history import EXPORT_COOLDOWN_SECONDS
from cogs.config import RECOMMENDED_PERMISSIONS, REQUIRED_PERMISSIONS
from cogs.discussions.cog import START_PERMISSIONS
from cogs.polls.cog import ANNOUNCE_PERMISSIONS, POST_PERMISSIONS

ROOT = Path(__file__).resolve().parent.parent
COMMANDS_MD = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
OPERATIONS_MD = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
README_MD = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")

# A table row's cells; `\|` inside a cell (as in "`\|\|`") is text, not a border.
CELL_BORDER = re.compile(r"(?<!\\)\|")
COMMAND_IN_CELL = re.compile(r"`(/[a-z][-_a-z0-9 ]*)`")
# Where the cogs read one of the bot's own permissions: `guild.me.guild_permissions.manage_roles`,
# `channel.permissions_for(guild.me).connect`, `granted.send_messages` (the bot's permissions_for kept in a variable).
PERMISSION_READ = re.compile(r"(?:\bme\.guild_permissions|permissions_for\((?:[\w.]*\.)?me\)|\bgranted)\.(\w+)")
# A literal tuple of flag names handed to the one `missing_permissions` check.
PERMISSION_TUPLE = re.compile(r"missing_permissions\([^()]*\(([^()]*)\)\)")
# Used without a check beforehand, since a refusal only costs a courtesy: the ⏳ on a mention over /ask's limit.
USED_UNCHECKED = {"add_reactions"}
# The names Discord's server settings show, where they are not the flag's name in title case.
PERMISSION_LABELS = {"view_channel": "View Channels", "send_polls": "Create Polls",
                     "send_messages_in_threads": "Send Messages in Threads"}


def command_rows() -> list[tuple[list[str], str]]:
    """Each command table row of docs/commands.md: the commands its first cell names, and its options cell."""
    rows = []
    for line in COMMANDS_MD.splitlines():
        if not line.startswith("| `/"):
            continue
        cells = CELL_BORDER.split(line)[1:-1]
        rows.append(([name.strip() for name in COMMAND_IN_CELL.findall(cells[0])], cells[1]))
    return rows


def options_cell(rows: list[tuple[list[str], str]], name: str) -> str:
    cells = [cell for names, cell in rows if name in names]
    assert len(cells) == 1, f"docs/commands.md has {len(cells)} table rows for `{name}`, not one"
    return cells[0]


def leaf_commands(bot: BookClubBot) -> dict[str, app_commands.Command]:
    return {f"/{command.qualified_name}": command for command in bot.tree.walk_commands()
            if isinstance(command, app_commands.Command)}


async def test_every_slash_command_has_a_row_with_each_of_its_options(loaded_bot: BookClubBot) -> None:
    rows = command_rows()
    for name, command in leaf_commands(loaded_bot).items():
        options = options_cell(rows, name)
        for parameter in command.parameters:
            assert f"`{parameter.name}`" in options, f"`{name}`'s option `{parameter.name}` is not documented"


async def test_every_documented_command_exists(loaded_bot: BookClubBot) -> None:
    real = leaf_commands(loaded_bot)
    documented = [name for names, _ in command_rows() for name in names]
    assert len(documented) >= len(real)
    for name in documented:
        assert name in real, f"docs/commands.md documents `{name}`, which the bot does not have"


async def test_every_word_an_option_may_be_chosen_from_is_documented(loaded_bot: BookClubBot) -> None:
    """`mode` (native, ranked) and `repeat` (none, weekly, …); a numbered choice such as the weekday is a range."""
    rows = command_rows()
    for name, command in leaf_commands(loaded_bot).items():
        options = options_cell(rows, name)
        for parameter in command.parameters:
            for choice in parameter.choices:
                if isinstance(choice.value, str):
                    assert choice.value in options or choice.name in options, \
                        f"`{name} {parameter.name}:` choice {choice.name!r} is not documented"


async def test_every_context_menu_is_documented(loaded_bot: BookClubBot) -> None:
    menus = [menu for kind in (discord.AppCommandType.message, discord.AppCommandType.user)
             for menu in loaded_bot.tree.get_commands(type=kind)]
    assert menus
    for menu in menus:
        assert f"| **{menu.name}**" in COMMANDS_MD, f"the context menu {menu.name!r} has no row in docs/commands.md"


def window(limit: Limit) -> str:
    minutes = int(limit.per.total_seconds() // 60)
    return "a minute" if minutes == 1 else f"in {minutes} minutes"


def test_the_cooldowns_are_documented_as_the_bot_counts_them() -> None:
    text = " ".join(COMMANDS_MD.split())
    for what, limit in (("`/spoiler`", SPOILER_LIMIT), ("**Hide as spoiler**", HIDE_LIMIT),
                        ("`/ask` and mentions of the bot together", ASK_LIMIT), ("`/review write`", REVIEW_LIMIT)):
        assert f"{what} {limit.rate} times {window(limit)}" in text, f"docs/commands.md misstates {what}'s cooldown"
    assert EXPORT_COOLDOWN_SECONDS == 60
    assert "`/club export` is limited for everyone, moderators too: once a minute" in text


def test_every_setting_is_in_env_example_and_documented() -> None:
    for field in Settings.model_fields:
        variable = field.upper()
        assert re.search(rf"^{variable}=", ENV_EXAMPLE, re.MULTILINE), f"{variable} is missing from .env.example"
        assert f"`{variable}`" in OPERATIONS_MD, f"{variable} is not documented in docs/operations.md"


def test_every_variable_in_env_example_is_a_setting() -> None:
    variables = re.findall(r"^([A-Z_]+)=", ENV_EXAMPLE, re.MULTILINE)
    assert sorted(variables) == sorted(field.upper() for field in Settings.model_fields)


def test_every_gateway_intent_the_bot_asks_for_is_explained() -> None:
    settings = Settings(_env_file=None, message_content_intent=True)  # pyright: ignore[reportCallIssue]
    asked = [name for name, enabled in gateway_intents(settings) if enabled]
    assert "message_content" in asked
    for name in asked:
        label = name.replace("_", " ").title()
        assert re.search(rf"^\s*\| {label}( \(privileged\))? \|", OPERATIONS_MD, re.MULTILINE), \
            f"docs/operations.md's intents table has no row for {label}"


def permissions_the_cogs_check() -> set[str]:
    """Every permission some cog checks the bot has before acting: the channel tables `/config channels`,
    `/discuss start` and polls check, and each permission read in the cogs' code."""
    names = {name for table in (REQUIRED_PERMISSIONS, RECOMMENDED_PERMISSIONS) for kind in table.values()
             for name in kind}
    names |= {*START_PERMISSIONS, *POST_PERMISSIONS, *ANNOUNCE_PERMISSIONS}
    flags = set(discord.Permissions.VALID_FLAGS)
    for source in (ROOT / "cogs").rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        names |= {name for name in PERMISSION_READ.findall(text) if name in flags}
        names |= {name for listed in PERMISSION_TUPLE.findall(text) for name in re.findall(r'"(\w+)"', listed)
                  if name in flags}
    return names


def invite_permissions() -> set[str]:
    """The flags of the invite's permission integer, which docs/operations.md must give once and the same way."""
    integers = set(re.findall(r"permissions=(\d+)", OPERATIONS_MD))
    integers |= set(re.findall(r"permission integer `(\d+)`", OPERATIONS_MD))
    assert len(integers) == 1, f"docs/operations.md gives different invite permissions: {integers}"
    # discord.py iterates View Channel under its older name, read_messages.
    return {"view_channel" if name == "read_messages" else name
            for name, granted in discord.Permissions(int(integers.pop())) if granted}


def test_the_invite_asks_for_exactly_the_permissions_the_bot_uses() -> None:
    used = permissions_the_cogs_check() | USED_UNCHECKED
    assert {"manage_events", "manage_roles", "send_polls", "pin_messages"} <= used
    invite = invite_permissions()
    assert used - invite == set(), "the invite in docs/operations.md lacks permissions the bot uses"
    assert invite - used == set(), "the invite in docs/operations.md asks for permissions the bot never uses"


def test_every_permission_of_the_invite_is_explained() -> None:
    first_cells = [CELL_BORDER.split(line)[1] for line in OPERATIONS_MD.splitlines() if line.lstrip().startswith("|")]
    for name in invite_permissions():
        label = PERMISSION_LABELS.get(name, name.replace("_", " ").title())
        assert any(label in cell for cell in first_cells), f"docs/operations.md does not say why the bot needs {label}"
