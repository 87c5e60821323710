"""Interactions a test member starts: the record of how the bot answered, and command option building."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .model import Channel, Guild, Member, Message, Role, Upload, User

if TYPE_CHECKING:
    from .world import World

# How long a test waits by default for something the bot does: generous, because CI runs the suite on a busy
# two-core machine, and a wait ends as soon as its condition holds.
WAIT_SECONDS = 20.0
PING = 1
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

PONG = 1
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

ALLOWED_CALLBACKS: dict[int, set[int]] = {
    PING: {PONG},
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
    MESSAGE_COMPONENT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE, MODAL},
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE},
}

OPTION_SUB_COMMAND = 1
OPTION_SUB_COMMAND_GROUP = 2
OPTION_STRING = 3
OPTION_INTEGER = 4
OPTION_BOOLEAN = 5
OPTION_USER = 6
OPTION_CHANNEL = 7
OPTION_ROLE = 8
OPTION_MENTIONABLE = 9
OPTION_NUMBER = 10
OPTION_ATTACHMENT = 11


class ActionRefused(Exception):
    """The Discord client would not let the member do this (hidden command, missing permission, bad input)."""


class InteractionTimeout(AssertionError):
    """The bot did not answer in time."""


@dataclass(eq=False)
class Interaction:
    """One interaction and everything the bot did with it: callback, original response, follow-ups."""

    world: World
    id: int
    token: str
    type: int
    payload: dict[str, Any]
    guild: Guild
    channel: Channel
    member: Member
    name: str
    deadline: float
    source_message: Message | None = None
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    response_type: int | None = None
    original_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    answer_ids: list[int] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None

    @property
    def acknowledged(self) -> bool:
        return self.response_type is not None

    @property
    def deferred(self) -> bool:
        return self.response_type in (DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE)

    @property
    def original(self) -> Message | None:
        """The @original message: the response message, or for component updates the message with the component."""
        return None if self.original_id is None else self.world.messages_by_id.get(self.original_id)

    @property
    def followups(self) -> list[Message]:
        return [self.world.messages_by_id[i] for i in self.followup_ids]

    def answers(self) -> list[Message]:
        """Every visible answer so far, in order (a filled deferral counts once)."""
        return [self.world.messages_by_id[i] for i in dict.fromkeys(self.answer_ids)]

    async def wait_acknowledged(self, timeout: float | None = None) -> None:
        wait = self.world.ack_window if timeout is None else timeout
        ok = await self.world.wait_until(lambda: self.acknowledged, wait)
        if not ok:
            raise InteractionTimeout(f"the bot did not acknowledge {self.name!r} within {wait:.1f}s")

    async def reply(self, timeout: float = WAIT_SECONDS) -> Message:
        """The first visible answer, waiting through a deferral for the follow-up or the edited original."""
        await self.wait_acknowledged(timeout)
        if self.response_type == MODAL:
            raise AssertionError(f"the bot answered {self.name!r} with a modal: use ix.modal / double.submit_modal")
        if self.response_type == AUTOCOMPLETE_RESULT:
            raise AssertionError(f"{self.name!r} was an autocomplete: use ix.choices")
        if not await self.world.wait_until(lambda: bool(self.answer_ids), timeout):
            raise InteractionTimeout(f"the bot deferred {self.name!r} but showed no answer within {timeout:.1f}s")
        return self.world.messages_by_id[self.answer_ids[0]]

    async def wait_answers(self, count: int, timeout: float = WAIT_SECONDS) -> list[Message]:
        if not await self.world.wait_until(lambda: len(self.answers()) >= count, timeout):
            raise InteractionTimeout(f"{self.name!r}: expected {count} answers, got {len(self.answers())}")
        return self.answers()

    def _first_answer(self) -> Message:
        if not self.answer_ids:
            raise AssertionError(f"{self.name!r} has no visible answer yet; await ix.reply() first")
        return self.world.messages_by_id[self.answer_ids[0]]

    @property
    def ephemeral(self) -> bool:
        return self._first_answer().ephemeral

    def text(self) -> str:
        """The first answer's text: content, embed titles, descriptions, fields and footers."""
        return self._first_answer().text()

    def __repr__(self) -> str:
        return f"<Interaction {self.name!r} type={self.type} response={self.response_type}>"


