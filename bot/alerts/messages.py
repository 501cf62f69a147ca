"""Alert messages through the posters: a sample, and a claimed alert shown in place."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo

from commands.alerts.content import alert_reply, sample_event
from commands.alerts.model import Alert, Rule
from commands.alerts.service import AlertsUnavailable
from commands.ports import ChannelRef, MessageEditor, Poster

__all__ = ["PostedAlerts", "channel_of"]

log = logging.getLogger("mlc_bot.alerts")


def channel_of(alert: Alert | Rule) -> ChannelRef:
    return ChannelRef(alert.platform, alert.channel_id, alert.workspace_id)


class PostedAlerts:
    """The core's :class:`~commands.alerts.store.AlertMessages` on this process's posters."""

    def __init__(
        self,
        posters: Mapping[str, Poster],
        *,
        zone: tzinfo = UTC,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.posters = posters
        self.zone = zone
        self.clock = clock

    async def refresh(self, alert: Alert) -> None:
        poster = self.posters.get(alert.platform)
        if alert.message_id is None:
            return  # not posted yet: the worker posts it as it is now
        if not isinstance(poster, MessageEditor):
            log.warning(
                "alert #%d was claimed, but this process cannot change %s messages; "
                "its message shows the claim once a process that can posts it",
                alert.id,
                alert.platform,
            )
            return
        await poster.update(channel_of(alert), alert.message_id, alert_reply(alert, self.zone))

    async def post_sample(self, rule: Rule) -> None:
        poster = self.posters.get(rule.platform)
        if poster is None:
            raise AlertsUnavailable(
                f"This process cannot post to {rule.platform}: `alerts test` works where the "
                f"bot posts there (`mlc-bot web` or `mlc-bot run` with that platform's token)."
            )
        sample = Alert(
            id=0,
            event=sample_event(rule, self.clock()),
            rule_id=rule.id,
            platform=rule.platform,
            workspace_id=rule.workspace_id,
            channel_id=rule.channel_id,
            mention=rule.mention,
            sla_seconds=rule.sla_seconds,
        )
        await poster.post(channel_of(rule), alert_reply(sample, self.zone))
