-- Spoiler-safe discussions: a book's threads, members' reading progress, spoiler terms and re-posting webhooks.

-- One discussion per book: a spoiler-free public thread in the discussions channel, plus its sections.
CREATE TABLE discussions (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    book_id     INTEGER NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    channel_id  INTEGER NOT NULL,        -- the text channel holding the threads
    thread_id   INTEGER NOT NULL,        -- the spoiler-free public thread
    started_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (guild_id, book_id)
);

-- A section's private thread admits spoilers up to the end of the section.
CREATE TABLE discussion_sections (
    discussion_id   INTEGER NOT NULL REFERENCES discussions (id) ON DELETE CASCADE,
    guild_id        INTEGER NOT NULL,
    position        INTEGER NOT NULL CHECK (position >= 1),  -- reading order, from 1
    name            TEXT NOT NULL,
    first_chapter   INTEGER,
    last_chapter    INTEGER,
    thread_id       INTEGER NOT NULL,
    PRIMARY KEY (discussion_id, position)
);

-- The furthest section a member has read; it never goes back.
CREATE TABLE reading_progress (
    discussion_id   INTEGER NOT NULL REFERENCES discussions (id) ON DELETE CASCADE,
    guild_id        INTEGER NOT NULL,
    member_id       INTEGER NOT NULL,
    position        INTEGER NOT NULL CHECK (position >= 1),
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (discussion_id, member_id)
);
CREATE INDEX reading_progress_member ON reading_progress (guild_id, member_id);

-- Words that give a book's plot away; the guard hides them in spoiler-free places.
CREATE TABLE spoiler_terms (
    discussion_id   INTEGER NOT NULL REFERENCES discussions (id) ON DELETE CASCADE,
    guild_id        INTEGER NOT NULL,
    position        INTEGER NOT NULL,
    term            TEXT NOT NULL,
    PRIMARY KEY (discussion_id, position)
);
CREATE INDEX spoiler_terms_guild ON spoiler_terms (guild_id);

-- The one webhook per channel through which hidden messages are re-posted under their author's name.
CREATE TABLE spoiler_webhooks (
    guild_id    INTEGER NOT NULL,
    channel_id  INTEGER NOT NULL,
    webhook_id  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (guild_id, channel_id)
);

-- Members already told why the guard hid a message of theirs: they are told once.
CREATE TABLE spoiler_notices (
    guild_id    INTEGER NOT NULL,
    member_id   INTEGER NOT NULL,
    told_at     TEXT NOT NULL,
    PRIMARY KEY (guild_id, member_id)
);
