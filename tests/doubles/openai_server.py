"""A loopback OpenAI-compatible chat-completions server: scripted replies, tool calls, and fault switches."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.doubles._server import LoopbackServer

Reply = dict[str, Any]
Responder = Callable[[dict[str, Any]], Reply]

_ids = itertools.count(1)


def _completion(message: dict[str, Any], finish_reason: str, model: str) -> Reply:
    return {
        "id": f"chatcmpl-{next(_ids)}",
        "object": "chat.completion",
        "created": 1_767_225_600,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def text(content: str) -> Responder:
    """Answer with this text."""
    return lambda request: _completion({"role": "assistant", "content": content}, "stop", request["model"])


def tool_call(name: str, arguments: dict[str, Any] | str) -> Responder:
    """Ask for one tool call; `arguments` as a dict, or raw text to send broken JSON."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    call = {"id": f"call_{next(_ids)}", "type": "function", "function": {"name": name, "arguments": raw}}
    return lambda request: _completion({"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls",
                                       request["model"])


def tool_results(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool results the bot sent back, decoded."""
    return [json.loads(message["content"]) for message in request["messages"] if message.get("role") == "tool"]


def summarise_tool_results(request: dict[str, Any]) -> Reply:
    """A model that answers with the titles its tool calls returned, as a real one would summarise them."""
    titles: list[str] = []
    for result in tool_results(request):
        for book in result.get("books", []):
            titles.append(f"{book['title']} ({book['average_stars']}★)")
    content = "From the club's records: " + ", ".join(titles) if titles else "The records show nothing."
    return _completion({"role": "assistant", "content": content}, "stop", request["model"])


@dataclass
class FakeOpenAI(LoopbackServer):
    """Serves POST /v1/chat/completions; each request takes the next scripted responder (the last one repeats)."""

    script: list[Responder] = field(default_factory=list)
    completions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._chat)

    def answer_with(self, *responders: Responder) -> None:
        self.script = list(responders)

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        if not isinstance(body.get("messages"), list) or not body.get("model"):
            return web.json_response({"error": {"message": "messages and model are required"}}, status=400)
        self.completions.append(body)
        responder = self.script.pop(0) if len(self.script) > 1 else (self.script[0] if self.script else None)
        reply = responder(body) if responder else text("I have nothing to say.")(body)
        return web.json_response(reply)
