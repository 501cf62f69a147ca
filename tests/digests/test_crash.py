"""``kill -9`` of one of two real scheduler processes in the middle of a burst of digests.

Each run starts two ``mlc-bot scheduler`` processes (``tests/digests/scheduler_process``)
on one database, makes 30 digests due at once, each for its own channel, and kills with
SIGKILL the scheduler that holds the most claims, either while the digests are being
built (the sandbox answers slowly) or while its posts are on the wire (the platform
answers slowly: it has the request and creates the message, the killed process never
hears back). The survivor must send every digest the dead one held, and every channel
must show its digest exactly once. ``benchmarks/digest_crash.py`` repeats it and prints
the counts.
"""

from __future__ import annotations

from pathlib import Path

from .crash import CrashRun, Kill, Platform, run_crash

DIGESTS = 30


async def crash(database_url: str, tmp_path: Path, platform: Platform, kill: Kill) -> CrashRun:
    """The crash run; it lost and repeated nothing: every channel shows its digest once."""
    run = await run_crash(database_url, tmp_path, platform=platform, kill=kill, digests=DIGESTS)
    # The scenario happened as described: the dead scheduler held claims when it died,
    # and the survivor said, for each of them, that it took it over.
    assert run.held_at_kill >= 1, run
    assert run.retakes == run.held_at_kill, run.survivor_log
    assert run.statuses == {"posted": DIGESTS}, run.statuses
    lost = sorted(channel for channel, n in run.copies.items() if n == 0)
    twice = sorted(channel for channel, n in run.copies.items() if n > 1)
    assert (lost, twice) == ([], []), f"lost {lost}, shown more than once {twice}"
    return run


async def crash_while_posting(database_url: str, tmp_path: Path, platform: Platform) -> CrashRun:
    """:func:`crash` with posts of the dead one's on the wire, each taken over again."""
    run = await crash(database_url, tmp_path, platform, "posting")
    assert run.posting_at_kill >= 1 and run.retakes_after_posting == run.posting_at_kill
    return run


async def test_a_scheduler_killed_while_building_loses_and_repeats_nothing(
    database_url: str, tmp_path: Path
) -> None:
    run = await crash(database_url, tmp_path, "slack", "build")
    assert run.posting_at_kill == 0  # nothing of the dead one's had gone out


async def test_a_scheduler_killed_while_posting_to_discord_loses_and_repeats_nothing(
    database_url: str, tmp_path: Path
) -> None:
    run = await crash_while_posting(database_url, tmp_path, "discord")
    # Discord had some of the dead one's posts: the survivor sent them again, with the
    # same nonce, and Discord answered with the first message instead of a second one.
    assert run.repeats_dropped >= 1


async def test_a_scheduler_killed_while_posting_to_slack_loses_and_repeats_nothing(
    database_url: str, tmp_path: Path
) -> None:
    run = await crash_while_posting(database_url, tmp_path, "slack")
    # Slack had some of the dead one's posts: the survivor found them in the channel's
    # history (by their metadata) and recorded them as posted instead of posting again.
    assert run.found_in_channel >= 1
