"""The use cases, built once from the bot's resources: what a cog calls instead of reaching into the store."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.app.books import BookResolver
from bot.app.club import ClubService
from bot.app.discussions import DiscussionService
from bot.app.feeds import FeedFetcher, FeedService
from bot.app.nominations import NominationService
from bot.app.reading_now import ReadingNowChanges
from bot.app.reviews import Announcer, ModeratorNotices, ReviewChannel, ReviewService
from bot.clock import Clock
from bot.scheduler import Scheduler
from bot.services.openlibrary import Catalogue
from bot.store import Store


@dataclass
class Services:
    """One instance per bot (`bot.services`). Use cases without Discord side effects are fields; one that needs
    ports (Protocols a cog implements with discord.py) gets a factory method here taking those ports, so the store
    never has to pass through a cog."""

    store: Store = field(repr=False)
    clock: Clock
    scheduler: Scheduler
    catalogue: Catalogue | None = None
    books: BookResolver = field(init=False)
    club: ClubService = field(init=False)
    discussions: DiscussionService = field(init=False)
    nominations: NominationService = field(init=False)
    reading_now: ReadingNowChanges = field(init=False)
    reviews: ReviewService = field(init=False)

    def __post_init__(self) -> None:
        self.books = BookResolver(self.store)
        self.reading_now = ReadingNowChanges(self.store, self.clock, self.scheduler)
        self.club = ClubService(self.store, self.clock, self.reading_now)
        self.discussions = DiscussionService(self.store, self.clock, self.reading_now)
        self.nominations = NominationService(self.store)
        self.reviews = ReviewService(self.store, self.clock, self.scheduler, self.reading_now, self.catalogue)

    def announcer(self, channel: ReviewChannel, notices: ModeratorNotices) -> Announcer:
        """The one Announcer of the bot (its per-guild locks keep a guild's announcements from overlapping)."""
        return Announcer(self.store, self.clock, channel, notices)

    def feeds(self, reader: FeedFetcher, notices: ModeratorNotices) -> FeedService:
        return FeedService(self.store, self.clock, self.scheduler, reader, notices, self.reviews, self.catalogue)
