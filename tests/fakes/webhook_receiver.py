"""A local receiver of MyLiveChat webhook deliveries that verifies them as a user's would."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web

__all__ = ["Delivery", "WebhookReceiver"]


@dataclass(frozen=True, slots=True)
class Delivery:
    body: bytes
    headers: dict[str, str]
    verified: bool

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """Answers ``ok_status`` to a delivery signed with ``secret`` and stamped, else 401."""

    def __init__(self, *, path: str = "/hook", ok_status: int = 200) -> None:
        self.path = path
        self.ok_status = ok_status
        self.secret = ""
        self.url = ""
        self.deliveries: list[Delivery] = []
        self._runner: web.AppRunner | None = None

    @property
    def accepted(self) -> list[Any]:
        """The JSON bodies of the deliveries that verified."""
        return [d.json() for d in self.deliveries if d.verified]

    def verifies(self, body: bytes, signature: str) -> bool:
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature, expected)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        stamped = bool(request.headers.get("X-MLC-Timestamp"))
        verified = stamped and self.verifies(body, request.headers.get("X-MLC-Signature", ""))
        self.deliveries.append(Delivery(body, dict(request.headers), verified))
        return web.Response(status=self.ok_status if verified else 401)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(self.path, self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}{self.path}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
