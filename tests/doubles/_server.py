"""A small aiohttp server on 127.0.0.1 with the fault switches both doubles share: an error status, a delay, garbage."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web


@dataclass
class Faults:
    """What the next answers do wrong: `status` (e.g. 500), `delay` seconds first, or a body that is not JSON."""

    status: int | None = None
    delay: float = 0.0
    garbage: bool = False
    times: int | None = None

    def clear(self) -> None:
        self.status, self.delay, self.garbage, self.times = None, 0.0, False, None


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any = None


@dataclass
class LoopbackServer:
    """Start, stop and fault injection; subclasses add routes in `routes`."""

    faults: Faults = field(default_factory=Faults)
    requests: list[Recorded] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _port: int = 0

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    @property
    def origin(self) -> str:
        if not self._port:
            raise RuntimeError("the server is not started")
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> Self:
        app = web.Application(middlewares=[self._faulty])
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def fail(self, *, status: int | None = None, delay: float = 0.0, garbage: bool = False,
             times: int | None = None) -> None:
        """Break the next `times` answers (all of them when None) until `heal()`."""
        self.faults = Faults(status=status, delay=delay, garbage=garbage, times=times)

    def heal(self) -> None:
        self.faults.clear()

    @web.middleware
    async def _faulty(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body: Any = await request.text() if request.can_read_body else None
        with contextlib.suppress(TypeError, ValueError):
            body = json.loads(body)
        self.requests.append(Recorded(request.method, request.path, dict(request.query), body))
        faults = self.faults
        if faults.times is not None:
            if faults.times <= 0:
                faults.clear()
            else:
                faults.times -= 1
        if faults.delay:
            await asyncio.sleep(faults.delay)
        if faults.status is not None:
            return web.json_response({"error": {"message": "injected failure", "type": "server_error"}},
                                     status=faults.status)
        if faults.garbage:
            return web.Response(body=b"<html>not json{", content_type="application/json")
        return await handler(request)
