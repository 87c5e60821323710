"""Discord's payload limits and its error shapes, so the double refuses what Discord would refuse."""

from __future__ import annotations

from typing import Any

Path = tuple[str | int, ...]


class ApiError(Exception):
    """An answer Discord gives instead of doing the request."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.body: dict[str, Any] = {"message": message, "code": code}
        if errors:
            self.body["errors"] = errors


def missing_access() -> ApiError:
    return ApiError(403, 50001, "Missing Access")


def missing_permissions() -> ApiError:
    return ApiError(403, 50013, "Missing Permissions")


def unknown(what: str, code: int) -> ApiError:
    return ApiError(404, code, f"Unknown {what}")


UNKNOWN_CHANNEL = 10003
UNKNOWN_GUILD = 10004
UNKNOWN_MEMBER = 10007
UNKNOWN_MESSAGE = 10008
UNKNOWN_ROLE = 10011
UNKNOWN_USER = 10013
UNKNOWN_EMOJI = 10014
UNKNOWN_WEBHOOK = 10015
UNKNOWN_COMMAND = 10063
UNKNOWN_INTERACTION = 10062


class FormErrors:
    """Collects field errors and renders Discord's nested `Invalid Form Body` answer."""

    def __init__(self) -> None:
        self.items: list[tuple[Path, str, str]] = []

    def add(self, path: Path, code: str, message: str) -> None:
        self.items.append((path, code, message))

    def max_length(self, path: Path, value: Any, limit: int) -> None:
        if value is not None and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def length_between(self, path: Path, value: Any, low: int, high: int) -> None:
        size = 0 if value is None else len(value)
        if not low <= size <= high:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    def required(self, path: Path, value: Any) -> bool:
        if value in (None, ""):
            self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
            return False
        return True

    def raise_if_any(self) -> None:
        if not self.items:
            return
        tree: dict[str, Any] = {}
        for path, code, message in self.items:
            node = tree
            for key in path:
                node = node.setdefault(str(key), {})
            node.setdefault("_errors", []).append({"code": code, "message": message})
        raise ApiError(400, 50035, "Invalid Form Body", tree)


