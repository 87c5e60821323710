"""Discord's published OpenAPI description, held against every request body the bot sends, as Discord's own check.

Discord answers a body that breaks its schema with `400 {"code": 50035, "message": "Invalid Form Body", "errors": …}`
before doing anything; the double does the same from `discord-openapi.json` (a copy of Discord's public
discord-api-spec repository, MIT licence), so a body Discord would refuse fails the tests that send it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .limits import ApiError, FormErrors, Path

SPEC_FILE = FilePath(__file__).with_name("discord-openapi.json")
SPEC_URI = "urn:discord-openapi"
METHODS = ("get", "put", "post", "patch", "delete")
PARAMETER = re.compile(r"^\{[^/}]+\}$")
MAX_VERDICTS = 4096
NAMING = {"const", "title", "description"}

Error = tuple[Path, str, str]  # where in the body, Discord's code, its message


def _relax(spec: dict[str, Any]) -> None:
    """Where the spec is stricter than Discord, in the one place each such rule lives.

    Snowflakes: the spec types them as strings of digits, but Discord (and discord.py, which sends some ids as
    ints, e.g. `allowed_mentions.users` or a select's `default_values`) accepts the same digits as an integer.

    A new role's `permissions`: the spec says integer, Discord documents it as a string (permission bits outgrow
    53-bit JSON numbers) and discord.py's `Guild.create_role` always sends one, `"0"` when none are given.
    """
    schemas = spec["components"]["schemas"]
    schemas["SnowflakeType"] = {
        "type": ["string", "integer"],
        "pattern": r"^(0|[1-9][0-9]*)$",
        "minimum": 0,
        "format": "snowflake",
    }
    schemas["CreateRoleRequest"]["properties"]["permissions"] = {
        "type": ["string", "integer", "null"],
        "pattern": r"^(0|[1-9][0-9]*)$",
        "minimum": 0,
    }


def _simplify_unions(spec: dict[str, Any]) -> None:
    """Unions rewritten to give the same verdicts with less work: they were most of the cost of checking a body.

    A union of constants (the spec's way of naming enum values) becomes an `enum`. A union whose branches each fix
    a different `type` is checked against the one branch the body's `type` names (every other branch refuses that
    `type`), instead of checking each component of a message against every kind of component; a `type` no branch
    names still meets the whole union, and gets its error.
    """
    schemas = spec["components"]["schemas"]

    def tags(branch: dict[str, Any]) -> list[Any] | None:
        ref = branch.get("$ref", "")
        if len(branch) != 1 or not ref.startswith("#/components/schemas/"):
            return None
        tag = schemas[ref.rsplit("/", 1)[1]].get("properties", {}).get("type", {})
        return [tag["const"]] if "const" in tag else tag.get("enum")

    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    for node in list(walk(spec)):
        for keyword in ("oneOf", "anyOf"):
            branches = node.get(keyword)
            if not isinstance(branches, list) or not branches:
                continue
            constants = all(isinstance(b, dict) and "const" in b and not set(b) - NAMING for b in branches)
            if constants and "enum" not in node:
                node["enum"] = [branch["const"] for branch in node.pop(keyword)]
                continue
            if len(branches) < 2:
                continue
            found = [tags(branch) for branch in branches]
            values = [value for tag in found for value in (tag or [None])]
            if None in values or len(values) != len(set(map(json.dumps, values))):
                continue
            chain: dict[str, Any] = {keyword: node.pop(keyword)}
            for branch, tag in reversed(list(zip(branches, found, strict=True))):
                named = {"type": "object", "properties": {"type": {"enum": tag}}, "required": ["type"]}
                chain = {"if": named, "then": branch, "else": chain}
            node["allOf"] = [*node.get("allOf", []), chain]


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    segments: tuple[str | None, ...]  # a literal segment, or None for a `{parameter}`
    pointer: str  # JSON pointer to the body schema inside the spec

    def matches(self, parts: list[str]) -> bool:
        if len(parts) != len(self.segments):
            return False
        return all(s is None or s == p for s, p in zip(self.segments, parts, strict=True))

    @property
    def specificity(self) -> tuple[bool, ...]:
        # `/users/@me` wins over `/users/{user_id}`: compare segment by segment, literals first.
        return tuple(s is None for s in self.segments)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class RequestSchemas:
    """The spec's request-body schemas by method and path template, each compiled on first use."""

    def __init__(self, spec: dict[str, Any]) -> None:
        _relax(spec)
        _simplify_unions(spec)
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource).crawl()
        self.operations: dict[str, list[Operation]] = {}
        for template, item in spec["paths"].items():
            segments = tuple(None if PARAMETER.match(s) else s for s in template.strip("/").split("/"))
            for method in METHODS:
                body = item.get(method, {}).get("requestBody")
                if body is None:
                    continue
                content = tuple(body["content"])
                # A JSON body, or the `payload_json` of a multipart one, is checked against the JSON schema when
                # there is one; the multipart schema only adds the optional `files[n]` parts.
                kind = "application/json" if "application/json" in content else content[0]
                pointer = "/".join(("", "paths", _escape(template), method, "requestBody", "content", _escape(kind)))
                operation = Operation(method, template, segments, pointer + "/schema")
                self.operations.setdefault(method, []).append(operation)
        self._validators: dict[str, Draft202012Validator] = {}
        self._verdicts: dict[tuple[str, str], tuple[Error, ...]] = {}

    def operation(self, method: str, path: str) -> Operation | None:
        """The spec's operation for a request path without the `/api/v10` prefix, or None if it takes no body."""
        parts = path.strip("/").split("/")
        found = [o for o in self.operations.get(method.lower(), []) if o.matches(parts)]
        return min(found, key=lambda o: o.specificity, default=None)

    def validator(self, operation: Operation) -> Draft202012Validator:
        validator = self._validators.get(operation.pointer)
        if validator is None:
            schema = {"$ref": f"{SPEC_URI}#{operation.pointer}"}
            validator = Draft202012Validator(schema, registry=self.registry)
            self._validators[operation.pointer] = validator
        return validator

    def check(self, method: str, path: str, body: Any) -> ApiError | None:
        """Discord's `Invalid Form Body` answer to this body, or None when the spec accepts it (or has no schema).

        A request without a body is left alone: discord.py sends none where Discord needs none.
        """
        if body is None:
            return None
        operation = self.operation(method, path)
        if operation is None:
            return None
        # A bot sends the same bodies again and again (its command list at every start, the same answers), and the
        # verdict on a body never changes: judging a command list takes a tenth of a second, looking it up does not.
        key = (operation.pointer, json.dumps(body, sort_keys=True))
        found = self._verdicts.get(key)
        if found is None:
            if len(self._verdicts) >= MAX_VERDICTS:
                self._verdicts.clear()
            found = self._verdicts[key] = tuple(self._judge(operation, body))
        errors = FormErrors()
        errors.items = list(found)
        try:
            errors.raise_if_any()
        except ApiError as refused:
            return refused
        return None

    def _judge(self, operation: Operation, body: Any) -> Iterator[Error]:
        for error in self.validator(operation).iter_errors(body):
            for leaf in _leaves(error):
                yield (tuple(leaf.absolute_path), *_discord_error(leaf))


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """The errors worth reporting: inside a union, those of the branch the body meant (by its type or `type`)."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        yield error
        return
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    meant = [errors for errors in branches.values() if not any(_rules_out(e, error) for e in errors)]
    if len(meant) != 1:
        yield error
        return
    for sub in meant[0]:
        yield from _leaves(sub)


def _rules_out(sub: ValidationError, union: ValidationError) -> bool:
    """Whether this branch error says the body is another kind of thing (another JSON type, another `type` tag)."""
    depth = len(sub.absolute_path) - len(union.absolute_path)
    if depth == 0 and sub.validator == "type":
        return True
    tag = depth == 1 and sub.absolute_path[-1] == "type"
    return tag and sub.validator in ("enum", "const", "type")


TYPE_NAMES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "array": "list",
              "object": "dict", "null": "None"}


def _choices(values: Iterable[Any]) -> str:
    return "{" + ", ".join(json.dumps(v) for v in values) + "}"


def _discord_error(error: ValidationError) -> tuple[str, str]:
    """Discord's error code and message for one failed keyword (its wording where known)."""
    kind = error.validator
    limit: Any = error.validator_value
    if kind == "required":
        return "BASE_TYPE_REQUIRED", "This field is required"
    if kind in ("maxLength", "maxItems"):
        return "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."
    if kind in ("minLength", "minItems"):
        return "BASE_TYPE_MIN_LENGTH", f"Must be {limit} or more in length."
    if kind == "enum":
        return "BASE_TYPE_CHOICES", f"Value must be one of {_choices(limit)}."
    if kind == "const":
        return "BASE_TYPE_CHOICES", f"Value must be one of {_choices([limit])}."
    if kind == "maximum":
        return "NUMBER_TYPE_MAX", f"int value should be less than or equal to {limit}."
    if kind == "minimum":
        return "NUMBER_TYPE_MIN", f"int value should be greater than or equal to {limit}."
    if kind == "pattern":
        return "STRING_TYPE_REGEX", f"String value did not match validation regex {limit!r}."
    if kind == "type":
        wanted = [limit] if isinstance(limit, str) else list(limit)
        names = " or ".join(TYPE_NAMES.get(w, w) for w in wanted if w != "null")
        return "BASE_TYPE_CONVERT", f"Value {json.dumps(error.instance)[:50]} is not {names}."
    if kind in ("oneOf", "anyOf"):
        return "UNION_TYPE_CHOICES", "Value matches none of the allowed forms."
    return "BASE_TYPE_INVALID", error.message


@functools.cache
def request_schemas() -> RequestSchemas:
    """The spec loaded and indexed once per process: it is over a megabyte."""
    return RequestSchemas(json.loads(SPEC_FILE.read_text(encoding="utf-8")))