@dataclass
class Resolver:
    """Builds the `resolved` block Discord sends with command options and selects."""

    world: World
    guild: Guild
    invoker: Member
    channel_in_use: Channel
    data: dict[str, dict[str, Any]] = field(default_factory=dict)

    def _slot(self, key: str) -> dict[str, Any]:
        return self.data.setdefault(key, {})

    def user(self, target: Member | User) -> str:
        member = target if isinstance(target, Member) else self.guild.members.get(target.id)
        user = target.user if isinstance(target, Member) else target
        self._slot("users")[str(user.id)] = user.payload()
        if member is not None:
            permissions = self.guild.permissions_for(member, self.channel_in_use)
            self._slot("members")[str(user.id)] = member.payload(with_user=False, permissions=permissions)
        return str(user.id)

    def role(self, role: Role) -> str:
        self._slot("roles")[str(role.id)] = role.payload()
        return str(role.id)

    def channel(self, channel: Channel) -> str:
        payload = channel.payload()
        payload["permissions"] = str(self.guild.permissions_for(self.invoker, channel))
        self._slot("channels")[str(channel.id)] = payload
        return str(channel.id)

    def attachment(self, upload: Upload) -> str:
        stored = self.world.store_upload(upload, ephemeral=True)
        self._slot("attachments")[str(stored.id)] = stored.payload()
        return str(stored.id)

    def message(self, message: Message) -> str:
        self._slot("messages")[str(message.id)] = self.world.message_payload(message)
        return str(message.id)


def option_key(name: str) -> str:
    return name.replace("-", "_").lower()


def _choice_value(option: dict[str, Any], value: Any) -> Any:
    choices = option.get("choices")
    if not choices:
        return value
    for choice in choices:
        if value == choice["value"]:
            return value
    for choice in choices:
        if isinstance(value, str) and value.lower() == str(choice["name"]).lower():
            return choice["value"]
    names = [c["name"] for c in choices]
    raise ActionRefused(f"option {option['name']!r} only offers {names}, not {value!r}")


def _check_range(option: dict[str, Any], value: float) -> None:
    low, high = option.get("min_value"), option.get("max_value")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ActionRefused(f"option {option['name']!r} must be between {low} and {high}, not {value}")


def convert_option(option: dict[str, Any], value: Any, resolver: Resolver) -> Any:
    """A Python value as the Discord client would submit it for this option type."""
    kind, name = option["type"], option["name"]
    if kind == OPTION_STRING:
        if not isinstance(value, str):
            raise ActionRefused(f"option {name!r} takes text, not {value!r}")
        low, high = option.get("min_length", 0), option.get("max_length", 6000)
        if not low <= len(value) <= high:
            raise ActionRefused(f"option {name!r} takes {low}–{high} characters, got {len(value)}")
        return _choice_value(option, value)
    if kind == OPTION_INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ActionRefused(f"option {name!r} takes a whole number, not {value!r}")
        _check_range(option, value)
        return _choice_value(option, value)
    if kind == OPTION_NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ActionRefused(f"option {name!r} takes a number, not {value!r}")
        _check_range(option, value)
        return _choice_value(option, value)
    if kind == OPTION_BOOLEAN:
        if not isinstance(value, bool):
            raise ActionRefused(f"option {name!r} takes True/False, not {value!r}")
        return value
    if kind == OPTION_USER and isinstance(value, Member | User):
        return resolver.user(value)
    if kind == OPTION_ROLE and isinstance(value, Role):
        return resolver.role(value)
    if kind == OPTION_MENTIONABLE and isinstance(value, Member | User | Role):
        return resolver.role(value) if isinstance(value, Role) else resolver.user(value)
    if kind == OPTION_CHANNEL and isinstance(value, Channel):
        allowed = option.get("channel_types")
        if allowed and value.type not in allowed:
            raise ActionRefused(f"option {name!r} accepts channel types {allowed}, not #{value.name} ({value.type})")
        return resolver.channel(value)
    if kind == OPTION_ATTACHMENT and isinstance(value, Upload):
        return resolver.attachment(value)
    raise ActionRefused(f"option {name!r} (type {kind}) cannot take {value!r}")


def build_options(
    definitions: list[dict[str, Any]],
    values: dict[str, Any],
    resolver: Resolver,
    *,
    focused: str | None = None,
) -> list[dict[str, Any]]:
    """The `options` array for a leaf command, checking names, required options and types."""
    by_key = {option_key(o["name"]): o for o in definitions}
    unknown = [k for k in values if option_key(k) not in by_key]
    if unknown:
        raise ActionRefused(f"unknown options {unknown}; the command has {[o['name'] for o in definitions]}")
    given = {option_key(k): v for k, v in values.items()}
    if focused is not None and option_key(focused) not in by_key:
        raise ActionRefused(f"cannot focus unknown option {focused!r}")
    built: list[dict[str, Any]] = []
    for option in definitions:
        key = option_key(option["name"])
        is_focused = focused is not None and key == option_key(focused)
        if key not in given:
            if is_focused:
                given[key] = ""
            elif option.get("required") and focused is None:
                raise ActionRefused(f"option {option['name']!r} is required")
            else:
                continue
        if is_focused:
            if not option.get("autocomplete"):
                raise ActionRefused(f"option {option['name']!r} has no autocomplete")
            built.append({"name": option["name"], "type": option["type"], "value": str(given[key]), "focused": True})
            continue
        value = convert_option(option, given[key], resolver)
        built.append({"name": option["name"], "type": option["type"], "value": value})
    return built


