"""Scheduled digests, as the core sees them: when they run, what they say, and the store.

- ``schedule``: parsing ``--at``/``--tz``/``--days``; runs in a zone; catch-up maths.
- ``content``: the usage and feedback digests as neutral replies.
- ``store``: the subscriptions the core reads and writes (a port: ``bot.storage`` keeps them).
- ``service``: what the ``digest`` commands do, on that store.

Posting them on time, exactly once, is the application's job (``bot.scheduler``).
"""
