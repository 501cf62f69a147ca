"""The Discord adapter: ``/mlc`` application commands generated from the command core.

A translator with no business logic: :mod:`.tree` derives the commands from
the catalog, :mod:`.interactions` defers, dispatches and follows up,
:mod:`.embeds` and :mod:`.views` render replies, :mod:`.bot` is the client and
:mod:`.runner` the ``mlc-bot discord`` entry point.
"""

from .embeds import render_embeds

__all__ = ["render_embeds"]
