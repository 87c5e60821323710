-- A per-guild counter that moves whenever what the spoiler guard reads changes (discussions, their sections and
-- spoiler terms), so every cache of the guard (in any process) sees a change without being told.

CREATE TABLE guard_versions (
    guild_id    INTEGER PRIMARY KEY,
    version     INTEGER NOT NULL DEFAULT 0
);

CREATE TRIGGER guard_version_discussions_insert AFTER INSERT ON discussions BEGIN
    INSERT INTO guard_versions (guild_id, version) VALUES (new.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER guard_version_discussions_update AFTER UPDATE ON discussions BEGIN
    INSERT INTO guard_versions (guild_id, version) VALUES (new.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER guard_version_discussions_delete AFTER DELETE ON discussions BEGIN
    INSERT INTO guard_versions (guild_id, version) VALUES (old.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER guard_version_discussion_sections_insert AFTER INSERT ON discussion_sections BEGIN
    INSERT INTO guard_versions (guild_id, version) VALUES (new.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER guard_version_discussion_sections_update AFTER UPDATE ON discussion_sections BEGIN
    INSERT INTO guard_versions (guild_id, version) VALUES (new.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER guard_version_discussion_sections_delete AFTER DELETE ON discussion_sections BEGIN
    INSERT INTO guard_versions (guild_id, version) VALUES (old.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER guard_version_spoiler_terms_insert AFTER INSERT ON spoiler_terms BEGIN
    INSERT INTO guard_versions (guild_id, version) VALUES (new.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER guard_version_spoiler_terms_update AFTER UPDATE ON spoiler_terms BEGIN
    INSERT INTO guard_versions (guild_id, version) VALUES (new.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER guard_version_spoiler_terms_delete AFTER DELETE ON spoiler_terms BEGIN
    INSERT INTO guard_versions (guild_id, version) VALUES (old.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = version + 1;
END;
