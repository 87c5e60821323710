"""Every slash command fuzzed through the loopback Discord: random unicode, empty and overlong strings, markdown and
mention syntax in every text option, numbers in and out of range, every channel, role and member of the world.

One bot serves the whole run (the state it builds up is part of what is fuzzed); autocompletes, and the buttons
and menus the bot shows, are fuzzed along. Whatever the input, the bot acknowledges in time, answers, never pings,
logs no error, writes only for the guild acting, and an input it refuses gets a clear private line and changes
nothing in the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import cogs._shared.replies
import cogs.errors
from bot.domain.cooldowns import Cooldowns
from cogs._shared.replies import GENERIC_FAILURE, report_error
from cogs.reviews.views import Draft, ReviewModal
from tests.databases import table_names
from tests.discord_double import ActionRefused, DiscordDouble
from tests.discord_double.interactions import MESSAGE_COMPONENT, Interaction
from tests.discord_double.model import Channel, Guild, Member, Role, Upload
from tests.e2e.conftest import BookClub

HIDE_AS_SPOILER = "Hide as spoiler"
# Not a command: pressing a button or choosing in a menu of something the bot showed.
COMPONENT = "(a button or menu)"
BUTTON, TEXT_SELECT = 2, 3
# Not a command either: a message that mentions the bot, which is a question as /ask is.
MENTION = "(a message mentioning the bot)"
# The command that answers with a modal, which the example then fills in.
REVIEW_WRITE = "review write"
ANSWER_TIMEOUT = 15.0
MAX_CHOICES = 25
QUIET_TIMEOUT = 15.0
# Lines in which the review modal refuses a draft itself (it offers a button to fix it, not an error).
MODAL_REFUSAL = "Nothing was saved."

GOODREADS_EXPORT = Path(__file__).resolve().parents[1] / "data" / "goodreads_library_export.csv"

SAFE_CHARACTERS = st.characters(blacklist_categories=("Cs",))
SPECIAL = [
    "", " ", "||", "|", "`", "```", "```py\n", "**", "__", "~~", "> ", "# ", "-# ", "\\", "*", "_",
    "@everyone", "@here", "<@123>", "<@!123>", "<@&1>", "<#1>", "</ask:1>", "<t:0:R>", "<:e:1>",
    "\u202e", "\u200b", "\n", "\r\n", "\t", "\x00", "🏳️‍🌈", "ﷺ", "Ꙭ", "e\u0301", "book:1", "book:999999",
    "[link](http://127.0.0.1:9/)", "http://127.0.0.1:9/feed", "1-8, 9-15", "Part 1, Part 2", ",", ",,,", "-",
    "2025-02-30", "9999-12-31", "0", "-1", "90m", "2d", "0m", "99999d", "Europe/London", "25:99", "Ishiguro",
]
OVERLONG = [
    "a" * 5000, "@everyone " * 500, "|" * 5000, "`" * 5000, "\n" * 5000, "é" * 5000, "<@1>" * 1250,
    "x" * 257, "y" * 301, "z" * 1001, "w" * 2001,
]


def fuzz_text(world: list[str]) -> st.SearchStrategy[str]:
    """Text mixing random unicode with markdown, mention syntax (of real members and roles too) and edge cases."""
    piece = st.one_of(st.sampled_from(SPECIAL + world), st.text(SAFE_CHARACTERS, max_size=30))
    return st.one_of(
        st.lists(piece, max_size=6).map("".join),
        st.sampled_from(OVERLONG),
        st.text(SAFE_CHARACTERS, max_size=300),
    )


def fuzz_number(parameter: app_commands.Parameter) -> st.SearchStrategy[int | float]:
    low = int(parameter.min_value) if parameter.min_value is not None else -5
    high = int(parameter.max_value) if parameter.max_value is not None else 5
    edges = st.sampled_from([low - 1, low, high, high + 1, 0, -(2**53), 2**53])
    inside = st.integers(min_value=min(low, high), max_value=max(low, high))
    if parameter.type is discord.AppCommandOptionType.number:
        return st.one_of(edges, inside, st.floats(allow_nan=False, allow_infinity=False))
    return st.one_of(edges, inside)


def fitting(text: st.SearchStrategy[str], low: int | None, high: int | None) -> st.SearchStrategy[str]:
    """Mostly text within the option's length limits (so that it reaches the bot), sometimes beyond them."""
    def fit(value: str) -> str:
        value = value[:high] if high is not None else value
        return value + "x" * max(0, (low or 0) - len(value))

    return st.one_of(text.map(fit), text.map(fit), text)


