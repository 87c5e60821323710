"""End-to-end checks of the loopback Discord with a bare, unmodified discord.py bot acting against it."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Literal

import discord
import pytest
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from tests.discord_double import ActionRefused, DiscordDouble, Upload
from tests.discord_double.model import THREAD_PRIVATE

AUTHORS = ["Ishiguro", "Ishmael Reed", "Austen", "Brontë"]


class ReviewModal(discord.ui.Modal, title="Write a review"):
    book = discord.ui.TextInput(label="Title", custom_id="title", max_length=100)
    review = discord.ui.TextInput(label="Review", style=discord.TextStyle.paragraph, max_length=4000)
    spoilers = discord.ui.Label(text="Spoilers", component=discord.ui.TextInput(custom_id="spoilers", required=False))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        spoiler = self.spoilers.component
        assert isinstance(spoiler, discord.ui.TextInput)
        await interaction.response.send_message(f"{self.book.value}: {self.review.value} [{spoiler.value}]")


class RenameModal(discord.ui.Modal, title="Rename"):
    name = discord.ui.TextInput(label="New name", custom_id="new-name")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"renamed to {self.name.value}", view=None)


class ConfirmView(discord.ui.View):
    @discord.ui.button(label="Confirm", custom_id="confirm")
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmView]) -> None:
        await interaction.response.send_message("confirmed", ephemeral=True)


class MenuView(discord.ui.View):
    @discord.ui.button(label="Like", custom_id="like", style=discord.ButtonStyle.primary)
    async def like(self, interaction: discord.Interaction, button: discord.ui.Button[MenuView]) -> None:
        await interaction.response.edit_message(content=f"liked by {interaction.user.display_name}")

    @discord.ui.button(label="Rename", custom_id="rename")
    async def rename(self, interaction: discord.Interaction, button: discord.ui.Button[MenuView]) -> None:
        await interaction.response.send_modal(RenameModal())

    @discord.ui.select(
        custom_id="pick",
        options=[discord.SelectOption(label="Dune", value="dune"), discord.SelectOption(label="Emma", value="emma")],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[MenuView]) -> None:
        await interaction.response.send_message(f"picked {select.values[0]}", ephemeral=True, view=ConfirmView())


class DoubleBot(commands.Bot):
    """A bare bot exercising each facility of the double."""

    def __init__(self, guild_id: int, *, message_content: bool = False) -> None:
        intents = discord.Intents.default()
        intents.message_content = message_content
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.05)
        self.guild_id = guild_id
        self.seen: list[str] = []
        self.votes: list[tuple[int, int]] = []
        self.ready_event = asyncio.Event()

    async def setup_hook(self) -> None:
        found = await self.http.request(Route("GET", "/gateway"))
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(found["url"])
        guild = discord.Object(self.guild_id)
        register_commands(self.tree, guild)
        await self.tree.sync(guild=guild)
        await self.tree.sync()

    async def on_ready(self) -> None:
        self.ready_event.set()

    async def on_message(self, message: discord.Message) -> None:
        if message.author != self.user:
            self.seen.append(message.content)

    async def on_raw_poll_vote_add(self, payload: discord.RawPollVoteActionEvent) -> None:
        self.votes.append((payload.user_id, payload.answer_id))


def register_commands(tree: app_commands.CommandTree[DoubleBot], guild: discord.Object) -> None:
    config = app_commands.Group(name="config", description="Settings")
    setting = app_commands.Group(name="set", description="Set one thing", parent=config)

    @setting.command(name="channel", description="Pick a channel")
    @app_commands.describe(target="where", role="who", who="member", count="n", ratio="r", enabled="e", mode="m")
    async def set_channel(
        interaction: discord.Interaction,
        target: discord.TextChannel,
        role: discord.Role,
        who: discord.Member,
        count: app_commands.Range[int, 1, 10],
        ratio: float,
        enabled: bool,
        mode: Literal["native", "ranked"],
        file: discord.Attachment | None = None,
    ) -> None:
        data = (await file.read()).decode() if file is not None else "-"
        embed = discord.Embed(title="Settings", description=f"#{target.name} {role.name} {who.display_name}")
        embed.add_field(name="numbers", value=f"{count} {ratio} {enabled} {mode}")
        embed.set_footer(text=f"file {data}")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    tree.add_command(config, guild=guild)

    @tree.command(name="ping", description="Answer pong", guild=guild)
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    @tree.command(name="slow", description="Defer then follow up", guild=guild)
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("done slowly")
        await interaction.followup.send("and one more")

    @tree.command(name="edit-later", description="Defer then edit", guild=guild)
    async def edit_later(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.edit_original_response(content="edited")

    @tree.command(name="form", description="Open a modal", guild=guild)
    async def form(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(ReviewModal())

    @tree.command(name="menu", description="Buttons and a select", guild=guild)
    async def menu(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("menu", view=MenuView())

    @tree.command(name="history", description="Club history", guild=guild)
    @app_commands.describe(author="an author")
    async def history(interaction: discord.Interaction, author: str) -> None:
        await interaction.response.send_message(f"history of {author}")

    @history.autocomplete("author")
    async def history_author(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=a, value=a) for a in AUTHORS if a.lower().startswith(current.lower())]

    @tree.context_menu(name="Hide as spoiler", guild=guild)
    async def hide(interaction: discord.Interaction, message: discord.Message) -> None:
        await message.delete()
        channel = interaction.channel
        assert isinstance(channel, discord.TextChannel)
        await channel.send(
            f"{message.author.display_name} said: ||{message.content}||",
            allowed_mentions=discord.AllowedMentions.none(),
        )
        await interaction.response.send_message("hidden", ephemeral=True)

    @tree.command(name="discuss", description="Private thread", guild=guild)
    @app_commands.describe(who="member to add")
    async def discuss(interaction: discord.Interaction, who: discord.Member) -> None:
        channel = interaction.channel
        assert isinstance(channel, discord.TextChannel)
        thread = await channel.create_thread(name="Spoilers", type=discord.ChannelType.private_thread, invitable=False)
        await thread.add_user(who)
        await thread.send("welcome", allowed_mentions=discord.AllowedMentions.none())
        await interaction.response.send_message(f"opened {thread.mention}")

    @tree.command(name="hook", description="Post through a webhook", guild=guild)
    @app_commands.describe(text="what to post")
    async def hook(interaction: discord.Interaction, text: str) -> None:
        channel = interaction.channel
        assert isinstance(channel, discord.TextChannel)
        webhook = await channel.create_webhook(name="Club Feed")
        posted = await webhook.send(text, username="Reviewer", wait=True)
        await interaction.response.send_message(f"posted {posted.id}", ephemeral=True)

    @tree.command(name="vote", description="A native poll", guild=guild)
    @app_commands.describe(question="the question")
    async def vote(interaction: discord.Interaction, question: str) -> None:
        poll = discord.Poll(question=question, duration=timedelta(hours=1))
        poll.add_answer(text="Dune")
        poll.add_answer(text="Emma")
        channel = interaction.channel
        assert isinstance(channel, discord.TextChannel)
        await channel.send(poll=poll)
        await interaction.response.send_message("poll posted", ephemeral=True)

    @tree.command(name="export", description="A file answer", guild=guild)
    async def export(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("here", file=discord.File(io.BytesIO(b"title,author\n"), "club.csv"))
        original = await interaction.original_response()
        await original.edit(content=f"here ({original.attachments[0].filename})")

    @tree.command(name="mod-only", description="Moderators", guild=guild)
    @app_commands.default_permissions(manage_guild=True)
    async def mod_only(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("hello moderator")


@pytest.fixture
async def start_bot(double: DiscordDouble) -> AsyncIterator[Callable[..., Awaitable[DoubleBot]]]:
    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = double.api_base
    started: list[tuple[DoubleBot, asyncio.Task[None]]] = []

    async def start(*, message_content: bool = False) -> DoubleBot:
        bot = DoubleBot(double.guild_a.id, message_content=message_content)
        started.append((bot, asyncio.create_task(bot.start(double.token))))
        await asyncio.wait_for(bot.ready_event.wait(), 10)
        return bot

    yield start
    for bot, task in started:
        await bot.close()
        with contextlib.suppress(Exception):
            await task
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway
    assert double.invalid_bodies == [], f"discord.py sent bodies Discord would refuse: {double.invalid_bodies}"


@pytest.fixture
async def bot(start_bot: Callable[..., Awaitable[DoubleBot]]) -> DoubleBot:
    return await start_bot()


async def test_login_sync_and_gateway_handshake(double: DiscordDouble, bot: DoubleBot) -> None:
    paths = [(r.method, r.path) for r in double.requests]
    assert ("GET", "/users/@me") in paths
    assert ("GET", "/oauth2/applications/@me") in paths
    assert {c["name"] for c in double.guild_commands[double.guild_a.id]} >= {"config", "ping", "Hide as spoiler"}
    assert "Authorization" not in double.requests[0].headers
    connection = double.connections[0]
    assert connection.compress
    assert await double.wait_until(lambda: connection.heartbeats >= 1)
    assert [g.name for g in bot.guilds] == ["Guild A", "Guild B"]
    assert {c.name for c in bot.guilds[0].channels} >= {"general", "reviews", "locked", "forum"}
    assert double.unhandled == []


async def test_subcommand_group_options_arrive_typed_with_resolved_data(double: DiscordDouble, bot: DoubleBot) -> None:
    g = double.guild_a
    options = {
        "target": g.channel("reviews"),
        "role": g.role("Moderator"),
        "who": g.member("Alice"),
        "count": 3,
        "ratio": 0.5,
        "enabled": True,
        "mode": "ranked",
    }
    ix = await double.slash(
        g, g.member("Mod"), "config set channel", **options, file=Upload("notes.txt", b"hello file")
    )
    reply = await ix.reply()
    assert ix.ephemeral
    assert ix.text() == "Settings\n#reviews Moderator Alice\nnumbers\n3 0.5 True ranked\nfile hello file"
    assert reply not in double.messages(g.channel("general"))
    with pytest.raises(ActionRefused, match="between 1 and 10"):
        await double.slash(g, g.member("Mod"), "config set channel", options={**options, "count": 11})
    with pytest.raises(ActionRefused, match="'role' is required"):
        await double.slash(g, g.member("Mod"), "config set channel", target=g.channel("reviews"))


async def test_deferral_then_followups_and_deferred_edit(double: DiscordDouble, bot: DoubleBot) -> None:
    g = double.guild_a
    ix = await double.slash(g, g.member("Alice"), "slow")
    assert (await ix.reply()).content == "done slowly"
    second = (await ix.wait_answers(2))[1]
    assert second.content == "and one more"
    visible = [m.content for m in double.messages(g.channel("general"))]
    assert visible == ["done slowly", "and one more"]

    edited = await double.slash(g, g.member("Alice"), "edit-later")
    assert (await edited.reply()).content == "edited"
    assert edited.ephemeral
    assert "edited" not in [m.content for m in double.messages(g.channel("general"))]


async def test_file_answers_are_kept_and_the_original_can_be_fetched_and_edited(
    double: DiscordDouble, bot: DoubleBot
) -> None:
    g = double.guild_a
    ix = await double.slash(g, g.member("Alice"), "export")
    reply = await ix.reply()
    assert [(a.filename, a.data) for a in reply.attachments] == [("club.csv", b"title,author\n")]
    assert await double.wait_until(lambda: reply.content == "here (club.csv)")
    assert reply.edits == 1
    form = double.find_requests("POST", "/callback$")[0].form
    assert [p.name for p in form] == ["payload_json", "files[0]"]


async def test_modal_opens_and_submits_by_label_or_custom_id(double: DiscordDouble, bot: DoubleBot) -> None:
    g = double.guild_a
    opened = await double.slash(g, g.member("Alice"), "form")
    assert opened.modal is not None
    assert opened.modal["title"] == "Write a review"
    with pytest.raises(ActionRefused, match="required"):
        await double.submit_modal(opened, {"Title": "Dune"})
    submitted = await double.submit_modal(opened, {"Title": "Dune", "Review": "Sand.", "spoilers": "worms"})
    assert (await submitted.reply()).content == "Dune: Sand. [worms]"


async def test_buttons_selects_and_buttons_on_ephemeral_answers(double: DiscordDouble, bot: DoubleBot) -> None:
    g = double.guild_a
    menu = await (await double.slash(g, g.member("Alice"), "menu")).reply()
    pressed = await double.press_button(menu, "Like", g.member("Bob"))
    assert (await pressed.reply()).id == menu.id
    assert menu.content == "liked by Bob"

    picked = await double.select(menu, "pick", ["Emma"], g.member("Carol"))
    answer = await picked.reply()
    assert (answer.content, answer.ephemeral) == ("picked emma", True)
    with pytest.raises(ActionRefused, match="only Carol"):
        await double.press_button(answer, "Confirm", g.member("Bob"))
    confirmed = await double.press_button(answer, "confirm", g.member("Carol"))
    assert (await confirmed.reply()).content == "confirmed"

    renaming = await double.press_button(menu, "Rename", g.member("Bob"))
    renamed = await double.submit_modal(renaming, {"New name": "Book menu"})
    assert (await renamed.reply()).id == menu.id
    assert menu.content == "renamed to Book menu"
    assert menu.components == []


async def test_autocomplete_offers_the_bots_choices(double: DiscordDouble, bot: DoubleBot) -> None:
    g = double.guild_a
    choices = await double.autocomplete(g, g.member("Alice"), "history", focused="author", author="Ish")
    assert [c["name"] for c in choices] == ["Ishiguro", "Ishmael Reed"]


async def test_message_context_menu_and_content_intent(double: DiscordDouble, bot: DoubleBot) -> None:
    g = double.guild_a
    general = g.channel("general")
    posted = await double.post_message(general, g.member("Bob"), "Snape kills Dumbledore")
    mentioned = await double.post_message(general, g.member("Bob"), "are you there?", mentions_bot=True)
    await double.wait_until(lambda: len(bot.seen) == 2)
    assert bot.seen == ["", mentioned.content]

    ix = await double.message_command(g, g.member("Mod"), "Hide as spoiler", posted)
    assert (await ix.reply()).content == "hidden"
    assert posted.deleted
    repost = await double.wait_for_message(general, lambda m: "||" in m.content)
    assert repost.content == "Bob said: ||Snape kills Dumbledore||"


async def test_message_content_intent_gives_the_bot_content(
    double: DiscordDouble, start_bot: Callable[..., Awaitable[DoubleBot]]
) -> None:
    bot = await start_bot(message_content=True)
    g = double.guild_a
    await double.post_message(g.channel("general"), g.member("Bob"), "plain words")
    assert await double.wait_until(lambda: bot.seen == ["plain words"])


async def test_private_thread_membership_decides_who_can_post(double: DiscordDouble, bot: DoubleBot) -> None:
    g = double.guild_a
    discussions = g.channel("discussions")
    ix = await double.slash(g, g.member("Mod"), "discuss", in_channel=discussions, who=g.member("Alice"))
    await ix.reply()
    [thread] = double.threads(discussions)
    assert thread.type == THREAD_PRIVATE
    assert [m.name for m in double.thread_members(thread)] == ["Bookclub", "Alice"]
    assert "welcome" in [m.content for m in double.messages(thread)]
    await double.post_message(thread, g.member("Alice"), "I am in")
    with pytest.raises(ActionRefused, match="cannot see"):
        await double.post_message(thread, g.member("Bob"), "let me in")
    cached = bot.get_channel(thread.id)
    assert isinstance(cached, discord.Thread)
    assert cached.is_private()


async def test_webhook_posts_show_the_given_author(double: DiscordDouble, bot: DoubleBot) -> None:
    g = double.guild_a
    reviews = g.channel("reviews")
    await (await double.slash(g, g.member("Mod"), "hook", in_channel=reviews, text="New review!")).reply()
    [message] = double.messages(reviews)
    assert (message.author_name, message.content) == ("Reviewer", "New review!")
    assert message.webhook_id in double.webhooks


async def test_native_poll_votes_reach_the_bot_and_expiry_finalises(double: DiscordDouble, bot: DoubleBot) -> None:
    g = double.guild_a
    polls = g.channel("polls")
    await (await double.slash(g, g.member("Mod"), "vote", in_channel=polls, question="Next read?")).reply()
    [message] = double.messages(polls)
    assert message.poll is not None
    await double.vote_native(message, 2, g.member("Alice"))
    await double.vote_native(message, 2, g.member("Bob"))
    with pytest.raises(ActionRefused, match="already voted"):
        await double.vote_native(message, 1, g.member("Bob"))
    assert await double.wait_until(lambda: len(bot.votes) == 2)
    assert bot.votes[0] == (g.member("Alice").id, 2)

    channel = bot.get_channel(polls.id)
    assert isinstance(channel, discord.TextChannel)
    fetched = await channel.fetch_message(message.id)
    assert fetched.poll is not None
    answer = fetched.poll.get_answer(2)
    assert answer is not None
    assert answer.vote_count == 2
    assert {u.id async for u in answer.voters()} == {g.member("Alice").id, g.member("Bob").id}
    ended = await fetched.end_poll()
    assert ended.poll is not None and ended.poll.is_finalised()
    assert double.messages(polls)[-1].embeds[0]["type"] == "poll_result"


async def test_permissions_follow_overwrites_changed_after_connect(double: DiscordDouble, bot: DoubleBot) -> None:
    g = double.guild_a
    locked = g.channel("locked")
    channel = bot.get_channel(locked.id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.Forbidden) as refused:
        await channel.send("hi")
    assert refused.value.code == 50013
    double.set_overwrite(locked, double.bot_role(g), allow=discord.Permissions(send_messages=True))
    assert await double.wait_until(lambda: channel.permissions_for(channel.guild.me).send_messages)
    await channel.send("now I may")
    assert [m.content for m in double.messages(locked)] == ["now I may"]

    moderator = g.role("Moderator")
    cached_role = channel.guild.get_role(moderator.id)
    assert cached_role is not None
    double.set_role_permissions(moderator, discord.Permissions(manage_guild=True, manage_messages=True))
    assert await double.wait_until(lambda: cached_role.permissions.manage_messages)


async def test_discord_limits_are_enforced_with_discord_errors(double: DiscordDouble, bot: DoubleBot) -> None:
    channel = bot.get_channel(double.guild_a.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as too_long:
        await channel.send("x" * 2001)
    assert (too_long.value.status, too_long.value.code) == (400, 50035)
    assert "content" in too_long.value.text
    huge = discord.Embed(title="t", description="d" * 4000)
    for _ in range(3):
        huge.add_field(name="n", value="v" * 1000)
    with pytest.raises(discord.HTTPException, match="6000"):
        await channel.send(embed=huge)
    assert double.messages(double.guild_a.channel("general")) == []


async def test_moderator_only_commands_are_hidden_from_members(double: DiscordDouble, bot: DoubleBot) -> None:
    g = double.guild_a
    with pytest.raises(ActionRefused, match="cannot see /mod-only"):
        await double.slash(g, g.member("Alice"), "mod-only")
    assert (await (await double.slash(g, g.member("Mod"), "mod-only")).reply()).content == "hello moderator"


async def test_gateway_drop_resumes_and_replays_missed_events(double: DiscordDouble, bot: DoubleBot) -> None:
    g = double.guild_a
    session = await double.wait_ready()
    double.drop_gateway()
    missed = await double.post_message(
        g.channel("general"), g.member("Carol"), "while you were away", mentions_bot=True
    )
    assert await double.wait_until(lambda: missed.content in bot.seen, 10)
    assert session.resumes == 1
    assert len(double.sessions) == 1
    assert double.connections[-1].path == "/gateway-resume"
    assert (await (await double.slash(g, g.member("Carol"), "ping")).reply()).content == "pong"


async def test_fault_injection_rate_limit_and_server_error(double: DiscordDouble, bot: DoubleBot) -> None:
    channel = bot.get_channel(double.guild_a.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    limited = double.fail_next("POST", r"/channels/\d+/messages$", 429, {"message": "slow", "retry_after": 0.05})
    await channel.send("after a rate limit")
    assert limited.hits == 1
    assert [r.status for r in double.find_requests("POST", r"/messages$")] == [429, 200]
    double.fail_next("POST", r"/messages$", 500, {"message": "500: Internal Server Error", "code": 0})
    await channel.send("after a retry")
    double.fail_next("POST", r"/messages$", 503, {"message": "down", "code": 0})
    with pytest.raises(discord.DiscordServerError):
        await channel.send("never")
    shown = [m.content for m in double.messages(double.guild_a.channel("general"))]
    assert shown == ["after a rate limit", "after a retry"]


async def test_hold_applies_the_effect_but_withholds_the_answer(double: DiscordDouble, bot: DoubleBot) -> None:
    general = double.guild_a.channel("general")
    channel = bot.get_channel(general.id)
    assert isinstance(channel, discord.TextChannel)
    hold = double.hold("POST", r"/channels/\d+/messages$")
    sending = asyncio.create_task(channel.send("held"))
    await hold.wait_hit()
    assert [m.content for m in double.messages(general)] == ["held"]
    assert not sending.done()
    hold.release()
    assert (await sending).content == "held"


async def test_pings_lists_bot_messages_that_notify(double: DiscordDouble, bot: DoubleBot) -> None:
    g = double.guild_a
    channel = bot.get_channel(g.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    alice = g.member("Alice")
    await channel.send(f"quiet {alice.mention}", allowed_mentions=discord.AllowedMentions.none())
    await channel.send(f"loud {alice.mention} @everyone")
    [ping] = double.pings()
    assert ping.message.content.startswith("loud")
    assert ping.mentions.users == {alice.id}
    assert not ping.mentions.everyone, "the bot has no Mention Everyone permission, so @everyone stays silent"


async def test_history_pagination_reactions_and_bulk_delete(
    double: DiscordDouble, start_bot: Callable[..., Awaitable[DoubleBot]]
) -> None:
    bot = await start_bot(message_content=True)
    g = double.guild_a
    general = g.channel("general")
    posted = [await double.post_message(general, g.member("Alice"), f"m{n}") for n in range(6)]
    channel = bot.get_channel(general.id)
    assert isinstance(channel, discord.TextChannel)
    newest = [m.id async for m in channel.history(limit=3)]
    assert newest == [p.id for p in reversed(posted[-3:])]
    oldest_first = [m.id async for m in channel.history(limit=10, after=posted[1], oldest_first=True)]
    assert oldest_first == [p.id for p in posted[2:]]
    around = {m.id async for m in channel.history(limit=3, around=posted[3])}
    assert around == {posted[2].id, posted[3].id, posted[4].id}

    first = await channel.fetch_message(posted[0].id)
    await first.add_reaction("📚")
    assert posted[0].reactions == {"📚": [double.bot_user.id]}
    await channel.delete_messages([discord.Object(p.id) for p in posted[:2]])
    assert [m.content for m in double.messages(general)] == ["m2", "m3", "m4", "m5"]
    await double.edit_post(posted[2], g.member("Alice"), "m2 edited")
    assert await double.wait_until(lambda: any(m.content == "m2 edited" for m in bot.cached_messages))


async def test_threads_from_messages_forum_posts_and_webhook_threads(double: DiscordDouble, bot: DoubleBot) -> None:
    g = double.guild_a
    general, forum = g.channel("general"), g.channel("forum")
    starter = await double.post_message(general, g.member("Bob"), "Chapter 1 thoughts")
    channel = bot.get_channel(general.id)
    assert isinstance(channel, discord.TextChannel)
    thread = await (await channel.fetch_message(starter.id)).create_thread(name="Chapter 1")
    assert thread.id == starter.id
    assert double.threads(general)[0].name == "Chapter 1"
    await double.post_message(double.threads(general)[0], g.member("Carol"), "me too")
    assert g.member("Carol") in double.thread_members(double.threads(general)[0])

    forum_channel = bot.get_channel(forum.id)
    assert isinstance(forum_channel, discord.ForumChannel)
    post = await forum_channel.create_thread(name="Book of the month", content="Vote here")
    assert [m.content for m in double.messages(double.threads(forum)[0])] == ["Vote here"]
    assert post.message.id == post.thread.id
    webhook = await forum_channel.create_webhook(name="Feed")
    await webhook.send("From the blog", thread_name="Blog post", username="Blog")
    blog = g.thread("Blog post")
    assert [(m.author_name, m.content) for m in double.messages(blog)] == [("Blog", "From the blog")]


async def test_private_thread_invites_need_membership_or_manage_threads(double: DiscordDouble, bot: DoubleBot) -> None:
    g = double.guild_a
    discussions, bob = g.channel("discussions"), g.member("Bob")
    with pytest.raises(ActionRefused, match="may not start threads"):
        await double.start_thread(discussions, bob, "Bob's corner", private=True)
    double.set_overwrite(discussions, bob, allow=discord.Permissions(create_private_threads=True))
    secret = await double.start_thread(discussions, bob, "Bob's corner", private=True)
    alice, carol = g.member("Alice"), g.member("Carol")
    thread = await bot.fetch_channel(secret.id)
    assert isinstance(thread, discord.Thread)
    await thread.add_user(discord.Object(alice.id))  # the bot is not in the thread but has Manage Threads

    double.set_role_permissions(double.bot_role(g), discord.Permissions(view_channel=True, send_messages=True))
    with pytest.raises(discord.Forbidden) as outside:
        await thread.add_user(discord.Object(carol.id))
    assert outside.value.code == 50001
    double.add_thread_member(secret, double.bot_member(g), by=bob.user)
    double.update_thread(secret, {"invitable": False})
    with pytest.raises(discord.Forbidden) as not_invitable:
        await thread.add_user(discord.Object(carol.id))
    assert not_invitable.value.code == 50013
    double.update_thread(secret, {"invitable": True})
    await thread.add_user(discord.Object(carol.id))
    assert [m.name for m in double.thread_members(secret)] == ["Bob", "Alice", "Bookclub", "Carol"]


async def test_world_changes_after_connect_reach_the_bot(double: DiscordDouble, bot: DoubleBot) -> None:
    g = double.guild_a
    cached = bot.get_guild(g.id)
    assert cached is not None
    club = double.add_channel(g, "club-news")
    readers = double.add_role(g, "Readers", discord.Permissions(send_polls=True))
    assert await double.wait_until(lambda: cached.get_channel(club.id) is not None and cached.get_role(readers.id))
    dave = double.add_member(g, "Dave", [readers])
    ix = await double.slash(g, dave, "ping", in_channel=club)
    assert (await ix.reply()).content == "pong"
    assert ix.payload["member"]["roles"] == [str(readers.id)]


async def test_unknown_routes_answer_404_and_are_recorded(double: DiscordDouble, bot: DoubleBot) -> None:
    with pytest.raises(discord.NotFound):
        await bot.http.request(Route("GET", "/guilds/{guild_id}/audit-logs", guild_id=double.guild_a.id))
    assert double.unhandled == [f"GET /guilds/{double.guild_a.id}/audit-logs"]


async def test_privileged_intents_must_be_enabled(double: DiscordDouble) -> None:
    double.gateway.allowed_privileged_intents = 0
    Route.BASE = double.api_base
    intents = discord.Intents.default()
    intents.message_content = True
    client = discord.Client(intents=intents)
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(double.gateway_url)
    try:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(client.start(double.token), 10)
    finally:
        await client.close()
        Route.BASE = "https://discord.com/api/v10"
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL("wss://gateway.discord.gg/")


BOT_SCRIPT = textwrap.dedent(
    """
    import os
    import discord
    import yarl
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    base = os.environ["DISCORD_API_BASE"]
    Route.BASE = base
    guild = discord.Object(int(os.environ["GUILD_ID"]))

    class Bot(discord.Client):
        def __init__(self):
            super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
            self.tree = discord.app_commands.CommandTree(self)

        async def setup_hook(self):
            found = await self.http.request(Route("GET", "/gateway"))
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(found["url"])

            @self.tree.command(name="where", description="which process", guild=guild)
            async def where(interaction):
                await interaction.response.send_message(f"pid {os.getpid()}")

            await self.tree.sync(guild=guild)

    Bot().run(os.environ["DISCORD_TOKEN"], log_handler=None)
    """
)


async def test_bot_as_subprocess_identifies_again_after_restart(double: DiscordDouble, tmp_path: Path) -> None:
    script = tmp_path / "bot.py"
    script.write_text(BOT_SCRIPT)
    env = {**os.environ, **double.env(), "GUILD_ID": str(double.guild_a.id)}
    g = double.guild_a
    for run in range(2):
        process = subprocess.Popen([sys.executable, str(script)], env=env)
        try:
            await double.wait_until(lambda expected=run + 1: len(double.sessions) == expected, 20)
            ix = await double.slash(g, g.member("Alice"), "where")
            assert (await ix.reply()).content == f"pid {process.pid}"
        finally:
            process.kill()
            process.wait()
    assert len(double.sessions) == 2
