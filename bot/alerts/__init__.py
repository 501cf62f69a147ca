"""Live alerts, the application's part: the core's alert ports on the bot's database, the
encrypted webhook secret, and the worker that posts each event once and reminds on time.

- ``tables``: the rule and alert stores (``commands.alerts.store``) on ``DATABASE_URL``.
- ``secrets``: the webhook secret, encrypted with ``MLC_BOT_SECRET_KEY`` (Fernet).
- ``messages``: posting, updating and answering alert messages through the posters.
- ``worker``: the outbox drained into alerts, posted exactly once; SLA reminders.
"""