def as_length(limit: int | float | None) -> int | None:
    """A string option's length limit (discord.py keeps it as the parameter's min/max value)."""
    return None if limit is None else int(limit)


def fuzz_value(parameter: app_commands.Parameter, world: World) -> st.SearchStrategy[Any]:
    kind, text = parameter.type, world.text
    if parameter.choices:
        names = [choice.name for choice in parameter.choices]
        values = [choice.value for choice in parameter.choices]
        if kind is not discord.AppCommandOptionType.string:
            return st.one_of(st.sampled_from(values), fuzz_number(parameter))
        return st.one_of(st.sampled_from(values), st.sampled_from(values), st.sampled_from(names), text)
    if kind is discord.AppCommandOptionType.string:
        return fitting(text, as_length(parameter.min_value), as_length(parameter.max_value))
    if kind in (discord.AppCommandOptionType.integer, discord.AppCommandOptionType.number):
        return fuzz_number(parameter)
    if kind is discord.AppCommandOptionType.boolean:
        return st.booleans()
    if kind is discord.AppCommandOptionType.channel:
        return st.sampled_from(world.channels)
    if kind is discord.AppCommandOptionType.role:
        return st.sampled_from(world.roles)
    if kind in (discord.AppCommandOptionType.user, discord.AppCommandOptionType.mentionable):
        return st.sampled_from(world.members)
    if kind is discord.AppCommandOptionType.attachment:
        # Besides noise, a real Goodreads export with a fuzzed row appended, so that imports get past the header.
        export = text.map(lambda row: GOODREADS_EXPORT.read_bytes() + row.encode())
        data = st.one_of(text.map(str.encode), st.binary(max_size=2000), export)
        return st.builds(Upload, filename=st.sampled_from(["export.csv", "x", "a" * 200 + ".csv"]), data=data,
                         content_type=st.sampled_from(["text/csv", "application/octet-stream"]))
    raise AssertionError(f"the fuzzer does not know option type {kind} of {parameter.name}: teach it")


@dataclass
class Watch:
    """What the bot did out of sight: the errors it logged, and which interactions it refused and why."""

    errors: list[logging.LogRecord] = field(default_factory=list)
    refused: dict[int, BaseException] = field(default_factory=dict)
    failure: AssertionError | None = None

    def __repr__(self) -> str:
        return f"<Watch: {len(self.errors)} errors logged, {len(self.refused)} refusals>"


class ErrorRecords(logging.Handler):
    def __init__(self, watch: Watch) -> None:
        super().__init__(logging.ERROR)
        self.watch = watch

    def emit(self, record: logging.LogRecord) -> None:
        self.watch.errors.append(record)


@pytest.fixture
async def watched(bookclub: BookClub, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[BookClub, Watch]]:
    """The running bot, with every error it logs and every refusal it answers recorded."""
    watch = Watch()

    async def recording(interaction: discord.Interaction[Any], error: BaseException) -> None:
        watch.refused[interaction.id] = error
        await report_error(interaction, error)

    # Commands report through the error extension's name, modals and views through the replies module's own.
    monkeypatch.setattr(cogs.errors, "report_error", recording)
    monkeypatch.setattr(cogs._shared.replies, "report_error", recording)
    handler = ErrorRecords(watch)
    logging.getLogger().addHandler(handler)
    try:
        yield bookclub, watch
    finally:
        logging.getLogger().removeHandler(handler)


