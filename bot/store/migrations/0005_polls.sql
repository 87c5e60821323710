-- Next-read polls: nominations and who made them, polls with their candidates, anonymous ranked ballots, outcomes.

CREATE TABLE polls (
    id                      INTEGER PRIMARY KEY,
    guild_id                INTEGER NOT NULL,
    mode                    TEXT NOT NULL CHECK (mode IN ('native', 'ranked')),
    status                  TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    channel_id              INTEGER NOT NULL,
    message_id              INTEGER,             -- the poll (native) or the Vote button message (ranked)
    started_by              INTEGER NOT NULL,
    created_at              TEXT NOT NULL,
    closes_at               TEXT NOT NULL,
    closed_at               TEXT,
    outcome                 TEXT,                -- JSON of bot.domain.polls.Outcome, set once at the close
    winner_book_id          INTEGER REFERENCES books (id) ON DELETE SET NULL,
    announcement_channel_id INTEGER,
    announcement_message_id INTEGER              -- set once the result is posted: a re-run never posts again
);
-- One running poll per guild.
CREATE UNIQUE INDEX polls_one_open ON polls (guild_id) WHERE status = 'open';
CREATE INDEX polls_guild ON polls (guild_id, id);

-- The books on the ballot, in nomination order; a native poll's answer ids are position + 1.
CREATE TABLE poll_candidates (
    poll_id     INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    guild_id    INTEGER NOT NULL,
    position    INTEGER NOT NULL CHECK (position BETWEEN 0 AND 9),
    book_id     INTEGER NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    author      TEXT NOT NULL,
    answer      TEXT NOT NULL,                       -- the text shown as the poll answer or ballot option
    nominators  TEXT NOT NULL DEFAULT '[]',          -- JSON list of member ids, credited in the announcement
    PRIMARY KEY (poll_id, position)
);

-- Ranked ballots. The member id is kept only so that voting again replaces the ballot; it is never shown,
-- and the ballots are deleted once the poll is counted.
CREATE TABLE ballots (
    poll_id     INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    guild_id    INTEGER NOT NULL,
    member_id   INTEGER NOT NULL,
    ranking     TEXT NOT NULL,                       -- JSON list of candidate positions, first choice first
    cast_at     TEXT NOT NULL,
    PRIMARY KEY (poll_id, member_id)
);

-- A nomination lives until a poll with a winner clears it; `poll_id` is set while it stands in a running poll.
CREATE TABLE nominations (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    book_id     INTEGER NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    poll_id     INTEGER REFERENCES polls (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (guild_id, book_id)
);
CREATE INDEX nominations_poll ON nominations (guild_id, poll_id);

-- Everyone who nominated the book: the first nominator and those whose duplicate nomination was merged.
CREATE TABLE nominators (
    nomination_id INTEGER NOT NULL REFERENCES nominations (id) ON DELETE CASCADE,
    guild_id      INTEGER NOT NULL,
    member_id     INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (nomination_id, member_id)
);
CREATE INDEX nominators_member ON nominators (guild_id, member_id);
