"""Meta-test over every cog: commands and options are named and described within Discord's limits, and never clash."""

from __future__ import annotations

import json
import re
from collections import Counter

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import BookClubBot, extension_names

# Discord's rules for chat-input names: 1–32 characters, lower case, letters, digits, '-' and '_'.
SLASH_NAME = re.compile(r"^[-_\w]{1,32}$")
MAX_DESCRIPTION = 100
# Discord refuses a command whose names, descriptions and choices add up to more than this.
MAX_COMMAND_CHARACTERS = 4000
# What discord.py sends when a command or option has no description of its own.
PLACEHOLDER = "…"


def slash_commands(bot: BookClubBot) -> list[app_commands.Command | app_commands.Group]:
    return list(bot.tree.walk_commands())


def leaves(bot: BookClubBot) -> list[app_commands.Command]:
    return [command for command in slash_commands(bot) if isinstance(command, app_commands.Command)]


def text_length(payload: dict) -> int:
    """The characters Discord counts towards a command's size: names, descriptions and choice names/values."""
    total = len(payload.get("name", "")) + len(payload.get("description", ""))
    for choice in payload.get("choices") or []:
        total += len(choice["name"]) + len(str(choice["value"]))
    return total + sum(text_length(option) for option in payload.get("options") or [])


async def test_every_extension_adds_a_documented_cog(loaded_bot: BookClubBot) -> None:
    assert len(loaded_bot.cogs) >= len(extension_names())
    for name, cog in loaded_bot.cogs.items():
        assert isinstance(cog, commands.Cog)
        assert (type(cog).__doc__ or "").strip(), f"cog {name} has no docstring"


async def test_every_command_and_group_has_a_short_lower_case_name_and_a_description(loaded_bot: BookClubBot) -> None:
    found = slash_commands(loaded_bot)
    assert len(found) >= 20, [command.qualified_name for command in found]
    for command in found:
        name = command.qualified_name
        assert SLASH_NAME.match(command.name) and command.name == command.name.lower(), f"/{name}: bad name"
        assert command.description and command.description != PLACEHOLDER, f"/{name} has no description"
        assert len(command.description) <= MAX_DESCRIPTION, f"/{name}: description over {MAX_DESCRIPTION}"


async def test_every_option_has_a_short_lower_case_name_and_its_own_description(loaded_bot: BookClubBot) -> None:
    for command in leaves(loaded_bot):
        for parameter in command.parameters:
            where = f"/{command.qualified_name} {parameter.name}"
            assert SLASH_NAME.match(parameter.display_name), f"{where}: bad name"
            assert parameter.display_name == parameter.display_name.lower(), f"{where}: not lower case"
            assert parameter.description and parameter.description != PLACEHOLDER, f"{where} has no description"
            assert len(parameter.description) <= MAX_DESCRIPTION, f"{where}: description over {MAX_DESCRIPTION}"
            for choice in parameter.choices:
                assert 1 <= len(choice.name) <= MAX_DESCRIPTION, f"{where}: choice {choice.name!r} too long"


async def test_no_two_commands_or_options_clash(loaded_bot: BookClubBot) -> None:
    names = Counter(command.qualified_name for command in slash_commands(loaded_bot))
    assert [name for name, count in names.items() if count > 1] == []
    for command in leaves(loaded_bot):
        options = Counter(parameter.display_name for parameter in command.parameters)
        assert [name for name, count in options.items() if count > 1] == [], f"/{command.qualified_name}"
    for group in (c for c in slash_commands(loaded_bot) if isinstance(c, app_commands.Group)):
        # Discord's rule: a group holds sub-commands only, so a group name cannot also be a command of its own.
        assert group.commands, f"/{group.qualified_name} is an empty group"
    menus = loaded_bot.tree.get_commands(type=discord.AppCommandType.message)
    menu_names = Counter(menu.name for menu in menus)
    assert [name for name, count in menu_names.items() if count > 1] == []
    for menu in menus:
        assert 1 <= len(menu.name) <= 32, f"context menu {menu.name!r}"


async def test_every_command_fits_discords_size_limit(loaded_bot: BookClubBot) -> None:
    for command in loaded_bot.tree.get_commands():
        payload = json.loads(json.dumps(command.to_dict(loaded_bot.tree), default=str))
        assert text_length(payload) <= MAX_COMMAND_CHARACTERS, f"/{command.name} is too large for Discord"
