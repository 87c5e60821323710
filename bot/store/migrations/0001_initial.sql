-- Guild configuration, the club blog's feeds, the scheduler's jobs and the bot's own key-value state.

CREATE TABLE guild_config (
    guild_id                INTEGER PRIMARY KEY,
    reviews_channel_id      INTEGER,
    discussions_channel_id  INTEGER,
    polls_channel_id        INTEGER,
    announcements_channel_id INTEGER,
    schedule_weekday        INTEGER CHECK (schedule_weekday BETWEEN 0 AND 6),
    schedule_time           TEXT CHECK (schedule_time IS NULL OR schedule_time GLOB '[0-2][0-9]:[0-5][0-9]'),
    timezone                TEXT NOT NULL DEFAULT 'UTC',
    moderator_role_id       INTEGER,
    updated_at              TEXT NOT NULL
);

CREATE TABLE feeds (
    id                  INTEGER PRIMARY KEY,
    guild_id            INTEGER NOT NULL,
    url                 TEXT NOT NULL,
    title               TEXT,
    etag                TEXT,
    last_modified       TEXT,
    polled_once         INTEGER NOT NULL DEFAULT 0,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    failure_reported    INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT,
    last_polled_at      TEXT,
    added_at            TEXT NOT NULL,
    UNIQUE (guild_id, url)
);

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    payload     TEXT NOT NULL DEFAULT '{}',
    due_at      TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    claimed_at  TEXT,
    finished_at TEXT,
    UNIQUE (guild_id, kind, key)
);
CREATE INDEX jobs_due ON jobs (status, due_at);

CREATE TABLE bot_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
