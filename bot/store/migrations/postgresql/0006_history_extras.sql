-- PostgreSQL: as 0006_history_extras.sql, with trigger functions where SQLite has trigger bodies.
-- Raters' display names, per-guild change counters that tell answer caches when to rebuild, and answer indexes.

-- Answers name the members who liked a book; Discord does not send member lists without a privileged intent.
ALTER TABLE ratings ADD COLUMN member_name TEXT NOT NULL DEFAULT '';

-- `names` moves when a book is added, renamed or removed; `votes` when reads, ratings or rated reviews change.
CREATE TABLE history_versions (
    guild_id    BIGINT PRIMARY KEY,
    names       BIGINT NOT NULL DEFAULT 0,
    votes       BIGINT NOT NULL DEFAULT 0
);

-- TG_ARGV: how much `names` and `votes` move.
CREATE FUNCTION history_versions_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    guild BIGINT := CASE WHEN TG_OP = 'DELETE' THEN OLD.guild_id ELSE NEW.guild_id END;
BEGIN
    INSERT INTO history_versions AS v (guild_id, names, votes)
    VALUES (guild, TG_ARGV[0]::BIGINT, TG_ARGV[1]::BIGINT)
    ON CONFLICT (guild_id) DO UPDATE SET names = v.names + TG_ARGV[0]::BIGINT, votes = v.votes + TG_ARGV[1]::BIGINT;
    RETURN NULL;
END;
$$;

CREATE TRIGGER history_names_book_insert AFTER INSERT ON books
    FOR EACH ROW EXECUTE FUNCTION history_versions_bump(1, 0);
CREATE TRIGGER history_names_book_update AFTER UPDATE OF title, author ON books
    FOR EACH ROW EXECUTE FUNCTION history_versions_bump(1, 0);
CREATE TRIGGER history_names_book_delete AFTER DELETE ON books
    FOR EACH ROW EXECUTE FUNCTION history_versions_bump(1, 1);

CREATE TRIGGER history_votes_read_insert AFTER INSERT ON reads
    FOR EACH ROW EXECUTE FUNCTION history_versions_bump(0, 1);
CREATE TRIGGER history_votes_read_update AFTER UPDATE OF status, book_id ON reads
    FOR EACH ROW EXECUTE FUNCTION history_versions_bump(0, 1);
CREATE TRIGGER history_votes_read_delete AFTER DELETE ON reads
    FOR EACH ROW EXECUTE FUNCTION history_versions_bump(0, 1);

CREATE TRIGGER history_votes_rating_insert AFTER INSERT ON ratings
    FOR EACH ROW EXECUTE FUNCTION history_versions_bump(0, 1);
CREATE TRIGGER history_votes_rating_update AFTER UPDATE OF stars, book_id, member_id ON ratings
    FOR EACH ROW EXECUTE FUNCTION history_versions_bump(0, 1);
CREATE TRIGGER history_votes_rating_delete AFTER DELETE ON ratings
    FOR EACH ROW EXECUTE FUNCTION history_versions_bump(0, 1);

CREATE TRIGGER history_votes_review_insert AFTER INSERT ON reviews
    FOR EACH ROW WHEN (NEW.rating IS NOT NULL) EXECUTE FUNCTION history_versions_bump(0, 1);
CREATE TRIGGER history_votes_review_update AFTER UPDATE OF rating, book_id, member_id ON reviews
    FOR EACH ROW EXECUTE FUNCTION history_versions_bump(0, 1);
CREATE TRIGGER history_votes_review_delete AFTER DELETE ON reviews
    FOR EACH ROW WHEN (OLD.rating IS NOT NULL) EXECUTE FUNCTION history_versions_bump(0, 1);

-- Every process caching a guild's versions hears of the change when it commits (LISTEN bookclub_versions).
CREATE FUNCTION versions_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bookclub_versions', TG_TABLE_NAME || ':' || NEW.guild_id);
    RETURN NULL;
END;
$$;
CREATE TRIGGER history_versions_notify AFTER INSERT OR UPDATE ON history_versions
    FOR EACH ROW EXECUTE FUNCTION versions_notify();

-- Counting a period's reads, and finding what one member has already rated.
CREATE INDEX reads_finished ON reads (guild_id, finished_on);
CREATE INDEX ratings_member ON ratings (guild_id, member_id);
-- Lets the club-wide score be read from the index alone (100,000 reviews in well under a second).
CREATE INDEX reviews_votes ON reviews (guild_id, book_id, member_id, rating);
