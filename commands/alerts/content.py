"""What an alert says: a handoff or a low rating, who claimed it, and the SLA reminder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from ..formatting import clip, na
from ..reply import Action, Field, Kind, Reply
from ..sources import Source
from ..timefmt import clock_time, short_datetime
from .model import Alert, AlertEvent, Rule

__all__ = ["alert_reply", "describe_rule", "reminder_reply", "sample_event", "stars"]

_TEXT_CHARS = 500


def stars(rating: int | None) -> str:
    """``★★☆☆☆``; ``n/a`` without a rating."""
    if rating is None or not 1 <= rating <= 5:
        return "n/a"
    return "★" * rating + "☆" * (5 - rating)


def alert_reply(alert: Alert, tz: tzinfo = UTC) -> Reply:
    """The channel's message for ``alert``, as it is now (claimed or not)."""
    if alert.event.kind == "handoff":
        return _handoff(alert, tz)
    return _feedback(alert, tz)


def _handoff(alert: Alert, tz: tzinfo) -> Reply:
    handoff = alert.event.handoff
    visitor = handoff.visitor_name or handoff.visitor_key or "A visitor"
    session = handoff.session_id
    fields = [
        Field("Session", na(session)),
        Field("When", short_datetime(handoff.created_utc or alert.event.occurred_utc, tz)),
    ]
    if handoff.assigned_to:
        fields.append(Field("Agent in MyLiveChat", handoff.assigned_to))
    actions: list[Action] = []
    notes: tuple[str, ...] = ()
    if not alert.id:
        notes = ("A sample alert (`alerts test`): a real one has a Claim button.",)
    elif alert.claimed_by:
        fields.append(Field("Claimed", _claimed(alert, tz), inline=False))
        actions.append(Action("Release", f"alerts release {alert.id}"))
    else:
        actions.append(Action("Claim", f"alerts claim {alert.id}", style="primary"))
    if session:
        actions.append(Action("Transcript", f"transcript {session}"))
        actions.append(Action("Tag", f"tag {session}", pick=Source.TAG))
    return Reply(
        title=f"Handoff: {clip(visitor, 80)} needs a human",
        text=clip(handoff.reason, _TEXT_CHARS) if handoff.reason else "",
        fields=tuple(fields),
        actions=tuple(actions),
        notes=notes,
        kind=Kind.SUCCESS if alert.claimed_by else Kind.WARNING,
        private=False,
    )


def _claimed(alert: Alert, tz: tzinfo) -> str:
    who = alert.claimed_name or alert.claimed_by or "someone"
    return f"by {who} at {clock_time(alert.claimed_utc, tz)} (the bot's own record)"


def _feedback(alert: Alert, tz: tzinfo) -> Reply:
    feedback = alert.event.feedback
    session = feedback.session_id
    rating = feedback.rating
    fields = (
        Field("Session", na(session)),
        Field("When", short_datetime(feedback.created_utc or alert.event.occurred_utc, tz)),
    )
    actions = (Action("Transcript", f"transcript {session}"),) if session else ()
    score = f"{rating}/5" if rating is not None else "no score"
    return Reply(
        title=f"Feedback: {stars(rating)} ({score})",
        text=clip(feedback.comment, _TEXT_CHARS) if feedback.comment else "(no comment)",
        fields=fields,
        actions=actions,
        kind=Kind.ERROR if rating is not None and rating <= 2 else Kind.INFO,
        private=False,
    )


def reminder_reply(alert: Alert) -> Reply:
    """The one reminder an unclaimed handoff alert gets when its SLA passes."""
    handoff = alert.event.handoff
    waited = timedelta(seconds=alert.sla_seconds or 0)
    visitor = handoff.visitor_name or handoff.visitor_key or "a visitor"
    return Reply(
        title=f"Still unclaimed after {_duration(waited)}",
        text=f"The handoff of {clip(visitor, 80)} (session {na(handoff.session_id)}) "
        "waits for an agent.",
        actions=(Action("Claim", f"alerts claim {alert.id}", style="primary"),),
        kind=Kind.WARNING,
        private=False,
        mentions=(alert.mention,) if alert.mention else (),
    )


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds % 3600 == 0 and seconds >= 3600:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0 and seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def describe_rule(rule: Rule) -> str:
    """``handoffs whose reason mentions "billing", reminder after 5 min to @support``."""
    if rule.event == "handoff":
        text = "handoffs"
        if rule.reason:
            text += f' whose reason mentions "{rule.reason}"'
        if rule.sla_seconds:
            text += f", reminder after {_duration(timedelta(seconds=rule.sla_seconds))}"
            if rule.mention:
                text += f" to {rule.mention}"
        return text
    text = "feedback"
    if rule.max_rating is not None:
        text += f" of {rule.max_rating} stars or fewer" if rule.max_rating > 1 else " of 1 star"
    if rule.with_comment:
        text += " with a comment"
    return text


def sample_event(rule: Rule, now: datetime) -> AlertEvent:
    """A made-up event of ``rule``'s kind that ``rule`` matches (``alerts test``)."""
    stamp = now.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if rule.event == "handoff":
        data = {
            "id": 0,
            "session_id": "s_sample",
            "visitor_name": "Sample Visitor",
            "reason": f"{rule.reason or 'asked for a human'} (a test alert)",
            "assigned_to": None,
            "created_utc": stamp,
        }
    else:
        data = {
            "id": 0,
            "session_id": "s_sample",
            "rating": min(rule.max_rating or 2, 2),
            "comment": "This is a test alert: no visitor wrote it.",
            "created_utc": stamp,
        }
    return AlertEvent(f"evt_sample_{rule.id}", rule.event, None, now, data)
