"""New handoff and feedback rows for the events the sandbox emits, made up like the seed data.

A row is added to the site's state before its event is delivered, so the `handoffs`,
`feedback` and `transcripts` resources list what the receiver was told about. Everything comes
from one `random.Random`, seeded from the sandbox seed: the same seed yields the same sequence
of rows (names, reasons, ratings), though not the same clock times.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal, get_args

from bot.sandbox.seed import (
    PROFILES,
    RATING_WEIGHTS,
    comment_bank,
    make_transcript,
    new_session_id,
)
from bot.sandbox.state import Feedback, Handoff, SandboxState

Event = Literal["handoff", "feedback"]
EVENTS: tuple[Event, ...] = get_args(Event)

# Share of paced events that are handoffs; the rest are feedback.
HANDOFF_SHARE = 2 / 3

_HANDOFF_FIELDS = ("session_id", "visitor_key", "visitor_name", "reason", "assigned_to")
_FEEDBACK_FIELDS = ("session_id", "rating", "comment")
_NULLABLE = frozenset({"visitor_name", "assigned_to", "comment"})
# Unhappy visitors write more often than happy ones.
_COMMENT_CHANCE = {1: 0.8, 2: 0.8, 3: 0.55, 4: 0.4, 5: 0.4}


class EventError(ValueError):
    """An event that cannot be made as asked (unknown site or event, a bad override)."""


class EventGenerator:
    """Makes new rows for a site and decides which site and event the pace emits next."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"sandbox-events:{seed}")

    def pick(self, state: SandboxState) -> tuple[int, Event] | None:
        """A site with an enabled subscription and an event it wants, or None if there is none."""
        wanted: dict[int, set[str]] = {}
        for sub in state.webhooks.values():
            if sub.enabled:
                wanted.setdefault(sub.site_id, set()).update(sub.events)
        choices = {site: events & set(EVENTS) for site, events in wanted.items()}
        sites = sorted(site for site, events in choices.items() if events)
        if not sites:
            return None
        site_id = self._rng.choice(sites)
        events = choices[site_id]
        if len(events) == 1:
            return site_id, "handoff" if "handoff" in events else "feedback"
        return site_id, "handoff" if self._rng.random() < HANDOFF_SHARE else "feedback"

    def new_row(
        self,
        state: SandboxState,
        site_id: int,
        event: str,
        overrides: Mapping[str, Any] | None = None,
    ) -> Handoff | Feedback:
        """Add a new handoff or feedback row (with its session's transcript) and return it.

        `overrides` sets fields of the row instead of making them up; unknown fields, wrong
        types and a session of another site are an :class:`EventError`, and nothing is added.
        """
        if site_id not in state.sites or site_id not in PROFILES:
            raise EventError(f"unknown site {site_id}")
        if event == "handoff":
            fields = _checked(overrides or {}, _HANDOFF_FIELDS)
            _check_session(state, site_id, fields)
            return self._new_handoff(state, site_id, fields)
        if event == "feedback":
            fields = _checked(overrides or {}, _FEEDBACK_FIELDS)
            _check_session(state, site_id, fields)
            return self._new_feedback(state, site_id, fields)
        raise EventError(f"unknown event {event!r}; allowed: {', '.join(EVENTS)}")

    def _new_handoff(self, state: SandboxState, site_id: int, fields: dict[str, Any]) -> Handoff:
        rng, profile = self._rng, PROFILES[site_id]
        now = state.now().replace(microsecond=0)
        visitors = state.site_visitors(site_id)
        visitor = rng.choice(visitors) if visitors and rng.random() < 0.85 else None
        key = visitor.visitor_key if visitor else f"anon-{rng.getrandbits(32):08x}"
        name = visitor.name if visitor else None
        if "visitor_key" in fields:
            key = fields["visitor_key"]
            known = state.visitors.get((site_id, key))
            name = known.name if known else None
        name = fields.get("visitor_name", name)
        reason = fields.get("reason", rng.choice(profile.reasons))
        session_id = fields.get("session_id") or new_session_id(state, rng)
        if session_id not in state.sessions:
            state.add_session(site_id, session_id)
            # The AI part of the chat ends now, with "Let me connect you..."; no agent yet.
            state.transcripts[session_id] = make_transcript(
                profile, rng, now, session_id, key, name, now, None, long=False, handoff=True
            )
        known = state.visitors.get((site_id, key))
        if known is not None and known.last_seen_utc < now:
            known.last_seen_utc = now
        row = Handoff(
            id=state.next_id("handoff"),
            site_id=site_id,
            session_id=session_id,
            visitor_key=key,
            visitor_name=name,
            reason=reason,
            assigned_to=fields.get("assigned_to"),
            created_utc=now,
        )
        state.handoffs.insert(0, row)
        return row

    def _new_feedback(self, state: SandboxState, site_id: int, fields: dict[str, Any]) -> Feedback:
        rng, profile = self._rng, PROFILES[site_id]
        now = state.now().replace(microsecond=0)
        rating = fields.get("rating") or rng.choices((1, 2, 3, 4, 5), weights=RATING_WEIGHTS)[0]
        if "comment" in fields:
            comment = fields["comment"]
        elif rng.random() < _COMMENT_CHANCE[rating]:
            comment = rng.choice(comment_bank(rating))
        else:
            comment = None
        session_id = fields.get("session_id") or new_session_id(state, rng)
        if session_id not in state.sessions:
            state.add_session(site_id, session_id)
            visitors = state.site_visitors(site_id)
            visitor = rng.choice(visitors) if visitors else None
            key = visitor.visitor_key if visitor else f"anon-{rng.getrandbits(32):08x}"
            # A chat with the AI that ended a minute or two ago, rated just now.
            state.transcripts[session_id] = make_transcript(
                profile,
                rng,
                now,
                session_id,
                key,
                visitor.name if visitor else None,
                now - timedelta(seconds=rng.randint(90, 300)),
                None,
                long=False,
                handoff=False,
            )
        row = Feedback(
            id=state.next_id("feedback"),
            site_id=site_id,
            session_id=session_id,
            rating=rating,
            comment=comment,
            created_utc=now,
        )
        state.feedback.insert(0, row)
        return row


def _checked(overrides: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        raise EventError(
            f"unknown field(s) {', '.join(unknown)}; this event's fields are {', '.join(allowed)}"
        )
    fields: dict[str, Any] = {}
    for name, value in overrides.items():
        if name == "rating":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
                raise EventError("'rating' must be an integer from 1 to 5")
        elif value is None:
            if name not in _NULLABLE:
                raise EventError(f"'{name}' cannot be null")
        elif not isinstance(value, str) or not value.strip():
            raise EventError(f"'{name}' must be a non-empty string")
        fields[name] = value
    return fields


def _check_session(state: SandboxState, site_id: int, fields: Mapping[str, Any]) -> None:
    session_id = fields.get("session_id")
    if session_id is not None and state.sessions.get(session_id, site_id) != site_id:
        raise EventError(f"session {session_id} belongs to another site")
