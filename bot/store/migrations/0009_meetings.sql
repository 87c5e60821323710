-- Club meetings as Discord scheduled events, their reminders, and the pinned "Reading now" message.

-- A meeting mirrors one Discord scheduled event; Discord is the source of truth for its time and place.
CREATE TABLE meetings (
    id            INTEGER PRIMARY KEY,
    guild_id      INTEGER NOT NULL,
    event_id      INTEGER,                 -- the Discord scheduled event; NULL only until it is created
    starts_at     TEXT NOT NULL,           -- UTC
    ends_at       TEXT NOT NULL,           -- UTC
    timezone      TEXT NOT NULL,           -- the club's zone when scheduled: repeats keep its wall-clock time
    channel_id    INTEGER,                 -- a voice or stage channel …
    location      TEXT,                    -- … or a place or URL
    book_id       INTEGER REFERENCES books (id) ON DELETE SET NULL,
    section       TEXT,
    repeat        TEXT NOT NULL DEFAULT 'none' CHECK (repeat IN ('none', 'weekly', 'biweekly', 'monthly')),
    status        TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'ended', 'cancelled')),
    previous_id   INTEGER,                 -- the occurrence this one repeats
    created_by    INTEGER NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX meetings_event ON meetings (guild_id, event_id);
CREATE UNIQUE INDEX meetings_next ON meetings (guild_id, previous_id);
CREATE INDEX meetings_upcoming ON meetings (guild_id, status, starts_at);

-- A reminder posted for a meeting's start time: a re-run (after a crash) never posts it again, and a
-- meeting moved in Discord gets reminders for its new time.
CREATE TABLE meeting_reminders (
    guild_id    INTEGER NOT NULL,
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('day', 'hour')),
    starts_at   TEXT NOT NULL,
    channel_id  INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    posted_at   TEXT NOT NULL,
    PRIMARY KEY (guild_id, meeting_id, kind, starts_at)
);

-- Per guild: the opt-in reminder role and the pinned "Reading now" message the bot keeps up to date.
CREATE TABLE club_posts (
    guild_id                INTEGER PRIMARY KEY,
    reminder_role_id        INTEGER,
    reading_now_channel_id  INTEGER,
    reading_now_message_id  INTEGER
);
