"""Deterministic, realistic seed data for the two sandbox sites.

Everything comes from `random.Random` seeded with the sandbox seed, and every timestamp is
relative to the `now` passed in, so the same (seed, now) always yields the same data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.sandbox.state import (
    Feedback,
    Handoff,
    Message,
    NotifierSettings,
    SandboxState,
    Site,
    Starter,
    Tag,
    Token,
    Transcript,
    UsagePlan,
    Visitor,
)

SITE_A_ID = 10000324
SITE_B_ID = 10000451
PLATFORMS: tuple[str, ...] = ("slack", "discord", "teams")
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True)
class Topic:
    """One kind of conversation: what visitors say, what the AI and the agents answer."""

    openers: tuple[str, ...]
    ai: tuple[str, ...]
    followups: tuple[str, ...]
    agent: tuple[str, ...]


@dataclass(frozen=True)
class Profile:
    """Everything that makes one seeded site look like a distinct business."""

    key: str
    site_id: int
    label: str
    name: str
    ai_name: str
    agents: tuple[str, ...]
    tags: tuple[tuple[str, str, str], ...]  # name, color, description
    disabled_tag: str
    starters: tuple[str, ...]
    reasons: tuple[str, ...]
    topics: tuple[Topic, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    companies: tuple[str, ...]
    plans: tuple[str | None, ...]
    handoffs: int
    ai_only_sessions: int
    feedback: int
    visitors: int
    plan_code: str
    included_replies: int
    replies_per_second: float
    previous_total: int


@dataclass(frozen=True)
class Seeded:
    state: SandboxState
    site_a_id: int
    site_b_id: int
    tokens: dict[str, str]  # "site_a_write" etc. -> raw token


_GOOD_COMMENTS = (
    "Super fast answer, thanks!",
    "The assistant solved it in two messages.",
    "Priya was great, very patient.",
    "Quick and friendly.",
    "Exactly what I needed.",
    "Helpful, though I had to repeat my order number.",
    "Loved that I did not have to wait.",
)
_MEH_COMMENTS = (
    "Took a while to reach a person.",
    "Answer was OK but a bit generic.",
    "Fine, but the bot misunderstood me at first.",
)
_BAD_COMMENTS = (
    "The bot kept looping on the same answer.",
    "Waited 20 minutes for a human. Not great.",
    "Still not resolved.",
    "Nobody answered my actual question.",
    "I was charged twice and nobody could fix it.",
)

_AI_CLARIFY = (
    "Could you share the email address on the account so I can look it up?",
    "Thanks. Just to confirm, is this about your most recent order or invoice?",
    "I understand. Here is the help article that covers this: /help/articles/212.",
)
_VISITOR_REPLIES = (
    "OK, thanks.",
    "Can you confirm that by email?",
    "That helps, thank you.",
    "How long will that take?",
)

_TROUBLESHOOT_AGENT = (
    "Could you open Settings > Integrations and tell me what status the connector shows?",
    "Thanks. Please click 'Reconnect' and paste the error text if one appears.",
    "Got it. Can you clear the browser cache and try the export again?",
    "Let me check the logs on our side for that request, one moment.",
    "I see a timeout on our side at {time}. Can you retry with a smaller date range?",
    "Does the same thing happen in a private window?",
    "Can you share the exact file name you are importing?",
    "Thanks, I'm escalating this to engineering with the details so far.",
)
_TROUBLESHOOT_VISITOR = (
    "It says 'Degraded' in yellow.",
    "Error: sync token expired (code 4012).",
    "Same result, the spinner never stops.",
    "OK, waiting.",
    "Smaller range worked for March but not for April.",
    "Yes, same thing in private mode.",
    "export_april_final_v2.csv",
    "Thank you, please keep me posted.",
)

ACME = Profile(
    key="a",
    site_id=SITE_A_ID,
    label="acme-support",
    name="Acme Analytics",
    ai_name="Acme Assistant (AI)",
    agents=("Priya Shah", "Marco Rossi", "Dana Kim", "Tom Becker"),
    tags=(
        ("vip", "#7c3aed", "Priority customer"),
        ("billing", "#2563eb", "Invoices, charges and payment methods"),
        ("bug", "#dc2626", "Product defect reported by a visitor"),
        ("refund", "#f59e0b", "Refund requested or issued"),
        ("churn-risk", "#ea580c", "Visitor mentioned cancelling"),
        ("onboarding", "#16a34a", "New account setup help"),
        ("feature-request", "#0891b2", "Asked for something we do not do yet"),
        ("legacy-promo", "#94a3b8", "Spring 2025 promo questions"),
    ),
    disabled_tag="legacy-promo",
    starters=(
        "How do I reset my password?",
        "Talk to billing",
        "Report a bug",
        "What's new in Acme 5?",
        "Upgrade my plan",
    ),
    reasons=(
        "visitor asked for a human",
        "visitor asked for a human",
        "AI low confidence",
        "AI low confidence",
        "billing dispute",
        "refund request over auto-approve limit",
        "bug report needs engineering triage",
        "account locked after failed logins",
        "enterprise pricing question",
        "negative sentiment detected",
    ),
    topics=(
        Topic(
            openers=(
                "I was charged twice for April, can you check?",
                "Why did my invoice go up this month?",
                "I need a copy of my last three invoices for accounting.",
            ),
            ai=(
                "I can help with billing. I see one charge for April on your account; a second "
                "pending authorization usually drops off within 3 business days.",
                "Your invoice includes 4 extra seats added on April 3rd, prorated.",
            ),
            followups=(
                "No, there are two settled charges on my card statement.",
                "I did not add any seats. Can I talk to someone?",
            ),
            agent=(
                "I've found the duplicate charge and refunded it; you'll see it in 5-10 days.",
                "The seats were added by your admin Jordan; I can remove them if you like.",
                "I've emailed the invoices to the billing contact on file.",
            ),
        ),
        Topic(
            openers=(
                "The dashboard export keeps failing with a 504.",
                "Charts are blank since this morning.",
                "Our Salesforce sync stopped yesterday.",
            ),
            ai=(
                "Sorry about that. Large exports can time out; try narrowing the date range.",
                "Could you try a hard refresh (Ctrl+Shift+R)? A cached script can cause this.",
            ),
            followups=(
                "Tried that already, same error.",
                "Still broken. This is blocking our board report.",
            ),
            agent=(
                "I reproduced it; engineering is on it and I've tagged your account.",
                "A fix is rolling out now; please retry in 15 minutes.",
                "I've re-authorized the connector on our side, it should sync within the hour.",
            ),
        ),
        Topic(
            openers=(
                "I want a refund for the annual plan, we're not using it.",
                "Can I get a refund for the unused months?",
            ),
            ai=(
                "Annual plans can be refunded pro rata within 30 days of renewal. "
                "Your renewal was 41 days ago, so I need to pass this to the team.",
            ),
            followups=("Please do, we switched tools.",),
            agent=(
                "I can offer a prorated credit or downgrade to monthly; which do you prefer?",
                "Approved: the refund of $1,140 has been issued.",
            ),
        ),
        Topic(
            openers=(
                "How do I add a teammate?",
                "Where do I find the API key?",
                "Can I change the workspace name?",
            ),
            ai=(
                "Go to Settings > Team and click 'Invite'. Invites expire after 7 days.",
                "API keys live under Settings > Developers. Only admins can see them.",
                "Yes: Settings > Workspace > Name. It updates for everyone immediately.",
            ),
            followups=("Perfect, thanks!", "Found it, thank you."),
            agent=("Glad that helped. Anything else I can do?",),
        ),
        Topic(
            openers=(
                "We're thinking about cancelling, the price is too high.",
                "Is there an enterprise plan with SSO?",
            ),
            ai=(
                "I'm sorry to hear that. Would a smaller plan fit better? I can show options.",
                "Yes, SSO (SAML and OIDC) is included in Enterprise.",
            ),
            followups=("I'd like to talk to a person about pricing.",),
            agent=(
                "Happy to help. I can offer 20% off the next 6 months if you stay on Pro.",
                "I've booked a call with our enterprise team for Thursday 3pm.",
            ),
        ),
    ),
    first_names=(
        "Jane",
        "Omar",
        "Lucia",
        "Wei",
        "Hannah",
        "Carlos",
        "Aisha",
        "Ben",
        "Sofia",
        "Raj",
        "Emma",
        "Kofi",
        "Mia",
        "Noah",
        "Ines",
        "Leo",
    ),
    last_names=(
        "Miller",
        "Haddad",
        "Moreno",
        "Chen",
        "Schmidt",
        "Silva",
        "Okoye",
        "Turner",
        "Rossi",
        "Patel",
        "Novak",
        "Mensah",
        "Larsen",
        "Dubois",
    ),
    companies=("northwind.io", "initech.com", "umbrella.co", "hooli.com", "vandelay.net"),
    plans=("free", "pro", "pro", "business", "enterprise"),
    handoffs=40,
    ai_only_sessions=22,
    feedback=60,
    visitors=25,
    plan_code="business",
    included_replies=350_000,
    # ~14,700 replies a day: about 441k over a 30-day cycle, i.e. ~126% of the plan.
    replies_per_second=0.17,
    previous_total=2_145_330,
)

GLOBEX = Profile(
    key="b",
    site_id=SITE_B_ID,
    label="globex-shop",
    name="Globex Outdoor Store",
    ai_name="Globex Helper (AI)",
    agents=("Lena Fischer", "Sam Okafor", "Yuki Tanaka"),
    tags=(
        ("wholesale", "#0f766e", "Bulk or B2B order"),
        ("shipping", "#1d4ed8", "Delivery status and carriers"),
        ("returns", "#b45309", "Return or exchange"),
        ("warranty", "#4d7c0f", "Warranty claim"),
        ("damaged-item", "#be123c", "Arrived broken"),
        ("urgent", "#e11d48", "Needs an answer today"),
        ("gift-card", "#9333ea", "Gift card balance or redemption"),
        ("holiday-2025", "#a8a29e", "Holiday 2025 campaign"),
    ),
    disabled_tag="holiday-2025",
    starters=("Where is my order?", "Start a return", "Talk to a person"),
    reasons=(
        "visitor asked for a human",
        "AI low confidence",
        "billing dispute",
        "package marked delivered but missing",
        "damaged item photos attached",
        "wholesale order inquiry",
    ),
    topics=(
        Topic(
            openers=(
                "Where is my order #GX-48213?",
                "Tracking hasn't updated in 4 days.",
                "It says delivered but nothing arrived.",
            ),
            ai=(
                "Your order shipped with UPS on Monday; the latest scan is in Louisville, KY.",
                "Carriers sometimes mark parcels delivered early; please wait until end of day.",
            ),
            followups=("It's been two days since it said delivered.", "Can a person check?"),
            agent=(
                "I've opened a trace with UPS and sent a replacement by express.",
                "The driver left it at the leasing office; here's the photo proof.",
            ),
        ),
        Topic(
            openers=("The tent pole snapped on first use.", "My jacket zipper broke."),
            ai=("Sorry about that! Our gear has a 2-year warranty. Could you send a photo?",),
            followups=("Photo attached.", "Here you go."),
            agent=(
                "Thanks, that's clearly a defect. A replacement ships today, no return needed.",
            ),
        ),
        Topic(
            openers=("How do I return boots that don't fit?", "Can I exchange for a size up?"),
            ai=(
                "Returns are free within 60 days. I've emailed you a prepaid label.",
                "Yes, exchanges are free; start one from your order page.",
            ),
            followups=("Great, thanks!", "Got the label, thanks."),
            agent=("All set, your exchange is confirmed.",),
        ),
        Topic(
            openers=("Do you offer discounts for 40 units for our scout troop?",),
            ai=("For orders over 25 units our wholesale team can quote a discount.",),
            followups=("Yes please, connect me.",),
            agent=("I've sent a quote with 18% off and free freight.",),
        ),
    ),
    first_names=(
        "Grace",
        "Diego",
        "Anna",
        "Tariq",
        "Chloe",
        "Mateo",
        "Freya",
        "Jonas",
        "Amara",
        "Luca",
        "Nina",
        "Hugo",
    ),
    last_names=(
        "Walsh",
        "Fernandez",
        "Kowalski",
        "Rahman",
        "Martin",
        "Bauer",
        "Nilsen",
        "Costa",
        "Adeyemi",
        "Keller",
    ),
    companies=("gmail.com", "outlook.com", "proton.me", "yahoo.com"),
    plans=(None, None, "member", "member", "trail-club"),
    handoffs=36,
    ai_only_sessions=18,
    feedback=52,
    visitors=22,
    plan_code="pro",
    included_replies=50_000,
    # ~950 replies a day: about 28.5k over a cycle, ~57% of the plan.
    replies_per_second=0.011,
    previous_total=98_412,
)


PROFILES: dict[int, Profile] = {p.site_id: p for p in (ACME, GLOBEX)}
RATING_WEIGHTS = (12, 10, 14, 26, 38)  # how often visitors give 1..5


def build_state(seed: int, now: datetime) -> Seeded:
    """Build the whole store for sites A and B from `seed`, with timestamps around `now`."""
    state = SandboxState(now)
    base = now.astimezone(UTC).replace(microsecond=0)
    root = random.Random(seed)
    tokens: dict[str, str] = {}
    for profile in (ACME, GLOBEX):
        rng = random.Random(seed * 7919 + profile.site_id)
        _seed_site(state, profile, rng, base)
        for scope_key, scopes in (("rw", ("read", "write")), ("ro", ("read",))):
            value = f"mlc_sbx_{profile.key}_{scope_key}_{root.getrandbits(96):024x}"
            created = base - timedelta(days=13, hours=root.randint(0, 20))
            label = profile.label if scope_key == "rw" else f"{profile.label}-readonly"
            token = Token(
                id=state.next_id("token"),
                value=value,
                site_id=profile.site_id,
                label=label,
                scopes=scopes,
                created_utc=created,
            )
            state.tokens[value] = token
            kind = "write" if scope_key == "rw" else "read"
            tokens[f"site_{profile.key}_{kind}"] = value
    return Seeded(state=state, site_a_id=SITE_A_ID, site_b_id=SITE_B_ID, tokens=tokens)


def _seed_site(state: SandboxState, p: Profile, rng: random.Random, now: datetime) -> None:
    state.sites[p.site_id] = Site(id=p.site_id, label=p.label, name=p.name)
    _seed_tags(state, p, rng, now)
    for order, text in enumerate(p.starters, start=1):
        state.starters.append(
            Starter(
                id=state.next_id("starter"),
                site_id=p.site_id,
                text=text,
                # A long starter list has its last chip switched off, as real sites do.
                enabled=not (order == len(p.starters) >= 5),
                sort_order=order * 10,
            )
        )
    visitors = _seed_visitors(state, p, rng, now)
    sessions = _seed_conversations(state, p, rng, now, visitors)
    _seed_feedback(state, p, rng, now, sessions)
    _seed_notifiers(state, p, rng)
    cycle_start = (now - timedelta(days=12)).replace(hour=0, minute=0, second=0)
    state.usage[p.site_id] = UsagePlan(
        site_id=p.site_id,
        plan_code=p.plan_code,
        included_replies=p.included_replies,
        cycle_start_utc=cycle_start,
        replies_per_second=p.replies_per_second,
        previous_cycles_total=p.previous_total,
    )


def _seed_tags(state: SandboxState, p: Profile, rng: random.Random, now: datetime) -> None:
    for name, color, description in p.tags:
        tag_id = state.next_id("tag")
        state.tags[tag_id] = Tag(
            id=tag_id,
            site_id=p.site_id,
            name=name,
            color=color,
            description=description,
            enabled=name != p.disabled_tag,
            created_utc=now - timedelta(days=rng.randint(40, 400), seconds=rng.randint(0, 86399)),
        )


def _seed_visitors(
    state: SandboxState, p: Profile, rng: random.Random, now: datetime
) -> list[Visitor]:
    rows: list[Visitor] = []
    used: set[str] = set()
    while len(rows) < p.visitors:
        first, last = rng.choice(p.first_names), rng.choice(p.last_names)
        if f"{first} {last}" in used:
            continue
        used.add(f"{first} {last}")
        domain = rng.choice(p.companies)
        if p.key == "a":
            key = f"u-{rng.randint(10000, 99999)}"
            attributes: dict[str, object] = {
                "company": domain.split(".")[0].title(),
                "seats": rng.choice((1, 3, 5, 12, 25, 80)),
                "country": rng.choice(("US", "DE", "GB", "BR", "IN", "NG", "FR")),
                "mrr_usd": rng.choice((0, 49, 149, 490, 1290)),
            }
        else:
            key = f"cus_{rng.getrandbits(40):010x}"
            attributes = {
                "country": rng.choice(("US", "CA", "DE", "NO", "AU")),
                "orders": rng.randint(1, 14),
                "lifetime_value_usd": round(rng.uniform(40, 2400), 2),
                "newsletter": rng.random() < 0.6,
            }
        visitor = Visitor(
            site_id=p.site_id,
            visitor_key=key,
            email=f"{first}.{last}@{domain}".lower(),
            name=f"{first} {last}",
            plan=rng.choice(p.plans),
            attributes=attributes,
            last_seen_utc=now - timedelta(minutes=rng.randint(30, 60 * 24 * 10)),
            event_count=rng.randint(0, 320),
        )
        state.visitors[(p.site_id, key)] = visitor
        rows.append(visitor)
    return rows


def new_session_id(state: SandboxState, rng: random.Random) -> str:
    while True:
        sid = f"s_{rng.getrandbits(48):012x}"
        if sid not in state.sessions:
            return sid


def _seed_conversations(
    state: SandboxState,
    p: Profile,
    rng: random.Random,
    now: datetime,
    visitors: list[Visitor],
) -> list[tuple[str, datetime | None]]:
    """Handoffs plus a transcript per session; returns (session_id, ended or None) for feedback."""
    span = 3 * 24 * 3600
    handoff_ages = sorted(rng.randint(15 * 60, span) for _ in range(p.handoffs - 1))
    handoff_ages.insert(0, rng.randint(2 * 60, 9 * 60))  # the newest is minutes old
    long_index = p.handoffs // 3
    sessions: list[tuple[str, datetime | None]] = []
    for index, age in enumerate(handoff_ages):
        at = now - timedelta(seconds=age)
        visitor = rng.choice(visitors) if rng.random() < 0.85 else None
        key = visitor.visitor_key if visitor else f"anon-{rng.getrandbits(32):08x}"
        name = visitor.name if visitor else None
        if visitor and visitor.last_seen_utc < at:
            visitor.last_seen_utc = at
        # The newest handoffs are still waiting for an agent.
        agent = None if index < 3 else rng.choice(p.agents)
        sid = new_session_id(state, rng)
        state.add_session(p.site_id, sid)
        state.handoffs.append(
            Handoff(
                id=state.next_id("handoff"),
                site_id=p.site_id,
                session_id=sid,
                visitor_key=key,
                visitor_name=name,
                reason=rng.choice(p.reasons),
                assigned_to=agent,
                created_utc=at,
            )
        )
        transcript = make_transcript(
            p, rng, now, sid, key, name, at, agent, long=index == long_index, handoff=True
        )
        state.transcripts[sid] = transcript
        sessions.append((sid, transcript.ended_utc))
    for _ in range(p.ai_only_sessions):
        at = now - timedelta(seconds=rng.randint(10 * 60, span))
        visitor = rng.choice(visitors)
        sid = new_session_id(state, rng)
        state.add_session(p.site_id, sid)
        transcript = make_transcript(
            p,
            rng,
            now,
            sid,
            visitor.visitor_key,
            visitor.name,
            at,
            None,
            long=False,
            handoff=False,
        )
        state.transcripts[sid] = transcript
        sessions.append((sid, transcript.ended_utc))
    state.handoffs.sort(key=lambda h: h.created_utc, reverse=True)
    return sessions


def make_transcript(
    p: Profile,
    rng: random.Random,
    now: datetime,
    session_id: str,
    visitor_key: str,
    visitor_name: str | None,
    pivot: datetime,
    agent: str | None,
    *,
    long: bool,
    handoff: bool,
) -> Transcript:
    """A chat whose AI part ends at `pivot` (the handoff moment); agent turns follow it."""
    topic = rng.choice(p.topics)
    who = visitor_name or "Visitor"
    before: list[tuple[str, str, str]] = [
        ("visitor", who, rng.choice(topic.openers)),
        ("ai", p.ai_name, rng.choice(topic.ai)),
        ("visitor", who, rng.choice(topic.followups)),
    ]
    if rng.random() < 0.4:
        before.append(("ai", p.ai_name, rng.choice(_AI_CLARIFY)))
        before.append(("visitor", who, rng.choice(topic.followups)))
    after: list[tuple[str, str, str]] = []
    if handoff:
        before.append(("ai", p.ai_name, "Let me connect you with a member of our team."))
        if agent:
            first = who.split()[0]
            after.append(("agent", agent, f"Hi {first}, this is {agent}. I'm taking over here."))
            for line in rng.sample(topic.agent, k=rng.randint(1, len(topic.agent))):
                after.append(("agent", agent, line))
                if rng.random() < 0.5:
                    after.append(("visitor", who, rng.choice(_VISITOR_REPLIES)))
            if long:
                after.extend(_troubleshooting(agent, who, pivot, steps=80))
            after.append(("visitor", who, rng.choice(("Thanks!", "Thank you so much.", "OK."))))
    else:
        before.append(("visitor", who, rng.choice(("Thanks!", "Great, that works.", "OK."))))
    gaps_before = [rng.randint(8, 70) for _ in before]
    start = pivot - timedelta(seconds=sum(gaps_before))
    messages: list[Message] = []
    at = start
    for (role, author, text), gap in zip(before, gaps_before, strict=True):
        messages.append(Message(role=role, author=author, text=text, at_utc=at))
        at += timedelta(seconds=gap)
    at = pivot + timedelta(seconds=rng.randint(30, 240))
    for role, author, text in after:
        messages.append(Message(role=role, author=author, text=text, at_utc=at))
        at += timedelta(seconds=rng.randint(10, 80))
    cut = [m for m in messages if m.at_utc <= now]
    finished = len(cut) == len(messages) and (not handoff or agent is not None)
    ended = messages[-1].at_utc + timedelta(seconds=60) if finished else None
    if ended is not None and ended > now:
        ended = None
    return Transcript(
        site_id=p.site_id,
        session_id=session_id,
        visitor_key=visitor_key,
        started_utc=start,
        ended_utc=ended,
        messages=cut,
    )


def _troubleshooting(
    agent: str, visitor: str, at: datetime, *, steps: int
) -> list[tuple[str, str, str]]:
    """A long agent/visitor back-and-forth (the one very long transcript)."""
    lines: list[tuple[str, str, str]] = []
    for step in range(steps):
        i = step % len(_TROUBLESHOOT_AGENT)
        stamp = (at + timedelta(minutes=step)).strftime("%H:%M")
        text = _TROUBLESHOOT_AGENT[i].format(time=stamp)
        lines.append(("agent", agent, f"[{step + 1}] {text}"))
        lines.append(("visitor", visitor, _TROUBLESHOOT_VISITOR[i]))
    return lines


def _seed_feedback(
    state: SandboxState,
    p: Profile,
    rng: random.Random,
    now: datetime,
    recent: list[tuple[str, datetime | None]],
) -> None:
    rows: list[Feedback] = []
    pool: list[tuple[str, datetime]] = [(s, e) for s, e in recent if e is not None]
    rng.shuffle(pool)
    for n in range(p.feedback):
        # A quarter rate recent chats; the rest spread over the last 30 days.
        if n < min(len(pool), p.feedback // 4):
            sid, ended_at = pool[n]
            at = min(now, ended_at + timedelta(seconds=rng.randint(20, 600)))
        else:
            sid = new_session_id(state, rng)
            state.add_session(p.site_id, sid)
            at = now - timedelta(seconds=rng.randint(3 * 86400, 30 * 86400))
        rating = rng.choices((1, 2, 3, 4, 5), weights=RATING_WEIGHTS)[0]
        comment = rng.choice(comment_bank(rating)) if rng.random() < 0.5 else None
        rows.append(
            Feedback(
                id=state.next_id("feedback"),
                site_id=p.site_id,
                session_id=sid,
                rating=rating,
                comment=comment,
                created_utc=at,
            )
        )
    rows.sort(key=lambda f: f.created_utc, reverse=True)
    state.feedback.extend(rows)


def comment_bank(rating: int) -> tuple[str, ...]:
    """What visitors write beside a rating of 1..5."""
    return _GOOD_COMMENTS if rating >= 4 else _MEH_COMMENTS if rating == 3 else _BAD_COMMENTS


def _seed_notifiers(state: SandboxState, p: Profile, rng: random.Random) -> None:
    for platform in PLATFORMS:
        url: str | None = None
        events: list[str] = []
        if p.key == "a" and platform == "slack":
            secret = "".join(rng.choice(_ALNUM) for _ in range(24))
            url = f"https://hooks.slack.com/services/T04ACME01/B07SANDBOX/{secret}"
            events = ["handoff", "feedback"]
        state.notifiers[(p.site_id, platform)] = NotifierSettings(
            site_id=p.site_id, platform=platform, webhook_url=url, events=events
        )
