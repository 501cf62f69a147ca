"""Live alerts, as the core sees them: rules, events, claims, and what an alert says.

- ``model``: rules, events and posted alerts; which rule an event matches.
- ``store``: the ports the application implements (rules, secrets, the alert outbox,
  refreshing a posted message).
- ``inbox``: verifying and accepting a signed webhook delivery.
- ``content``: an alert, a claimed alert and an SLA reminder as replies.
- ``service``: what the ``alerts`` commands do, including the webhook subscription the
  first rule provisions.

Receiving deliveries over HTTP is an adapter's job (``adapters/webhooks``); keeping the
outbox, posting and reminding exactly once is the application's (``bot/alerts``).
"""
