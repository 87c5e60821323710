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

-- TG_ARGV: how much `names` and `votes` move. Inserts and deletes bump once per statement and guild (a statement-level
-- trigger over the rows it changed): bumping the guild's one counter row once per row made a 20,000-row import's
-- statement walk every earlier version of that row, quadratic in the rows. Updates name their columns, which
-- PostgreSQL allows only per row; they touch a row or a few.
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

CREATE FUNCTION history_versions_bump_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO history_versions AS v (guild_id, names, votes)
        SELECT DISTINCT guild_id, TG_ARGV[0]::BIGINT, TG_ARGV[1]::BIGINT FROM changed_rows_old
        ON CONFLICT (guild_id) DO UPDATE
        SET names = v.names + TG_ARGV[0]::BIGINT, votes = v.votes + TG_ARGV[1]::BIGINT;
    ELSE
        INSERT INTO history_versions AS v (guild_id, names, votes)
        SELECT DISTINCT guild_id, TG_ARGV[0]::BIGINT, TG_ARGV[1]::BIGINT FROM changed_rows_new
        ON CONFLICT (guild_id) DO UPDATE
        SET names = v.names + TG_ARGV[0]::BIGINT, votes = v.votes + TG_ARGV[1]::BIGINT;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER history_names_book_insert AFTER INSERT ON books REFERENCING NEW TABLE AS changed_rows_new
    FOR EACH STATEMENT EXECUTE FUNCTION history_versions_bump_rows(1, 0);
CREATE TRIGGER history_names_book_update AFTER UPDATE OF title, author ON books
    FOR EACH ROW EXECUTE FUNCTION history_versions_bump(1, 0);
CREATE TRIGGER history_names_book_delete AFTER DELETE ON books REFERENCING OLD TABLE AS changed_rows_old
    FOR EACH STATEMENT EXECUTE FUNCTION history_versions_bump_rows(1, 1);

CREATE TRIGGER history_votes_read_insert AFTER INSERT ON reads REFERENCING NEW TABLE AS changed_rows_new
    FOR EACH STATEMENT EXECUTE FUNCTION history_versions_bump_rows(0, 1);
CREATE TRIGGER history_votes_read_update AFTER UPDATE OF status, book_id ON reads
    FOR EACH ROW EXECUTE FUNCTION history_versions_bump(0, 1);
CREATE TRIGGER history_votes_read_delete AFTER DELETE ON reads REFERENCING OLD TABLE AS changed_rows_old
    FOR EACH STATEMENT EXECUTE FUNCTION history_versions_bump_rows(0, 1);

CREATE TRIGGER history_votes_rating_insert AFTER INSERT ON ratings REFERENCING NEW TABLE AS changed_rows_new
    FOR EACH STATEMENT EXECUTE FUNCTION history_versions_bump_rows(0, 1);
CREATE TRIGGER history_votes_rating_update AFTER UPDATE OF stars, book_id, member_id ON ratings
    FOR EACH ROW EXECUTE FUNCTION history_versions_bump(0, 1);
CREATE TRIGGER history_votes_rating_delete AFTER DELETE ON ratings REFERENCING OLD TABLE AS changed_rows_old
    FOR EACH STATEMENT EXECUTE FUNCTION history_versions_bump_rows(0, 1);

-- A statement-level trigger has no WHEN over rows: rated reviews are picked in a view of the changed rows instead.
CREATE FUNCTION history_versions_bump_rated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO history_versions AS v (guild_id, votes)
        SELECT DISTINCT guild_id, 1 FROM changed_rows_old WHERE rating IS NOT NULL
        ON CONFLICT (guild_id) DO UPDATE SET votes = v.votes + 1;
    ELSE
        INSERT INTO history_versions AS v (guild_id, votes)
        SELECT DISTINCT guild_id, 1 FROM changed_rows_new WHERE rating IS NOT NULL
        ON CONFLICT (guild_id) DO UPDATE SET votes = v.votes + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER history_votes_review_insert AFTER INSERT ON reviews REFERENCING NEW TABLE AS changed_rows_new
    FOR EACH STATEMENT EXECUTE FUNCTION history_versions_bump_rated();
CREATE TRIGGER history_votes_review_update AFTER UPDATE OF rating, book_id, member_id ON reviews
    FOR EACH ROW EXECUTE FUNCTION history_versions_bump(0, 1);
CREATE TRIGGER history_votes_review_delete AFTER DELETE ON reviews REFERENCING OLD TABLE AS changed_rows_old
    FOR EACH STATEMENT EXECUTE FUNCTION history_versions_bump_rated();

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
