"""``mlc-bot exec "<command>"``: one command against MLC_API_URL with MLC_API_TOKEN."""

from __future__ import annotations

from adapters.console.exec import run_once

from ..compose import build_core
from ..config import Settings

__all__ = ["run_exec"]


async def run_exec(settings: Settings, text: str, *, as_json: bool = False) -> int:
    """Run ``text``, print the reply; exit status 0 done, 1 refused, 2 not understood.

    With ``as_json`` the reply is one JSON object on stdout, failures included. A missing
    token raises :class:`bot.config.ConfigError` (the CLI prints it, as JSON too with
    ``--json``; status 2).
    """
    core = build_core(settings)
    try:
        return await run_once(core, text, as_json=as_json)
    finally:
        await core.aclose()
