-- The club's history: books, the club's reads, members' ratings and reviews, full-text search, catalogue cache.

CREATE TABLE books (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    title       TEXT NOT NULL,
    author      TEXT NOT NULL DEFAULT '',
    year        INTEGER,
    work_key    TEXT,                    -- Open Library work key, e.g. /works/OL45804W, when known
    isbn13      TEXT,
    cover_url   TEXT,
    title_key   TEXT NOT NULL,           -- bot.domain.names.title_key(title)
    author_key  TEXT NOT NULL,           -- bot.domain.names.author_key(author)
    created_at  TEXT NOT NULL,
    UNIQUE (guild_id, title_key, author_key)
);
CREATE INDEX books_author ON books (guild_id, author_key);
CREATE INDEX books_work ON books (guild_id, work_key);

CREATE TABLE reads (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    book_id     INTEGER NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    status      TEXT NOT NULL CHECK (status IN ('planned', 'reading', 'finished')),
    started_on  TEXT,                    -- YYYY-MM-DD
    finished_on TEXT,                    -- YYYY-MM-DD
    source      TEXT NOT NULL DEFAULT 'manual',  -- manual | import | poll
    created_at  TEXT NOT NULL,
    UNIQUE (guild_id, book_id)
);
CREATE INDEX reads_status ON reads (guild_id, status);

CREATE TABLE ratings (
    guild_id    INTEGER NOT NULL,
    book_id     INTEGER NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    member_id   INTEGER NOT NULL,
    stars       INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (guild_id, book_id, member_id)
);
CREATE INDEX ratings_book ON ratings (guild_id, book_id);

CREATE TABLE reviews (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    book_id         INTEGER NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    member_id       INTEGER,             -- NULL for a blog post
    reviewer_name   TEXT NOT NULL,       -- display name at the time, or the blog's title
    rating          INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
    body            TEXT NOT NULL,
    spoilers        TEXT,
    source          TEXT NOT NULL DEFAULT 'member' CHECK (source IN ('member', 'feed', 'import')),
    feed_id         INTEGER,
    entry_guid      TEXT,                -- feed entry GUID, else its link
    link            TEXT,
    status          TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'announcing', 'announced')),
    message_ids     TEXT,                -- JSON list of the announcement's message ids
    created_at      TEXT NOT NULL,
    announced_at    TEXT,
    UNIQUE (guild_id, feed_id, entry_guid)
);
CREATE INDEX reviews_book ON reviews (guild_id, book_id);
CREATE INDEX reviews_queue ON reviews (guild_id, status, created_at);
CREATE INDEX reviews_member ON reviews (guild_id, member_id);

-- Full-text search over titles, authors and review text (accents folded).
CREATE VIRTUAL TABLE books_fts USING fts5 (
    title, author, content = 'books', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER books_fts_insert AFTER INSERT ON books BEGIN
    INSERT INTO books_fts (rowid, title, author) VALUES (new.id, new.title, new.author);
END;
CREATE TRIGGER books_fts_delete AFTER DELETE ON books BEGIN
    INSERT INTO books_fts (books_fts, rowid, title, author) VALUES ('delete', old.id, old.title, old.author);
END;
CREATE TRIGGER books_fts_update AFTER UPDATE OF title, author ON books BEGIN
    INSERT INTO books_fts (books_fts, rowid, title, author) VALUES ('delete', old.id, old.title, old.author);
    INSERT INTO books_fts (rowid, title, author) VALUES (new.id, new.title, new.author);
END;

CREATE VIRTUAL TABLE reviews_fts USING fts5 (
    body, content = 'reviews', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER reviews_fts_insert AFTER INSERT ON reviews BEGIN
    INSERT INTO reviews_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER reviews_fts_delete AFTER DELETE ON reviews BEGIN
    INSERT INTO reviews_fts (reviews_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER reviews_fts_update AFTER UPDATE OF body ON reviews BEGIN
    INSERT INTO reviews_fts (reviews_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO reviews_fts (rowid, body) VALUES (new.id, new.body);
END;

-- Open Library answers, shared by all guilds (public catalogue data, no guild data in it).
CREATE TABLE catalogue_cache (
    query       TEXT PRIMARY KEY,        -- e.g. 'author-works:kazuo ishiguro'
    payload     TEXT NOT NULL,           -- JSON
    fetched_at  TEXT NOT NULL
);
