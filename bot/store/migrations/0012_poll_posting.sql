-- Crash recovery by message ids: before the bot posts a poll or its result it records a Discord id that the post's
-- own id will exceed, so a re-run after a crash looks for its post after that id instead of matching text.

-- Set just before the poll message is posted; its message_id follows once Discord has taken it.
ALTER TABLE polls ADD COLUMN message_after INTEGER;
-- Set (with announcement_channel_id) just before the result is posted; announcement_message_id follows.
ALTER TABLE polls ADD COLUMN announcement_after INTEGER;
