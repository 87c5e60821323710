"""The double refuses a request body that breaks Discord's published schema, as Discord does, and records it."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.discord_double import DiscordDouble
from tests.discord_double.schema import SPEC_FILE, SPEC_URI, _relax, request_schemas


async def send(double: DiscordDouble, method: str, path: str, body: Any, *, multipart: bool = False
               ) -> tuple[int, Any]:
    """A raw request as a bot would make it; multipart puts the body in `payload_json` beside a file."""
    headers = {"Authorization": f"Bot {double.token}"}
    async with aiohttp.ClientSession() as session:
        if multipart:
            form = aiohttp.FormData()
            form.add_field("payload_json", json.dumps(body), content_type="application/json")
            form.add_field("files[0]", b"title,author\n", filename="club.csv", content_type="text/csv")
            request = session.request(method, double.api_base + path, data=form, headers=headers)
        else:
            request = session.request(method, double.api_base + path, json=body, headers=headers)
        async with request as response:
            return response.status, await response.json() if response.status != 204 else None


def messages_path(double: DiscordDouble) -> str:
    return f"/channels/{double.guild_a.channel('general').id}/messages"


def row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(components)}


def button(custom_id: str, style: int = 1) -> dict[str, Any]:
    return {"type": 2, "style": style, "label": custom_id, "custom_id": custom_id}


async def test_a_valid_message_is_posted(double: DiscordDouble) -> None:
    body = {
        "content": "Next meeting on Friday",
        "embeds": [{"title": "The Remains of the Day", "fields": [{"name": "Author", "value": "Ishiguro"}]}],
        "components": [row(button("join"), button("skip", style=2))],
        "allowed_mentions": {"parse": []},
    }
    status, answer = await send(double, "POST", messages_path(double), body)
    assert status == 200, answer
    assert [m.content for m in double.messages(double.guild_a.channel("general"))] == ["Next meeting on Friday"]
    assert double.invalid_bodies == []


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        ({"content": 42}, ["content"], "Value 42 is not str."),
        ({"embeds": [{"title": "t" * 257}]}, ["embeds", "0", "title"], "Must be 256 or fewer in length."),
        ({"components": [row(button("go", style=9))]}, ["components", "0", "components", "0", "style"],
         "Value must be one of {1, 2, 3, 4, 5, 6}."),
        ({"components": [row(*(button(f"b{i}") for i in range(6)))]}, ["components", "0", "components"],
         "Must be 5 or fewer in length."),
        ({"allowed_mentions": {"parse": ["everybody"]}}, ["allowed_mentions", "parse", "0"],
         'Value must be one of {"users", "roles", "everyone"}.'),
        ({"content": "hi", "message_reference": {"message_id": "first"}}, ["message_reference", "message_id"],
         "String value did not match validation regex '^(0|[1-9][0-9]*)$'."),
    ],
    ids=["content-number", "embed-title-too-long", "unknown-button-style", "six-buttons-in-a-row",
         "unknown-mention-kind", "snowflake-not-digits"],
)
@pytest.mark.parametrize("multipart", [False, True], ids=["json", "payload_json"])
async def test_a_body_breaking_the_schema_gets_invalid_form_body(
    double: DiscordDouble, body: dict[str, Any], where: list[str], message: str, multipart: bool
) -> None:
    status, answer = await send(double, "POST", messages_path(double), body, multipart=multipart)
    assert (status, answer["code"], answer["message"]) == (400, 50035, "Invalid Form Body")
    node = answer["errors"]
    for key in where:
        node = node[key]
    assert [e["message"] for e in node["_errors"]] == [message]
    assert double.messages(double.guild_a.channel("general")) == []
    assert len(double.invalid_bodies) == 1
    assert double.invalid_bodies[0].startswith(f"POST {messages_path(double)}: ")


@pytest.mark.parametrize("user_id", [123456789012345678, "123456789012345678"], ids=["integer", "string"])
async def test_a_snowflake_may_be_an_integer_or_a_string(double: DiscordDouble, user_id: int | str) -> None:
    body = {"content": "hello", "allowed_mentions": {"parse": [], "users": [user_id]}}
    status, answer = await send(double, "POST", messages_path(double), body)
    assert status == 200, answer
    assert double.invalid_bodies == []


async def test_every_error_of_a_body_is_reported_at_its_path(double: DiscordDouble) -> None:
    g = double.guild_a
    commands = [{"name": "club", "description": "d" * 101, "options": [{"type": 99, "name": "x", "description": "y"}]}]
    status, answer = await send(double, "PUT", f"/applications/{double.application_id}/guilds/{g.id}/commands",
                                commands)
    assert status == 400
    assert answer["errors"]["0"]["description"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert answer["errors"]["0"]["options"]["0"]["_errors"][0]["code"] == "UNION_TYPE_CHOICES"
    assert double.guild_commands.get(g.id, []) == []


def test_a_literal_path_segment_wins_over_a_parameter() -> None:
    schemas = request_schemas()
    found = schemas.operation("PATCH", "/users/@me")
    assert found is not None and found.template == "/users/@me"
    found = schemas.operation("POST", "/channels/1/messages/bulk-delete")
    assert found is not None and found.template == "/channels/{channel_id}/messages/bulk-delete"
    assert schemas.operation("GET", "/channels/1/messages") is None


ANSWERS = [
    {"type": 4, "data": {"content": "Saved.", "flags": 64, "allowed_mentions": {"parse": []},
                         "components": [row(button("edit"), button("delete", style=4))]}},
    {"type": 4, "data": {"components": [row(button("go", style=9))]}},
    {"type": 4, "data": {"components": [{"type": 77}]}},
    {"type": 4, "data": {"allowed_mentions": {"parse": ["everybody"]}}},
    {"type": 7, "data": {"components": [
        row({"type": 3, "custom_id": "pick", "options": [{"label": "a", "value": "a"}]})]}},
    {"type": 9, "data": {"custom_id": "m", "title": "Review", "components": [
        {"type": 18, "label": "Title", "component": {"type": 4, "custom_id": "t", "style": 1}}]}},
    {"type": 9, "data": {"custom_id": "m", "title": "Review", "components": [
        {"type": 18, "label": "Title", "component": {"type": 4, "custom_id": "t", "style": 3}}]}},
    {"type": 8, "data": {"choices": [{"name": "Ishiguro", "value": "Ishiguro"}]}},
    {"type": 8, "data": {"choices": [{"name": "", "value": "x"}]}},
    {"type": 1},
    {"type": 99},
]


@pytest.mark.parametrize("answer", ANSWERS)
def test_simplified_unions_give_the_spec_s_own_verdict(answer: dict[str, Any]) -> None:
    spec = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    _relax(spec)
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012))
    schemas = request_schemas()
    operation = schemas.operation("POST", "/interactions/1/token/callback")
    assert operation is not None
    plain = Draft202012Validator({"$ref": f"{SPEC_URI}#{operation.pointer}"}, registry=registry)
    assert schemas.validator(operation).is_valid(answer) == plain.is_valid(answer)


@pytest.mark.parametrize(("permissions", "refused"), [("0", False), ("1024", False), (1024, False), ("all", True)])
def test_a_new_roles_permissions_may_be_a_string_of_digits(permissions: object, refused: bool) -> None:
    """discord.py's `Guild.create_role` sends the bits as a string, as Discord documents; the spec says integer."""
    body = {"name": "Meeting reminders", "permissions": permissions}
    error = request_schemas().check("POST", "/guilds/1/roles", body)
    assert (error is not None) == refused


async def test_a_double_told_not_to_check_bodies_takes_any_body(double: DiscordDouble) -> None:
    """What benchmarks use, so that the check's cost is not counted against one bot only."""
    body = {"content": "hello", "allowed_mentions": {"parse": ["everybody"]}}
    status, _ = await send(double, "POST", messages_path(double), body)
    assert status == 400
    double.invalid_bodies.clear()
    double.check_bodies = False
    status, _ = await send(double, "POST", messages_path(double), body)
    assert status == 200 and double.invalid_bodies == []
