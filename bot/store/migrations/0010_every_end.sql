-- Every start has an end: a discussion can be ended (and later started again), and each reading section can carry
-- the day the club means to have read it by.

-- Set by /discuss end; cleared when /discuss start opens the book's discussion again.
ALTER TABLE discussions ADD COLUMN ended_at TEXT;
ALTER TABLE discussions ADD COLUMN ended_by INTEGER;

-- YYYY-MM-DD in the club's time zone, from /discuss start's `dates`; NULL when the section has none.
ALTER TABLE discussion_sections ADD COLUMN target_date TEXT;