def command_options(
    command: dict[str, Any],
    words: list[str],
    values: dict[str, Any],
    resolver: Resolver,
    *,
    focused: str | None = None,
) -> list[dict[str, Any]]:
    """Walk sub-command groups and sub-commands named by `words`, then build the leaf's options."""
    definitions: list[dict[str, Any]] = command.get("options") or []
    if not words:
        if any(o["type"] in (OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP) for o in definitions):
            subs = [o["name"] for o in definitions]
            raise ActionRefused(f"/{command['name']} needs a sub-command: {subs}")
        return build_options(definitions, values, resolver, focused=focused)
    word = words[0]
    for option in definitions:
        if option["name"] == word and option["type"] in (OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP):
            inner = command_options(option, words[1:], values, resolver, focused=focused)
            return [{"name": option["name"], "type": option["type"], "options": inner}]
    raise ActionRefused(f"/{command['name']} has no sub-command {word!r}; it has {[o['name'] for o in definitions]}")


def modal_fields(modal: dict[str, Any]) -> list[tuple[dict[str, Any], str | None]]:
    """Every input of a modal with the label the member sees (from a Label wrapper or the input itself)."""
    found: list[tuple[dict[str, Any], str | None]] = []
    for top in modal.get("components") or []:
        if top.get("type") == 18:
            found.append((top["component"], top.get("label")))
        for child in top.get("components") or []:
            found.append((child, child.get("label")))
    return found


def modal_submission(modal: dict[str, Any], values: dict[str, Any]) -> list[dict[str, Any]]:
    """The components of a modal submit, keyed like the modal, checking required fields and lengths."""
    answered: dict[str, Any] = {}
    wanted = {str(k).lower(): v for k, v in values.items()}
    matched: set[str] = set()
    for component, label in modal_fields(modal):
        custom_id = component.get("custom_id")
        if custom_id is None:
            continue
        for key in (custom_id.lower(), (label or "").lower()):
            if key in wanted:
                answered[custom_id] = wanted[key]
                matched.add(key)
                break
    leftover = set(wanted) - matched
    if leftover:
        labels = [(c.get("custom_id"), label) for c, label in modal_fields(modal)]
        raise ActionRefused(f"modal has no field {sorted(leftover)}; fields (custom_id, label): {labels}")

    def submitted(component: dict[str, Any], label: str | None) -> dict[str, Any]:
        custom_id = str(component.get("custom_id"))
        kind = component.get("type")
        if kind == 4:
            value = str(answered.get(custom_id, component.get("value") or ""))
            low = component.get("min_length") or 0
            high = component.get("max_length") or 4000
            required = component.get("required", True)
            if (required or value) and not low <= len(value) <= high:
                raise ActionRefused(
                    f"modal field {label or custom_id!r} takes {low}–{high} characters, got {len(value)}"
                )
            if required and not value:
                raise ActionRefused(f"modal field {label or custom_id!r} is required")
            return {"type": 4, "custom_id": custom_id, "value": value, "id": component.get("id", 0)}
        chosen = answered.get(custom_id, [])
        return {
            "type": kind,
            "custom_id": custom_id,
            "values": list(chosen) if isinstance(chosen, list | tuple) else [chosen],
            "id": component.get("id", 0),
        }

    rows: list[dict[str, Any]] = []
    for top in modal.get("components") or []:
        if top.get("type") == 18:
            rows.append(
                {"type": 18, "id": top.get("id", 0), "component": submitted(top["component"], top.get("label"))}
            )
        elif top.get("type") == 1:
            rows.append({"type": 1, "components": [submitted(c, c.get("label")) for c in top.get("components") or []]})
        elif top.get("type") == 10:
            rows.append({"type": 10, "id": top.get("id", 0), "content": top.get("content", "")})
    return rows


def find_component(message: Message, wanted: str, kinds: tuple[int, ...]) -> dict[str, Any]:
    """A component of the message by custom_id or label."""
    candidates = [c for c in message.components_flat() if c.get("type") in kinds]
    for component in candidates:
        if wanted in (component.get("custom_id"), component.get("label")):
            return component
    shown = [(c.get("custom_id"), c.get("label")) for c in candidates]
    raise ActionRefused(f"{message!r} has no component {wanted!r}; it has {shown}")