def check_embeds(errors: FormErrors, embeds: Any, prefix: Path = ()) -> None:
    if not isinstance(embeds, list):
        return
    errors.max_length((*prefix, "embeds"), embeds, 10)
    total = 0
    for index, embed in enumerate(embeds):
        at = (*prefix, "embeds", index)
        title, description = embed.get("title"), embed.get("description")
        errors.max_length((*at, "title"), title, 256)
        errors.max_length((*at, "description"), description, 4096)
        fields = embed.get("fields") or []
        errors.max_length((*at, "fields"), fields, 25)
        total += len(title or "") + len(description or "")
        for number, embed_field in enumerate(fields):
            where = (*at, "fields", number)
            name, value = embed_field.get("name"), embed_field.get("value")
            if errors.required((*where, "name"), name):
                errors.max_length((*where, "name"), name, 256)
            if errors.required((*where, "value"), value):
                errors.max_length((*where, "value"), value, 1024)
            total += len(name or "") + len(value or "")
        footer = (embed.get("footer") or {}).get("text")
        author = (embed.get("author") or {}).get("name")
        errors.max_length((*at, "footer", "text"), footer, 2048)
        errors.max_length((*at, "author", "name"), author, 256)
        total += len(footer or "") + len(author or "")
    if total > 6000:
        errors.add((*prefix, "embeds"), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def check_poll(errors: FormErrors, poll: Any, prefix: Path = ()) -> None:
    if not isinstance(poll, dict):
        return
    at = (*prefix, "poll")
    question = (poll.get("question") or {}).get("text")
    if errors.required((*at, "question", "text"), question):
        errors.max_length((*at, "question", "text"), question, 300)
    answers = poll.get("answers") or []
    errors.length_between((*at, "answers"), answers, 1, 10)
    for index, answer in enumerate(answers):
        text = (answer.get("poll_media") or {}).get("text")
        where = (*at, "answers", index, "poll_media", "text")
        if errors.required(where, text):
            errors.max_length(where, text, 55)
    duration = poll.get("duration", 24)
    if not isinstance(duration, int | float) or not 1 <= duration <= 768:
        errors.add((*at, "duration"), "NUMBER_TYPE_MAX", "int value should be between 1 and 768.")


def check_components(errors: FormErrors, components: Any, prefix: Path = ()) -> None:
    if not isinstance(components, list):
        return
    at = (*prefix, "components")
    seen: set[str] = set()
    if all(c.get("type") == 1 for c in components):
        errors.max_length(at, components, 5)
    for row_index, row in enumerate(components):
        children = row.get("components") or []
        if row.get("type") == 1:
            buttons = [c for c in children if c.get("type") == 2]
            errors.max_length((*at, row_index, "components"), buttons, 5)
            if len(children) > 1 and len(buttons) != len(children):
                errors.add(
                    (*at, row_index, "components"),
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "The specified component exceeds the maximum width",
                )
        for child_index, child in enumerate(children):
            where = (*at, row_index, "components", child_index)
            custom_id = child.get("custom_id")
            errors.max_length((*where, "custom_id"), custom_id, 100)
            if custom_id is not None:
                if custom_id in seen:
                    errors.add(
                        (*where, "custom_id"),
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    )
                seen.add(custom_id)
            errors.max_length((*where, "label"), child.get("label"), 80)
            errors.max_length((*where, "placeholder"), child.get("placeholder"), 150)
            if child.get("type") == 3:
                options = child.get("options") or []
                errors.length_between((*where, "options"), options, 1, 25)
                for number, option in enumerate(options):
                    errors.max_length((*where, "options", number, "label"), option.get("label"), 100)
                    errors.max_length((*where, "options", number, "value"), option.get("value"), 100)
                    errors.max_length((*where, "options", number, "description"), option.get("description"), 100)


def check_allowed_mentions(errors: FormErrors, allowed: Any, prefix: Path = ()) -> None:
    if not isinstance(allowed, dict):
        return
    parse = allowed.get("parse") or []
    for kind in ("users", "roles"):
        if kind in parse and allowed.get(kind):
            errors.add(
                (*prefix, "allowed_mentions"),
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )


def check_message(body: dict[str, Any], *, file_count: int, editing: bool = False, prefix: Path = ()) -> None:
    """Raise the error Discord answers for a message body that breaks its limits."""
    errors = FormErrors()
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        errors.add((*prefix, "content"), "BASE_TYPE_STRING", "Must be a string.")
    else:
        errors.max_length((*prefix, "content"), content, 2000)
    check_embeds(errors, body.get("embeds"), prefix)
    check_poll(errors, body.get("poll"), prefix)
    check_components(errors, body.get("components"), prefix)
    check_allowed_mentions(errors, body.get("allowed_mentions"), prefix)
    errors.raise_if_any()
    has_something = (
        content
        or body.get("embeds")
        or file_count
        or body.get("components")
        or body.get("poll")
        or body.get("sticker_ids")
    )
    if not editing and not has_something:
        raise ApiError(400, 50006, "Cannot send an empty message")


def check_modal(data: dict[str, Any]) -> None:
    errors = FormErrors()
    at: Path = ("data",)
    if errors.required((*at, "title"), data.get("title")):
        errors.max_length((*at, "title"), data.get("title"), 45)
    if errors.required((*at, "custom_id"), data.get("custom_id")):
        errors.max_length((*at, "custom_id"), data.get("custom_id"), 100)
    top = data.get("components") or []
    errors.length_between((*at, "components"), top, 1, 5)
    for index, component in enumerate(top):
        inner = component.get("components") or ([component["component"]] if "component" in component else [])
        errors.max_length((*at, "components", index, "label"), component.get("label"), 45)
        for child_index, child in enumerate(inner):
            where = (*at, "components", index, "components", child_index)
            if child.get("type") != 4:
                continue
            errors.max_length((*where, "label"), child.get("label"), 45)
            errors.max_length((*where, "placeholder"), child.get("placeholder"), 100)
            errors.max_length((*where, "value"), child.get("value"), 4000)
            for key, low in (("min_length", 0), ("max_length", 1)):
                limit = child.get(key)
                if limit is not None and not low <= limit <= 4000:
                    errors.add((*where, key), "NUMBER_TYPE_MAX", f"int value should be between {low} and 4000.")
    errors.raise_if_any()


def check_choices(data: dict[str, Any]) -> None:
    errors = FormErrors()
    choices = data.get("choices") or []
    errors.max_length(("data", "choices"), choices, 25)
    for index, choice in enumerate(choices):
        errors.length_between(("data", "choices", index, "name"), choice.get("name"), 1, 100)
        if isinstance(choice.get("value"), str):
            errors.max_length(("data", "choices", index, "value"), choice["value"], 100)
    errors.raise_if_any()


def check_thread_name(name: Any) -> None:
    errors = FormErrors()
    if errors.required(("name",), name):
        errors.length_between(("name",), name, 1, 100)
    errors.raise_if_any()


def check_webhook_name(name: Any, field_name: str = "name") -> None:
    errors = FormErrors()
    if name is None:
        return
    errors.length_between((field_name,), name, 1, 80)
    lowered = str(name).lower()
    for banned in ("clyde", "discord"):
        if banned in lowered:
            errors.add((field_name,), "USERNAME_INVALID_CONTAINS", f'Username cannot contain "{banned}"')
    errors.raise_if_any()
