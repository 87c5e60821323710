"""/ask about meetings ("when is the next meeting?", "what do we discuss on Thursday?"), answered from the
guild's scheduled meetings before any other asker sees the question."""

from __future__ import annotations

from bot.domain.meeting_answers import MeetingFacts, answer_meeting, meeting_question
from bot.domain.meetings import local_time
from bot.services.asker import Answer, Asker, Question
from bot.store.meetings import MeetingRepository


class MeetingAsker:
    """Answers meeting questions itself and hands every other question to `inner`."""

    def __init__(self, inner: Asker, meetings: MeetingRepository) -> None:
        self.inner = inner
        self.meetings = meetings

    async def answer(self, question: Question) -> Answer:
        asked = meeting_question(question.text, question.today)
        if asked is None:
            return await self.inner.answer(question)
        facts = [
            MeetingFacts(
                starts_at=local_time(meeting.starts_at, meeting.timezone),
                where=f"<#{meeting.channel_id}>" if meeting.channel_id is not None else meeting.location or "?",
                book=meeting.book.label if meeting.book is not None else None,
                section=meeting.section,
            )
            for meeting in await self.meetings.scheduled(question.guild_id)
        ]
        return Answer(answer_meeting(asked, facts), "offline")
