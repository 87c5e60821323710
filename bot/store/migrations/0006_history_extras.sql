-- Raters' display names, per-guild change counters that tell answer caches when to rebuild, and answer indexes.

-- Answers name the members who liked a book; Discord does not send member lists without a privileged intent.
ALTER TABLE ratings ADD COLUMN member_name TEXT NOT NULL DEFAULT '';

-- `names` moves when a book is added, renamed or removed; `votes` when reads, ratings or rated reviews change.
CREATE TABLE history_versions (
    guild_id    INTEGER PRIMARY KEY,
    names       INTEGER NOT NULL DEFAULT 0,
    votes       INTEGER NOT NULL DEFAULT 0
);

CREATE TRIGGER history_names_book_insert AFTER INSERT ON books BEGIN
    INSERT INTO history_versions (guild_id, names) VALUES (new.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET names = names + 1;
END;
CREATE TRIGGER history_names_book_update AFTER UPDATE OF title, author ON books BEGIN
    INSERT INTO history_versions (guild_id, names) VALUES (new.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET names = names + 1;
END;
CREATE TRIGGER history_names_book_delete AFTER DELETE ON books BEGIN
    INSERT INTO history_versions (guild_id, names, votes) VALUES (old.guild_id, 1, 1)
    ON CONFLICT (guild_id) DO UPDATE SET names = names + 1, votes = votes + 1;
END;

CREATE TRIGGER history_votes_read_insert AFTER INSERT ON reads BEGIN
    INSERT INTO history_versions (guild_id, votes) VALUES (new.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET votes = votes + 1;
END;
CREATE TRIGGER history_votes_read_update AFTER UPDATE OF status, book_id ON reads BEGIN
    INSERT INTO history_versions (guild_id, votes) VALUES (new.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET votes = votes + 1;
END;
CREATE TRIGGER history_votes_read_delete AFTER DELETE ON reads BEGIN
    INSERT INTO history_versions (guild_id, votes) VALUES (old.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET votes = votes + 1;
END;

CREATE TRIGGER history_votes_rating_insert AFTER INSERT ON ratings BEGIN
    INSERT INTO history_versions (guild_id, votes) VALUES (new.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET votes = votes + 1;
END;
CREATE TRIGGER history_votes_rating_update AFTER UPDATE OF stars, book_id, member_id ON ratings BEGIN
    INSERT INTO history_versions (guild_id, votes) VALUES (new.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET votes = votes + 1;
END;
CREATE TRIGGER history_votes_rating_delete AFTER DELETE ON ratings BEGIN
    INSERT INTO history_versions (guild_id, votes) VALUES (old.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET votes = votes + 1;
END;

CREATE TRIGGER history_votes_review_insert AFTER INSERT ON reviews WHEN new.rating IS NOT NULL BEGIN
    INSERT INTO history_versions (guild_id, votes) VALUES (new.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET votes = votes + 1;
END;
CREATE TRIGGER history_votes_review_update AFTER UPDATE OF rating, book_id, member_id ON reviews BEGIN
    INSERT INTO history_versions (guild_id, votes) VALUES (new.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET votes = votes + 1;
END;
CREATE TRIGGER history_votes_review_delete AFTER DELETE ON reviews WHEN old.rating IS NOT NULL BEGIN
    INSERT INTO history_versions (guild_id, votes) VALUES (old.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET votes = votes + 1;
END;

-- Counting a period's reads, and finding what one member has already rated.
CREATE INDEX reads_finished ON reads (guild_id, finished_on);
CREATE INDEX ratings_member ON ratings (guild_id, member_id);
-- Lets the club-wide score be read from the index alone (100,000 reviews in well under a second).
CREATE INDEX reviews_votes ON reviews (guild_id, book_id, member_id, rating);
