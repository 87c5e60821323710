"""Withdrawing nominations and deleting reviews, on a real store with Discord's side played by a fake."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from bot.app.nominations import NominationService
from bot.app.reading_now import ReadingNowChanges
from bot.app.reviews import ReviewService
from bot.clock import ManualClock
from bot.errors import NotAllowed, UserError
from bot.scheduler import Scheduler
from bot.store import Store

GUILD_A, GUILD_B = 111, 222
ALICE, BOB, MOD = 501, 502, 500


class FakePosts:
    def __init__(self, refuse: bool = False) -> None:
        self.deleted: list[tuple[int, list[int]]] = []
        self.refuse = refuse

    async def delete_messages(self, channel_id: int, message_ids: Sequence[int]) -> None:
        if self.refuse:
            raise UserError("Discord won't let me delete the post")
        self.deleted.append((channel_id, list(message_ids)))


def reviews_of(store: Store, clock: ManualClock) -> ReviewService:
    scheduler = Scheduler(store.jobs, clock)
    return ReviewService(store, clock, scheduler, ReadingNowChanges(store, clock, scheduler))


async def nominate(store: Store, clock: ManualClock, title: str, member: int, guild_id: int = GUILD_A) -> int:
    book, _ = await store.books.find_or_create(guild_id, title, "Author")
    assert await store.polls.nominate(guild_id, book.id, member, now=clock.now()) in ("created", "merged")
    return book.id


async def test_a_member_withdraws_only_their_own_and_a_moderator_any(store: Store, clock: ManualClock) -> None:
    piranesi = await nominate(store, clock, "Piranesi", ALICE)
    await nominate(store, clock, "Piranesi", BOB)
    hamnet = await nominate(store, clock, "Hamnet", ALICE)
    service = NominationService(store, clock)
    assert [n.book.title for n in await service.withdrawable(GUILD_A, BOB, moderator=False)] == ["Piranesi"]
    assert len(await service.withdrawable(GUILD_A, BOB, moderator=True)) == 2

    with pytest.raises(NotAllowed, match="didn't nominate"):
        await service.withdraw(GUILD_A, f"book:{hamnet}", BOB, moderator=False)
    shared = await service.withdraw(GUILD_A, "piranesi", ALICE, moderator=False)
    assert shared.status == "credit_removed"
    assert [n.nominators for n in await store.polls.nominations(GUILD_A) if n.book.id == piranesi] == [[BOB]]
    assert (await service.withdraw(GUILD_A, f"book:{piranesi}", BOB, moderator=False)).status == "withdrawn"
    assert (await service.withdraw(GUILD_A, "Hamnet", MOD, moderator=True)).status == "withdrawn"
    assert await store.polls.nominations(GUILD_A) == []
    assert await store.polls.count_for_member(GUILD_A, ALICE) == 0


async def test_a_nomination_in_the_running_poll_cannot_be_withdrawn(store: Store, clock: ManualClock) -> None:
    await nominate(store, clock, "Piranesi", ALICE)
    await nominate(store, clock, "Hamnet", BOB)
    await store.polls.start(GUILD_A, mode="native", channel_id=1, started_by=MOD, now=clock.now(),
                            closes_at=clock.now() + timedelta(days=1))
    late = await nominate(store, clock, "Beloved", ALICE)
    service = NominationService(store, clock)
    with pytest.raises(UserError, match="in the running poll"):
        await service.withdraw(GUILD_A, "Piranesi", ALICE, moderator=True)
    assert [n.book.title for n in await service.withdrawable(GUILD_A, ALICE, moderator=False)] == ["Beloved"]
    assert (await service.withdraw(GUILD_A, f"book:{late}", ALICE, moderator=False)).status == "withdrawn"
    assert len(await store.polls.nominations(GUILD_A)) == 2


async def test_another_guilds_nomination_is_not_found(store: Store, clock: ManualClock) -> None:
    book_id = await nominate(store, clock, "Piranesi", ALICE, guild_id=GUILD_A)
    with pytest.raises(UserError, match="is nominated"):
        await NominationService(store, clock).withdraw(GUILD_B, f"book:{book_id}", ALICE, moderator=True)
    assert len(await store.polls.nominations(GUILD_A)) == 1


async def written(store: Store, clock: ManualClock, member: int = ALICE, guild_id: int = GUILD_A) -> int:
    book, _ = await store.books.find_or_create(guild_id, "Never Let Me Go", "Kazuo Ishiguro")
    review = await store.reviews.queue_review(guild_id, book.id, member_id=member, reviewer_name="Alice", rating=5,
                                              body="Calm and devastating.", spoilers=None, now=clock.now())
    return review.id


async def test_a_queued_review_leaves_the_queue_and_a_posted_one_takes_its_post(store: Store,
                                                                               clock: ManualClock) -> None:
    queued, posted = await written(store, clock), await written(store, clock)
    await store.reviews.mark_announcing(GUILD_A, posted, 10)
    await store.reviews.mark_announced(GUILD_A, posted, [900, 901], clock.now())
    service, posts = reviews_of(store, clock), FakePosts()
    assert [r.id for r in await service.deletable(GUILD_A, ALICE, moderator=False)] == [posted, queued]
    assert await service.deletable(GUILD_A, BOB, moderator=False) == []

    with pytest.raises(NotAllowed, match="only delete your own"):
        await service.delete(GUILD_A, f"review:{queued}", BOB, moderator=False, posts=posts)
    assert (await service.delete(GUILD_A, f"review:{queued}", ALICE, moderator=False, posts=posts)).id == queued
    assert posts.deleted == [] and [r.id for r in await store.reviews.queued(GUILD_A)] == []

    with pytest.raises(UserError, match="won't let me"):
        await service.delete(GUILD_A, f"#{posted}", MOD, moderator=True, posts=FakePosts(refuse=True))
    assert await store.reviews.get(GUILD_A, posted) is not None
    await service.delete(GUILD_A, f"#{posted}", MOD, moderator=True, posts=posts)
    assert posts.deleted == [(10, [900, 901])] and await store.reviews.get(GUILD_A, posted) is None


async def test_a_review_being_posted_is_not_deleted_and_another_guilds_is_not_found(store: Store,
                                                                                   clock: ManualClock) -> None:
    review_id = await written(store, clock)
    await store.reviews.mark_announcing(GUILD_A, review_id, 10)
    service = reviews_of(store, clock)
    with pytest.raises(UserError, match="being posted right now"):
        await service.delete(GUILD_A, str(review_id), ALICE, moderator=False, posts=FakePosts())
    with pytest.raises(UserError, match="There is no review"):
        await service.delete(GUILD_B, str(review_id), ALICE, moderator=True, posts=FakePosts())
    with pytest.raises(UserError, match="There is no review"):
        await service.delete(GUILD_A, "the good one", ALICE, moderator=True, posts=FakePosts())
    assert await store.reviews.get(GUILD_A, review_id) is not None