async def snapshot(bookclub: BookClub) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table."""
    return {
        table: [tuple(row) for row in await bookclub.store.db.fetch_all(f'SELECT * FROM "{table}"')]  # noqa: S608
        for table in await table_names(bookclub.store.db)
    }


async def rows_of_other_guilds(bookclub: BookClub) -> dict[str, int]:
    """Rows, table by table, that belong to any guild but the one every example acts in."""
    guild_id = bookclub.double.guild_a.id
    found = {}
    for table in await table_names(bookclub.store.db, with_column="guild_id"):
        row = await bookclub.store.db.fetch_one(
            f'SELECT COUNT(*) AS n FROM "{table}" WHERE guild_id != ?', (guild_id,)  # noqa: S608
        )
        if row and row["n"]:
            found[table] = int(row["n"])
    return found


async def settle(bookclub: BookClub) -> None:
    """Waits until no scheduled job is due or running, so that only the next interaction can write."""
    now = bookclub.clock.now().isoformat(timespec="microseconds")

    async def busy() -> int:
        row = await bookclub.store.db.fetch_one(
            "SELECT COUNT(*) AS n FROM jobs WHERE status = 'running' OR (status = 'pending' AND due_at <= ?)", (now,)
        )
        return int(row["n"]) if row else 0

    for _ in range(int(QUIET_TIMEOUT / 0.05)):
        if not await busy():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("scheduled jobs kept running for 15 s")


def leaf_commands(bookclub: BookClub) -> list[app_commands.Command[Any, ..., Any]]:
    return sorted((c for c in bookclub.bot.tree.walk_commands() if isinstance(c, app_commands.Command)),
                  key=lambda c: c.qualified_name)


def world_mentions(double: DiscordDouble, guild: Guild) -> list[str]:
    members = [f"<@{member.user.id}>" for member in guild.members.values()]
    roles = [f"<@&{role.id}>" for role in guild.roles.values()]
    return [*members, *roles, f"<#{guild.channel('general').id}>", f"<@{double.bot_user.id}>"]


@dataclass
class Plan:
    """Everything one example does, drawn before acting so that the draws never depend on the bot's state."""

    member: str
    command: str
    options: dict[str, Any]
    modal: dict[str, str]
    message: str
    author: str
    # An option typed into first (its autocomplete asked), and what was typed.
    typed: tuple[str, str] | None

    def describe(self) -> str:
        shown = self.options if self.command != HIDE_AS_SPOILER else {"message": self.message, "by": self.author}
        return f"{self.member}: /{self.command} {shown!r} {self.modal or ''!r} typed={self.typed!r}"[:3000]


def draw_plan(data: st.DataObject, world: World) -> Plan:
    member = data.draw(st.sampled_from(["Mod", "Alice"]), label="member")
    extra = [HIDE_AS_SPOILER, COMPONENT, MENTION]
    name = data.draw(st.sampled_from([c.qualified_name for c in world.commands] + extra), label="command")
    options: dict[str, Any] = {}
    command = next((c for c in world.commands if c.qualified_name == name), None)
    for parameter in command.parameters if command else []:
        if parameter.required or data.draw(st.booleans(), label=f"give {parameter.name}"):
            options[parameter.display_name] = data.draw(fuzz_value(parameter, world), label=parameter.name)
    modal: dict[str, str] = {}
    if name in (REVIEW_WRITE, COMPONENT):
        ratings = st.sampled_from(["4", "5 stars", "★★★", "0", "6", "4.5", "-1"])
        for label, required, high in world.modal_fields:
            modal[label] = data.draw(st.one_of(fitting(world.text, 1 if required else None, high), ratings),
                                     label=label)
    message, author = "", "Alice"
    if name in (HIDE_AS_SPOILER, MENTION):
        message = data.draw(world.text, label="message")
        author = data.draw(st.sampled_from(["Alice", "Bob"]), label="author")
    if name == COMPONENT:
        # Which message, which of its components, which options: picked by number from whatever is there.
        options = {"pick": data.draw(st.tuples(*[st.integers(0, 1000)] * 3), label="pick")}
    typed = None
    completed = [parameter for parameter in command.parameters if parameter.autocomplete] if command else []
    if completed:
        focused = data.draw(st.sampled_from(completed), label="typing into")
        typed = (focused.display_name, data.draw(fitting(world.text, None, 100), label="typed"))
    return Plan(member, name, options, modal, message, author, typed)


