"""The use cases, built once from the bot's resources: what a cog calls instead of reaching into the store."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.app.books import BookResolver
from bot.app.club import ClubService
from bot.app.config import ConfigService
from bot.app.discussions import DiscussionService
from bot.app.feeds import FeedFetcher, FeedService
from bot.app.meetings import EventsPort, MeetingService, RolesPort
from bot.app.nominations import NominationService
from bot.app.polls import Announcements, PollMessages, PollService
from bot.app.posts import PostsPort
from bot.app.reading_now import ReadingNowChanges, ReadingNowService
from bot.app.reviews import Announcer, ModeratorNotices, ReviewChannel, ReviewService
from bot.clock import Clock
from bot.scheduler import Scheduler
from bot.services.asker import HistoryIndex
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
    # The asker's name index, which /club's author and title look-ups share.
    history_index: HistoryIndex
    catalogue: Catalogue | None = None
    # Lets /config feed-add follow feeds on private addresses (tests, a LAN blog).
    allow_private_feeds: bool = False
    books: BookResolver = field(init=False)
    club: ClubService = field(init=False)
    config: ConfigService = field(init=False)
    discussions: DiscussionService = field(init=False)
    nominations: NominationService = field(init=False)
    reading_now: ReadingNowChanges = field(init=False)
    reviews: ReviewService = field(init=False)

    def __post_init__(self) -> None:
        self.books = BookResolver(self.store)
        self.reading_now = ReadingNowChanges(self.store, self.clock, self.scheduler)
        self.club = ClubService(self.store, self.clock, self.reading_now, self.history_index, self.catalogue)
        self.config = ConfigService(self.store, self.clock, allow_private_feeds=self.allow_private_feeds)
        self.discussions = DiscussionService(self.store, self.clock, self.reading_now)
        self.nominations = NominationService(self.store, self.clock, self.catalogue)
        self.reviews = ReviewService(self.store, self.clock, self.scheduler, self.reading_now, self.catalogue)

    def polls(self, messages: PollMessages, announcements: Announcements) -> PollService:
        """The polls use case, posting through the polls cog's ports; build it once per cog."""
        return PollService(self.store, self.clock, self.scheduler, messages, announcements, self.reading_now)

    def use_catalogue(self, catalogue: Catalogue | None) -> None:
        """Swaps the catalogue (or leaves it out) for every use case that looks books up."""
        self.catalogue = self.club.catalogue = self.nominations.catalogue = self.reviews.catalogue = catalogue

    def meetings(self, events: EventsPort, posts: PostsPort, roles: RolesPort) -> tuple[MeetingService,
                                                                                       ReadingNowService]:
        """The meeting workflows and the pinned Reading now message, on the cog's Discord ports."""
        reading_now = ReadingNowService(self.store, self.clock, posts, self.scheduler)
        return MeetingService(self.store, self.clock, events, posts, roles, reading_now, self.scheduler), reading_now

    def announcer(self, channel: ReviewChannel, notices: ModeratorNotices) -> Announcer:
        """The one Announcer of the bot (its per-guild locks keep a guild's announcements from overlapping)."""
        return Announcer(self.store, self.clock, channel, notices)

    def feeds(self, reader: FeedFetcher, notices: ModeratorNotices) -> FeedService:
        return FeedService(self.store, self.clock, self.scheduler, reader, notices, self.reviews)
