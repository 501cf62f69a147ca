"""``kill -9`` of one of two schedulers in the middle of a burst: digests lost and repeated.

Run: ``.venv/bin/python benchmarks/digest_crash.py [--runs 4] [--digests 50]
[--database sqlite|postgresql] [--kill build|posting] [--platform slack|discord]``

Each run is the scenario of ``tests/digests/test_crash.py`` (``tests/digests/crash.py``):
two real ``mlc-bot scheduler`` processes on one fresh database, ``--digests`` digests due
at once, one channel each, and a SIGKILL of the scheduler holding the most claims, either
while the digests are being built (``build``) or while its posts are on the wire
(``posting``: the platform has the request and creates the message; the killed process
never hears back). A channel that shows no digest counts as lost; each extra copy counts
as duplicated. Leases are 4 s here (60 s in production), so "recovery" (kill to the last
claim finished) is about one lease plus the time to build and post.

Every scenario must lose 0 and duplicate 0 (exit 1 otherwise). One more row, on Slack
with the history scopes missing (the app as ``slack/manifest.yml`` installs it today), has
no such target: ``chat.postMessage`` has no idempotency key and the bot cannot look in the
channel, so every post on the wire at the kill may show twice. Its bound is those posts.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.databases import scratch_database
from tests.digests.crash import CrashRun, Kill, Platform, run_crash


@dataclass(frozen=True)
class Scenario:
    platform: Platform
    kill: Kill
    slack_history: bool = True
    target: bool = True
    """Whether it must lose 0 and duplicate 0 (else: duplicates at most the posts on the wire)."""

    @property
    def name(self) -> str:
        moment = "building" if self.kill == "build" else "posting"
        extra = ", no history scope" if not self.slack_history else ""
        return f"{self.platform}, kill while {moment}{extra}"


SCENARIOS = (
    Scenario("slack", "build"),
    Scenario("discord", "build"),
    Scenario("slack", "posting"),
    Scenario("discord", "posting"),
    Scenario("slack", "posting", slack_history=False, target=False),
)


@dataclass
class Tally:
    runs: list[CrashRun] = field(default_factory=list)

    @property
    def digests(self) -> int:
        return sum(r.digests for r in self.runs)

    @property
    def lost(self) -> int:
        return sum(r.lost for r in self.runs)

    @property
    def duplicated(self) -> int:
        return sum(r.duplicated for r in self.runs)

    @property
    def held(self) -> int:
        return sum(r.held_at_kill for r in self.runs)

    @property
    def on_the_wire(self) -> int:
        return sum(r.posting_at_kill for r in self.runs)


async def one_run(database: str, scenario: Scenario, digests: int) -> CrashRun:
    with tempfile.TemporaryDirectory() as folder:
        async with scratch_database(database, Path(folder)) as url:
            return await run_crash(
                url,
                Path(folder),
                platform=scenario.platform,
                kill=scenario.kill,
                digests=digests,
                slack_history=scenario.slack_history,
            )


async def measure(databases: list[str], scenarios: list[Scenario], runs: int, digests: int) -> int:
    ok = True
    print(f"{runs} run(s) x {digests} digests per scenario and database; 2 schedulers each")
    for database in databases:
        for scenario in scenarios:
            tally = Tally()
            for n in range(runs):
                run = await one_run(database, scenario, digests)
                tally.runs.append(run)
                print(
                    f"  {database:<10} {scenario.name:<44} run {n + 1}: killed one holding "
                    f"{run.held_at_kill} ({run.posting_at_kill} posting), lost {run.lost}, "
                    f"duplicated {run.duplicated}, recovery {run.recovery:.1f} s",
                    flush=True,
                )
            if scenario.target:
                passed = tally.lost == 0 and tally.duplicated == 0
                bound = "target 0 lost, 0 duplicated"
            else:
                passed = tally.lost == 0 and tally.duplicated <= tally.on_the_wire
                bound = f"no target; bound: {tally.on_the_wire} posts on the wire at the kills"
            ok = ok and passed
            print(
                f"{database:<10} {scenario.name:<44} {tally.lost} lost, {tally.duplicated} "
                f"duplicated of {tally.digests} ({tally.held} held by the killed scheduler)"
                f"   ({bound}) {'ok' if passed else 'FAIL'}",
                flush=True,
            )
    print("result                " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--digests", type=int, default=50)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--kill", choices=["build", "posting"], action="append")
    parser.add_argument("--platform", choices=["slack", "discord"], action="append")
    args = parser.parse_args()
    scenarios = [
        s
        for s in SCENARIOS
        if (not args.kill or s.kill in args.kill)
        and (not args.platform or s.platform in args.platform)
    ]
    databases = args.database or ["sqlite", "postgresql"]
    return asyncio.run(measure(databases, scenarios, args.runs, args.digests))


if __name__ == "__main__":
    sys.exit(main())