async def check_autocomplete(bookclub: BookClub, plan: Plan) -> None:
    """Whatever is typed, the choices fit Discord's limits (else Discord shows none) and nothing is written."""
    if plan.typed is None:
        return
    double, guild = bookclub.double, bookclub.double.guild_a
    focused, text = plan.typed
    before = await snapshot(bookclub)
    try:
        choices = await double.autocomplete(guild, guild.member(plan.member), plan.command, focused=focused,
                                            options={focused: text})
    except ActionRefused:
        return
    assert len(choices) <= MAX_CHOICES, f"{len(choices)} choices"
    assert all(1 <= len(choice["name"]) <= 100 and len(str(choice["value"])) <= 100 for choice in choices), choices
    assert await snapshot(bookclub) == before, "an autocomplete wrote to the database"


async def use_component(double: DiscordDouble, guild: Guild, member: Member,
                        pick: tuple[int, int, int]) -> Interaction | None:
    """Presses a button or chooses in a menu of a message the bot posted (or showed `member` alone)."""
    places = [*guild.channels.values(), *guild.threads.values()]
    shown = [m for place in places for m in double.bot_messages(place)] + double.ephemeral_messages(member)
    messages = sorted((m for m in shown if usable(m)), key=lambda m: m.id)
    if not messages:
        return None
    message = messages[pick[0] % len(messages)]
    components = usable(message)
    component = components[pick[1] % len(components)]
    if component["type"] == BUTTON:
        return await double.press_button(message, component["custom_id"], member)
    offered = [option["value"] for option in component.get("options") or []]
    low, high = component.get("min_values", 1), min(component.get("max_values", 1), len(offered))
    count = low + pick[2] % max(1, high - low + 1)
    start = pick[2] % max(1, len(offered))
    return await double.select(message, component["custom_id"], (offered[start:] + offered[:start])[:count], member)


def usable(message: Any) -> list[dict[str, Any]]:
    """The message's enabled buttons and text menus that reach the bot."""
    return [c for c in message.components_flat() if c.get("type") in (BUTTON, TEXT_SELECT) and c.get("custom_id")
            and not c.get("disabled")]


async def act(bookclub: BookClub, plan: Plan) -> Interaction | None:
    """Runs the planned command (or the Hide as spoiler menu), filling a modal if one opens; None when Discord
    itself refused the input."""
    double, guild = bookclub.double, bookclub.double.guild_a
    member = guild.member(plan.member)
    try:
        if plan.command == HIDE_AS_SPOILER:
            posted = await double.post_message(guild.channel("general"), guild.member(plan.author), plan.message)
            return await double.message_command(guild, member, HIDE_AS_SPOILER, posted)
        if plan.command == COMPONENT:
            interaction = await use_component(double, guild, member, plan.options["pick"])
        else:
            interaction = await double.slash(guild, member, plan.command, options=plan.options)
        if interaction is None:
            return None
        if interaction.modal is not None:
            return await double.submit_modal(interaction, plan.modal)
        return interaction
    except ActionRefused:
        return None


@dataclass
class World:
    """The fixed pools an example draws from: taken once, so that later threads or roles cannot shift a draw."""

    commands: list[app_commands.Command[Any, ..., Any]]
    channels: list[Channel]
    roles: list[Role]
    members: list[Member]
    text: st.SearchStrategy[str]
    modal_fields: list[tuple[str, bool, int | None]]

    def __repr__(self) -> str:
        return f"<World of {len(self.commands)} commands>"


