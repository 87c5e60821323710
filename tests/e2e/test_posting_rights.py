"""The bot never posts for a member where the member may not post, and a member cannot flood a channel (or the model)
through it: refusals and cooldowns are private lines, and moderators and ordinary use never meet them."""

from __future__ import annotations

from datetime import timedelta

import discord

from cogs._shared.checks import ASK_LIMIT, SPOILER_LIMIT
from cogs.club import SLOW_DOWN
from tests.discord_double import DiscordDouble
from tests.discord_double.interactions import Interaction
from tests.discord_double.model import Channel, Guild, Member
from tests.e2e.conftest import BookClub
from tests.e2e.test_fuzz import snapshot

REFUSED = "so I won't post there for you. Nothing was posted."
NO_SENDING = discord.Permissions(send_messages=True)


def member_permissions(interaction: Interaction) -> discord.Permissions:
    """What Discord told the bot the member may do in the channel of the interaction."""
    return discord.Permissions(int(interaction.payload["member"]["permissions"]))


async def answer(double: DiscordDouble, guild: Guild, member: Member, command: str, channel: Channel,
                 **options: object) -> tuple[Interaction, str]:
    ix = await double.slash(guild, member, command, in_channel=channel, options=options)
    shown = await ix.reply()
    return ix, shown.text() if not shown.ephemeral else f"(private) {shown.text()}"


async def test_a_member_who_may_not_send_here_gets_nothing_posted(bookclub: BookClub) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    general = guild.channel("general")
    alice, bob = guild.member("Alice"), guild.member("Bob")
    double.set_overwrite(general, alice, deny=NO_SENDING)
    before, posted = await snapshot(bookclub), len(double.messages(general))

    for command, options in (("spoiler", {"text": "Ruth dies"}), ("ask", {"question": "what are we reading?"})):
        ix, text = await answer(double, guild, alice, command, general, **options)
        assert not member_permissions(ix).send_messages and member_permissions(ix).view_channel
        assert text == f"(private) You can't send messages in <#{general.id}>, {REFUSED}", command
    assert len(double.messages(general)) == posted and await snapshot(bookclub) == before

    # Bob may send there, and a moderator may post anywhere the command runs.
    assert not (await answer(double, guild, bob, "spoiler", general, text="Tommy too"))[1].startswith("(private)")
    double.set_overwrite(general, guild.member("Mod"), deny=NO_SENDING)
    assert not (await answer(double, guild, guild.member("Mod"), "spoiler", general, text="x"))[1].startswith(
        "(private)")
    assert len(double.messages(general)) == posted + 2


async def test_in_a_thread_it_takes_send_messages_in_threads(bookclub: BookClub) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    general = guild.channel("general")
    thread = await double.start_thread(general, guild.member("Bob"), "Chapter 3")
    double.set_overwrite(general, guild.everyone, deny=discord.Permissions(send_messages_in_threads=True))
    ix, text = await answer(double, guild, guild.member("Alice"), "spoiler", thread, text="Ruth dies")
    assert member_permissions(ix).send_messages and not member_permissions(ix).send_messages_in_threads
    assert text == f"(private) You can't send messages in <#{thread.id}>, {REFUSED}"
    assert double.bot_messages(thread) == []


async def test_hide_as_spoiler_does_not_repost_for_an_author_who_may_no_longer_post(bookclub: BookClub) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    general = guild.channel("general")
    alice = guild.member("Alice")
    said = await double.post_message(general, alice, "Ruth dies")
    double.set_overwrite(general, alice, deny=NO_SENDING)
    refused = await (await double.message_command(guild, alice, "Hide as spoiler", said)).reply()
    assert refused.ephemeral and REFUSED in refused.text()
    assert not said.deleted and double.webhooks == {}
    # A moderator still can: hiding is moderation.
    hidden = await double.message_command(guild, guild.member("Mod"), "Hide as spoiler", said)
    assert (await hidden.reply(timeout=10.0)).text().startswith("Hidden") and said.deleted


async def test_a_member_spamming_spoiler_is_slowed_down_and_no_one_else_is(bookclub: BookClub) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    general = guild.channel("general")
    alice, bob, mod = guild.member("Alice"), guild.member("Bob"), guild.member("Mod")
    for number in range(SPOILER_LIMIT.rate):
        assert not (await answer(double, guild, alice, "spoiler", general, text=f"{number}"))[1].startswith("(priv")
    posted = len(double.messages(general))
    _, text = await answer(double, guild, alice, "spoiler", general, text="one too many")
    assert text == "(private) Slow down a little: try again in 60 s."
    assert len(double.messages(general)) == posted
    for number in range(SPOILER_LIMIT.rate + 2):
        assert not (await answer(double, guild, mod, "spoiler", general, text=f"mod {number}"))[1].startswith("(p")
    assert not (await answer(double, guild, bob, "spoiler", general, text="bob"))[1].startswith("(private)")
    # The window slides: a minute after her first, Alice may post again.
    bookclub.clock.advance(timedelta(seconds=45))
    assert (await answer(double, guild, alice, "spoiler", general, text="x"))[1].endswith("try again in 15 s.")
    bookclub.clock.advance(timedelta(seconds=15))
    assert not (await answer(double, guild, alice, "spoiler", general, text="back"))[1].startswith("(private)")


async def test_asking_by_mention_and_by_command_share_one_limit(bookclub: BookClub) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    general = guild.channel("general")
    alice = guild.member("Alice")
    for number in range(ASK_LIMIT.rate - 1):
        question = await double.post_message(general, alice, f"what are we reading? ({number})", mentions_bot=True)
        await double.wait_for_message(general, after=question)
    _, text = await answer(double, guild, alice, "ask", general, question="what are we reading?")
    assert not text.startswith("(private)")
    _, text = await answer(double, guild, alice, "ask", general, question="and now?")
    assert text == "(private) Slow down a little: try again in 60 s."
    flood = await double.post_message(general, alice, "and now??", mentions_bot=True)
    assert await double.wait_until(lambda: SLOW_DOWN in flood.reactions)
    # The hourglass is the whole answer: the bot is done with the message and posted nothing after it.
    assert double.messages(general)[-1].id == flood.id
