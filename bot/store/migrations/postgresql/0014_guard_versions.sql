-- PostgreSQL: as 0014_guard_versions.sql, with trigger functions where SQLite has trigger bodies.
-- A per-guild counter that moves whenever what the spoiler guard reads changes (discussions, their sections and
-- spoiler terms), so every cache of the guard (in any process) sees a change without being told.

CREATE TABLE guard_versions (
    guild_id    BIGINT PRIMARY KEY,
    version     BIGINT NOT NULL DEFAULT 0
);

CREATE FUNCTION guard_versions_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    guild BIGINT := CASE WHEN TG_OP = 'DELETE' THEN OLD.guild_id ELSE NEW.guild_id END;
BEGIN
    INSERT INTO guard_versions AS v (guild_id, version) VALUES (guild, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = v.version + 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER guard_version_discussions AFTER INSERT OR UPDATE OR DELETE ON discussions
    FOR EACH ROW EXECUTE FUNCTION guard_versions_bump();
CREATE TRIGGER guard_version_discussion_sections AFTER INSERT OR UPDATE OR DELETE ON discussion_sections
    FOR EACH ROW EXECUTE FUNCTION guard_versions_bump();
CREATE TRIGGER guard_version_spoiler_terms AFTER INSERT OR UPDATE OR DELETE ON spoiler_terms
    FOR EACH ROW EXECUTE FUNCTION guard_versions_bump();

-- Every process caching a guild's guard hears of the change when it commits (LISTEN bookclub_versions).
CREATE TRIGGER guard_versions_notify AFTER INSERT OR UPDATE ON guard_versions
    FOR EACH ROW EXECUTE FUNCTION versions_notify();