def review_modal_fields() -> list[tuple[str, bool, int | None]]:
    async def ignore(interaction: discord.Interaction[Any], draft: Draft) -> None:
        return None

    modal = ReviewModal(Draft(), ignore)
    return [(str(item.to_component_dict().get("label")), item.required, item.max_length) for item in modal.children
            if isinstance(item, discord.ui.TextInput)]


async def set_up_club(bookclub: BookClub, watch: Watch) -> None:
    """Channels, a read and two nominations, so that fuzzed commands get past "not configured" to the real work."""
    double, guild = bookclub.double, bookclub.double.guild_a
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("Mod", "config channels", {"reviews": guild.channel("reviews"), "discussions": guild.channel("discussions"),
                                    "polls": guild.channel("polls"), "announcements": guild.channel("announcements")}),
        ("Mod", "club add", {"title": "Never Let Me Go", "author": "Kazuo Ishiguro", "started": "2026-01-05",
                             "finished": "2026-02-01"}),
        ("Alice", "nominate add", {"title": "Piranesi", "author": "Susanna Clarke"}),
        ("Bob", "nominate add", {"title": "Hamnet", "author": "Maggie O'Farrell"}),
    ]
    for member, command, options in steps:
        interaction = await double.slash(guild, guild.member(member), command, options=options)
        answer = await interaction.reply(timeout=ANSWER_TIMEOUT)
        assert interaction.id not in watch.refused, f"/{command}: {answer.text()}"


@pytest.fixture
async def world(watched: tuple[BookClub, Watch]) -> World:
    bookclub, watch = watched
    double, guild = bookclub.double, bookclub.double.guild_a
    await set_up_club(bookclub, watch)
    return World(
        commands=leaf_commands(bookclub),
        channels=sorted([*guild.channels.values(), *guild.threads.values()], key=lambda c: c.id),
        roles=sorted(guild.roles.values(), key=lambda r: r.id),
        members=sorted(guild.members.values(), key=lambda m: m.user.id),
        text=fuzz_text(world_mentions(double, guild)),
        modal_fields=review_modal_fields(),
    )


async def check_answer(bookclub: BookClub, watch: Watch, interaction: Interaction | None,
                       before: dict[str, list[tuple[Any, ...]]]) -> None:
    """The member got an answer; a refusal is private, says why, and left the database as it was `before`."""
    if interaction is None:
        assert await snapshot(bookclub) == before, "Discord refused the input, yet something was written"
        return
    if interaction.type == MESSAGE_COMPONENT and interaction.id not in watch.refused:
        # A component may answer by editing its own message, with nothing new to read.
        assert interaction.acknowledged
        return
    answer = await interaction.reply(timeout=ANSWER_TIMEOUT)
    texts = [message.text() for message in interaction.answers()]
    assert all(GENERIC_FAILURE not in shown for shown in texts), f"a generic failure: {texts}"
    if interaction.id in watch.refused or MODAL_REFUSAL in answer.text():
        assert answer.ephemeral, f"a refusal shown to everyone: {answer.text()!r}"
        assert answer.text().strip(), "a refusal without a word of explanation"
        assert await snapshot(bookclub) == before, f"refused ({answer.text()!r}) yet something was written"


async def ask_by_mention(bookclub: BookClub, plan: Plan) -> None:
    """Mentioning the bot is asking it; the answer is a public reply, so whatever it echoes must not ping."""
    double, guild = bookclub.double, bookclub.double.guild_a
    general = guild.channel("general")
    try:
        posted = await double.post_message(general, guild.member(plan.member), plan.message, mentions_bot=True)
    except ActionRefused:
        return
    answer = await double.wait_for_message(general, after=posted, timeout=ANSWER_TIMEOUT)
    assert answer.text().strip(), "an empty answer"


