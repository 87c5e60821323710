-- /club history's order as an index: its first page no longer sorts every read (14 ms → under 1 ms at 10,000 reads).

-- The expressions must stay those of `_NEWEST_FIRST` in bot/store/history.py for SQLite to use the index.
CREATE INDEX reads_newest ON reads (
    guild_id,
    (CASE status WHEN 'reading' THEN 0 WHEN 'finished' THEN 1 ELSE 2 END),
    COALESCE(finished_on, started_on, '0000') DESC,
    id DESC
);
