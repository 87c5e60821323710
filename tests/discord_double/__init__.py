"""A loopback Discord for end-to-end tests: the real discord.py client talks to it; tests act as members."""

from .double import DiscordDouble, Fault, Hold, RecordedRequest
from .interactions import ActionRefused, Interaction, InteractionTimeout
from .model import Channel, Guild, Member, Message, Role, Thread, Upload, User
from .world import Ping

__all__ = [
    "ActionRefused",
    "Channel",
    "DiscordDouble",
    "Fault",
    "Guild",
    "Hold",
    "Interaction",
    "InteractionTimeout",
    "Member",
    "Message",
    "Ping",
    "RecordedRequest",
    "Role",
    "Thread",
    "Upload",
    "User",
]
