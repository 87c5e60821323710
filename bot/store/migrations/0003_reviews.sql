-- Where each review was announced (a re-run looks there for its own earlier post), and every feed entry already
-- seen, queued or passed over, so that no blog post is queued twice and a new feed's back catalogue stays out.

ALTER TABLE reviews ADD COLUMN channel_id INTEGER;

CREATE TABLE feed_entries (
    guild_id    INTEGER NOT NULL,
    feed_id     INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    entry_key   TEXT NOT NULL,           -- the entry's GUID, else its link
    review_id   INTEGER REFERENCES reviews (id) ON DELETE SET NULL,
    seen_at     TEXT NOT NULL,
    PRIMARY KEY (guild_id, feed_id, entry_key)
);
