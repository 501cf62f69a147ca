"""Scheduled digests: when they run, what they say, and posting them exactly once.

Modules, each with one job (import what you use; nothing heavy is imported here):

- ``schedule``: parsing ``--at``/``--tz``/``--days``; runs in a zone; catch-up maths.
- ``content``: the usage and feedback digests as neutral replies.
- ``posting``: the ``Poster`` interface, ``ChannelRef``, ``ChannelGone``, the console poster.
- ``delivery``: one period of one subscription: claim, build, post, record.
- ``digest_scheduler``: APScheduler jobs rebuilt from the database, catch-up at start.
- ``service``: what the ``digest`` commands call (``ctx.services["digests"]``).
- ``runner``: ``mlc-bot scheduler``; ``demo``: the scheduler inside ``mlc-bot demo``.
"""
