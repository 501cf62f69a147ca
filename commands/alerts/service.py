"""What the ``alerts`` commands do: rules per channel, the webhook subscription they need,
its secret, and claims.

The first rule provisions a MyLiveChat webhook subscription (labelled
:data:`SUBSCRIPTION_LABEL`, reused when it exists) that points at the bot's receiver for the
events the rules need, keeps its secret (shown once, encrypted at rest by the application)
and sends a test delivery to prove the loop. Removing a channel's last rule of an event
narrows the subscription; removing the last rule deletes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.mylivechat import (
    MyLiveChatClient,
    MyLiveChatError,
    WebhookSubscription,
    WebhookTestResult,
)

from ..digests.store import StorageUnavailable
from ..place import Place
from ..ports import ChannelGone, PostRefused
from .model import Alert, NewRule, Rule
from .store import AlertMessages, AlertStore, Claim, RuleStore, SecretStore

__all__ = [
    "RECEIVER_PATH",
    "ROTATION_GRACE",
    "SUBSCRIPTION_LABEL",
    "AlertService",
    "AlertsUnavailable",
    "Provisioned",
    "Removal",
]

RECEIVER_PATH = "/mlc/webhooks"
SUBSCRIPTION_LABEL = "mlc-bot alerts"
ROTATION_GRACE = timedelta(minutes=10)
"""How long deliveries signed with the previous secret are still accepted after a rotation."""


class AlertsUnavailable(Exception):
    """Alerts cannot be set up in this process; the message says what an admin should set."""


@dataclass(frozen=True, slots=True)
class Provisioned:
    """The webhook subscription after the rules changed."""

    subscription: WebhookSubscription | None
    """None: no rule is left, so there is none."""
    created: bool = False
    rotated: bool = False
    """A new secret was issued (the bot did not know the existing subscription's)."""
    test: WebhookTestResult | None = None


@dataclass(frozen=True, slots=True)
class Removal:
    """A rule removed from the bot's database, and what became of the subscription."""

    rule: Rule
    provisioned: Provisioned | None
    """None when MyLiveChat did not take the subscription's change: see ``error``."""
    error: MyLiveChatError | None = None


class AlertService:
    def __init__(
        self,
        rules: RuleStore,
        alerts: AlertStore,
        messages: AlertMessages,
        *,
        secrets: SecretStore | None,
        public_url: str | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``secrets`` is None without an encryption key; ``public_url`` without
        MLC_BOT_PUBLIC_URL: then rules cannot be added, and the refusal says why."""
        self.rules = rules
        self.alerts = alerts
        self.messages = messages
        self.secrets = secrets
        self.public_url = public_url.rstrip("/") if public_url else None
        self.clock = clock

    @property
    def receiver_url(self) -> str | None:
        return self.public_url + RECEIVER_PATH if self.public_url else None

    def _ready(self) -> tuple[SecretStore, str]:
        if self.secrets is None:
            raise AlertsUnavailable(
                "Alerts keep the webhook secret encrypted, and MLC_BOT_SECRET_KEY is not set. "
                "Make a key with `mlc-bot keygen`, set it as MLC_BOT_SECRET_KEY and restart."
            )
        if self.receiver_url is None:
            raise AlertsUnavailable(
                "Alerts need the public https address of this bot, where MyLiveChat sends "
                f"events: set MLC_BOT_PUBLIC_URL (it receives them at {RECEIVER_PATH})."
            )
        return self.secrets, self.receiver_url

    # -- rules -----------------------------------------------------------------------------

    async def add(self, api: MyLiveChatClient, new: NewRule) -> tuple[Rule, Provisioned]:
        """Keep the rule, then make the subscription deliver what it needs."""
        self._ready()
        rule = await self.rules.add(new, self.clock())
        try:
            return rule, await self.provision(api)
        except BaseException:
            await self.rules.remove(rule.id)  # no rule that would never see an event
            raise

    async def list(self, place: Place) -> list[Rule]:
        return await self.rules.list_for(place.platform, place.workspace_id)

    async def get(self, rule_id: int, place: Place) -> Rule | None:
        """The rule, if it belongs to ``place``'s workspace (ids are global)."""
        rule = await self.rules.get(rule_id)
        if rule is None or (rule.platform, rule.workspace_id) != (
            place.platform,
            place.workspace_id,
        ):
            return None
        return rule

    async def remove(self, api: MyLiveChatClient, rule_id: int, place: Place) -> Removal | None:
        """Remove the rule, then narrow (or delete) the subscription. The rule is gone even
        when MyLiveChat refuses the change or its answer is lost (no channel gets its alerts:
        events no rule wants are dropped), and the next change of the rules settles it."""
        rule = await self.get(rule_id, place)
        if rule is None:
            return None
        await self.rules.remove(rule.id)
        try:
            return Removal(rule, await self.provision(api))
        except MyLiveChatError as exc:
            return Removal(rule, None, exc)

    async def set_paused(
        self, rule_id: int, place: Place, paused: bool
    ) -> tuple[Rule, bool] | None:
        """(the rule, whether it changed); None when there is no such rule here."""
        rule = await self.get(rule_id, place)
        if rule is None:
            return None
        if rule.paused == paused:
            return rule, False
        updated = await self.rules.set_paused(rule.id, paused)
        return (updated or rule), True

    async def test(self, rule_id: int, place: Place) -> Rule | None:
        rule = await self.get(rule_id, place)
        if rule is not None:
            try:
                await self.messages.post_sample(rule)
            except (ChannelGone, PostRefused) as exc:
                raise AlertsUnavailable(f"The sample alert could not be posted: {exc}") from None
        return rule

    # -- the subscription ------------------------------------------------------------------

    async def provision(self, api: MyLiveChatClient) -> Provisioned:
        """Make the subscription deliver exactly the events the rules need (or remove it)."""
        needed = sorted({rule.event for rule in await self.rules.all()})
        ours = await self._ours(api)
        if not needed:
            if ours is not None:
                await api.delete_webhook_subscription(ours.id or 0)
            if self.secrets is not None:
                await self.secrets.forget()
            return Provisioned(None)
        secrets, url = self._ready()
        if ours is None:
            created = await api.create_webhook_subscription(
                url=url, events=needed, label=SUBSCRIPTION_LABEL
            )
            await self._keep(secrets, created.id, created.secret)
            return Provisioned(created, created=True, test=await api.test_webhook(created.id or 0))
        sub = ours
        if sub.event_list != needed or sub.url != url or sub.enabled is False:
            sub = await api.update_webhook_subscription(
                ours.id or 0, events=needed, url=url, enabled=True
            )
        if await secrets.subscription_id() == ours.id:
            return Provisioned(sub)
        rotated = await api.rotate_webhook_secret(ours.id or 0)
        await self._keep(secrets, ours.id, rotated.secret)
        return Provisioned(sub, rotated=True, test=await api.test_webhook(ours.id or 0))

    async def rotate(self, api: MyLiveChatClient) -> WebhookSubscription:
        """Issue a new secret and keep it; the previous one verifies for the grace period."""
        secrets, _ = self._ready()
        ours = await self._ours(api)
        if ours is None or ours.id is None:
            raise AlertsUnavailable(
                "There is no alert subscription to rotate: add a rule with `alerts add` first."
            )
        rotated = await api.rotate_webhook_secret(ours.id)
        await self._keep(secrets, ours.id, rotated.secret)
        return ours

    async def _ours(self, api: MyLiveChatClient) -> WebhookSubscription | None:
        subs = await api.list_webhook_subscriptions()
        return next((s for s in subs if s.label == SUBSCRIPTION_LABEL and s.id), None)

    async def _keep(self, secrets: SecretStore, sub_id: int | None, secret: str | None) -> None:
        if sub_id is None or not secret:
            raise AlertsUnavailable(
                "MyLiveChat did not send the subscription's secret; try `alerts rotate`."
            )
        try:
            await secrets.put(sub_id, secret, self.clock(), grace=ROTATION_GRACE)
        except StorageUnavailable as exc:
            raise AlertsUnavailable(
                f"MyLiveChat issued the subscription a new secret, but the bot could not keep "
                f"it ({exc}). Run the same command again once the database answers: it takes "
                "another secret. Until then MyLiveChat's deliveries are refused."
            ) from None

    # -- claims ----------------------------------------------------------------------------

    async def claim(self, alert_id: int, user_id: str, name: str, place: Place) -> Claim | None:
        """The first claim wins, and the alert's message then shows who has it."""
        alert = await self.alerts.get(alert_id)
        if alert is None or not _here(alert, place):
            return None
        claim = await self.alerts.claim(alert_id, user_id, name, self.clock())
        if claim is not None and claim.won:
            await self.messages.refresh(claim.alert)
        return claim

    async def release(self, alert_id: int, user_id: str, place: Place) -> Claim | None:
        """Drop the caller's claim (``won`` False: someone else holds it, nothing changed)."""
        alert = await self.alerts.get(alert_id)
        if alert is None or not _here(alert, place):
            return None
        if alert.claimed_by not in (None, user_id):
            return Claim(alert, won=False)
        released = await self.alerts.release(alert_id, user_id)
        if released is None:
            return None
        await self.messages.refresh(released)
        return Claim(released, won=True)


def _here(row: Rule | Alert, place: Place) -> bool:
    """Whether a rule or an alert belongs to the workspace ``place`` is in."""
    return (row.platform, row.workspace_id) == (place.platform, place.workspace_id)