# With the message-content intent the spoiler guard reads every posted message as well.
@pytest.mark.parametrize("message_content", [False, True])
@settings(
    max_examples=250,
    deadline=None,
    # One bot for the whole run, on purpose: examples meet the state earlier ones left behind.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    # A failing example is reported as it happened: shrinking it on a bot whose state has moved on proves nothing.
    phases=[Phase.explicit, Phase.generate],
    report_multiple_bugs=False,
)
@given(data=st.data())
async def test_no_input_breaks_a_command_pings_anyone_or_half_writes(watched: tuple[BookClub, Watch], world: World,
                                                                     data: st.DataObject) -> None:
    bookclub, watch = watched
    double = bookclub.double
    plan = draw_plan(data, world)
    if watch.failure is not None:
        # Hypothesis replays the failing example to report it; the bot has moved on, so report the first failure.
        raise watch.failure
    # Cooldowns are tested on their own (test_posting_rights); here every example reaches the command's real work
    # rather than Alice meeting her limit early and being told to slow down for the rest of the run.
    bookclub.bot.cooldowns = Cooldowns()
    try:
        await settle(bookclub)
        await check_autocomplete(bookclub, plan)
        if plan.command == MENTION:
            await ask_by_mention(bookclub, plan)
        else:
            before = await snapshot(bookclub)
            await check_answer(bookclub, watch, await act(bookclub, plan), before)
        await settle(bookclub)
        assert await rows_of_other_guilds(bookclub) == {}, "guild A's commands wrote rows for another guild"
        assert [f"{r.name}: {r.getMessage()}" for r in watch.errors] == []
        assert double.pings() == []
        assert double.unhandled == []
        assert double.invalid_bodies == []
    except AssertionError as error:
        watch.failure = AssertionError(f"{error}\nexample: {plan.describe()}")
        raise watch.failure from error


async def test_nominating_the_same_book_again_is_refused_without_a_write(bookclub: BookClub) -> None:
    """Found by the fuzzer: a title without letters matched no nomination key, so the refused second nomination
    rewrote the book and moved the guild's names version."""
    double, guild = bookclub.double, bookclub.double.guild_a
    first = await double.slash(guild, guild.member("Alice"), "nominate add", title="÷")
    assert "You nominated **÷**" in (await first.reply(timeout=ANSWER_TIMEOUT)).text()
    before = await snapshot(bookclub)
    again = await double.slash(guild, guild.member("Alice"), "nominate add", title="÷")
    answer = await again.reply(timeout=ANSWER_TIMEOUT)
    assert answer.ephemeral and "You have already nominated **÷**" in answer.text()
    assert await snapshot(bookclub) == before


async def test_an_overlong_time_is_refused_in_a_short_line(bookclub: BookClub) -> None:
    """Found by the fuzzer: the refusal echoed all 5000 characters, Discord refused it, and the member saw nothing."""
    double, guild = bookclub.double, bookclub.double.guild_a
    before = await snapshot(bookclub)
    refused = await double.slash(guild, guild.member("Mod"), "config schedule", weekday=4, time="a" * 5000)
    answer = await refused.reply(timeout=ANSWER_TIMEOUT)
    assert answer.ephemeral and "is not a time" in answer.text() and len(answer.text()) < 200
    assert await snapshot(bookclub) == before


async def test_titles_of_symbols_alone_are_different_books(bookclub: BookClub) -> None:
    """Found by the fuzzer: titles without letters or digits shared one empty key, so "!!!" was merged into "😀"
    (and a refused nomination could rename the other book's author)."""
    double, guild = bookclub.double, bookclub.double.guild_a
    first = await double.slash(guild, guild.member("Alice"), "nominate add", title="😀")
    assert "You nominated **😀**" in (await first.reply(timeout=ANSWER_TIMEOUT)).text()
    second = await double.slash(guild, guild.member("Bob"), "nominate add", title="!!!", author="÷")
    assert "You nominated **\\!\\!\\!**" in (await second.reply(timeout=ANSWER_TIMEOUT)).text()
    books = await bookclub.store.books.list_all(guild.id)
    assert sorted((book.title, book.author) for book in books) == [("!!!", "÷"), ("😀", "")]
