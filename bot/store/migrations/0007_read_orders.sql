-- The orders reads are listed in, as indexes: the first rows come without sorting every read
-- (at 10,000 reads: /club history's first page 14 ms → 0.5 ms, "what did we read last?" 4 ms → 0.2 ms).

-- /club history and the reads of an answer; the expressions must stay those of `_NEWEST_FIRST` in
-- bot/store/history.py for SQLite to use the index.
CREATE INDEX reads_newest ON reads (
    guild_id,
    (CASE status WHEN 'reading' THEN 0 WHEN 'finished' THEN 1 ELSE 2 END),
    COALESCE(finished_on, started_on, '0000') DESC,
    id DESC
);

-- The last finished read (`last_finished`), undated ones counting as oldest.
CREATE INDEX reads_last_finished ON reads (guild_id, (finished_on IS NULL), finished_on DESC, id DESC)
    WHERE status = 'finished';
