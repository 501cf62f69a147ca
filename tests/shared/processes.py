"""Real ``mlc-bot`` processes for the shared-store tests, each with its log in a file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tests.processes import MLC_BOT, ServingProcess

__all__ = ["MLC_BOT", "BotProcess"]


class BotProcess(ServingProcess):
    """``mlc-bot <args>`` serving ``/healthz`` on ``PORT`` once started."""

    name = "mlc-bot"

    def __init__(self, args: list[str], env: Mapping[str, str], log_path: Path) -> None:
        super().__init__([str(MLC_BOT), *args], env, log_path, cwd=log_path.parent)
        self.args = args
