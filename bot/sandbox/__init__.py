"""A strict, faithful emulator of the MyLiveChat REST API v1 for demos and tests.

Start it with `async with SandboxServer() as sbx:` and point the client at `sbx.url` with one
of `sbx.tokens`; see `bot.sandbox.app` for the order in which requests are checked.
"""

from bot.sandbox.app import RecordedRequest
from bot.sandbox.server import SandboxServer, SandboxTokens, serve_forever

__all__ = ["RecordedRequest", "SandboxServer", "SandboxTokens", "serve_forever"]
