"""Fuzz every command with generated hostile input: no reply may be an internal error.

Run: ``.venv/bin/python benchmarks/fuzz_commands.py [--texts 12000] [--seed 9]``

Two phases against a real sandbox and a real SQLite digest database, as an admin (so every
command runs, writes included):

1. the declared sweep: every parameter of every command (from ``default_catalog()``) with
   every hostile value of ``tests/commands/hostile.py`` (out of range, huge, negative,
   Unicode digits, control characters, very long, empty, quotes, ``--`` options), as typed
   values (``Dispatcher.run``, what Discord sends) and as command text, quoted and bare;
2. ``--texts`` generated command texts (``Dispatcher.run_text``, what Slack and the console
   send): a random command's first example with one to three parameters replaced by hostile
   or random values (any code point, surrogates included; numbers up to 40 digits; runs of
   one character up to 6,000 long), random quoting, extra words, and now and then text with
   no command at all; each also sent as typed values.

Prints the counts, and exits 1 unless the internal errors, tracebacks in replies and ERROR
log lines found are 0 (the bound).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from commands.reply import Reply
from tests.commands.hostile import (
    COMMANDS,
    HOSTILE_TEXT,
    HOSTILE_TYPED,
    Bench,
    Outcome,
    as_text,
    base_raw,
    bench,
    text_of,
)

BOUND = 0
"""Internal errors, tracebacks and ERROR log lines allowed."""
FRESH_EVERY = 1000
"""Texts per sandbox and database: commands change them, so start again now and then."""
_CATEGORIES_OF_DIGITS = "²³¹٠١٢٣٤٥٦٧٨٩۰۱۲𝟘𝟙𝟚０１２３১২३४Ⅻ½"


def random_value(rng: random.Random) -> Any:
    """One hostile or random value, as a user might type it or an adapter might send it."""
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(HOSTILE_TEXT)
    if roll < 0.55:
        return rng.choice(HOSTILE_TYPED)
    if roll < 0.65:
        return str(rng.randint(-(10**40), 10**40))
    if roll < 0.72:
        return "".join(rng.choice(_CATEGORIES_OF_DIGITS) for _ in range(rng.randint(1, 5)))
    if roll < 0.80:
        return chr(rng.randint(0, 0x10FFFF)) * rng.randint(1, 6000)
    # A short string of any code points, surrogates, controls and private use included.
    return "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(0, 12)))


def generate(rng: random.Random) -> tuple[Any, dict[str, Any], str]:
    """(command, typed values, command text) for one fuzz case."""
    command = rng.choice(COMMANDS)
    raw = base_raw(command)
    names = [p.name for p in command.params]
    for _ in range(rng.randint(1, 3) if names else 0):
        raw[rng.choice(names)] = random_value(rng)
    text = as_text(command, raw, quote=rng.random() < 0.5)
    extra = [text_of(random_value(rng))[:200] for _ in range(rng.choice((0, 0, 0, 1, 2)))]
    text = " ".join([text, *extra])
    roll = rng.random()
    if roll < 0.05:
        text = "/mlc " + text
    elif roll < 0.10:
        text = text.replace("--", "—")  # Slack's em dash for a typed "--"
    elif roll < 0.15:
        text = text_of(random_value(rng))  # no command at all
    return command, raw, text


async def _checked(call: Awaitable[Reply], failures: list[str], kinds: Counter[str]) -> None:
    try:
        reply = await call
    except Outcome as exc:
        failures.append(str(exc))
        kinds["broken"] += 1
    except Exception as exc:  # escaped the dispatcher: the worst outcome
        failures.append(f"raised {exc!r}"[:400])
        kinds["broken"] += 1
    else:
        kinds[reply.failure.value if reply.failure else "ok"] += 1


async def sweep(fuzz: Bench, failures: list[str], kinds: Counter[str]) -> int:
    started = fuzz.checked
    for command in COMMANDS:
        base = base_raw(command)
        for param in command.params:
            for value in HOSTILE_TEXT + HOSTILE_TYPED:
                raw = {**base, param.name: value}
                await _checked(fuzz.typed(command, raw), failures, kinds)
                await _checked(fuzz.text(as_text(command, raw)), failures, kinds)
                await _checked(fuzz.text(as_text(command, raw, quote=False)), failures, kinds)
    return fuzz.checked - started


async def measure(texts: int, seed: int) -> int:
    rng = random.Random(seed)
    failures: list[str] = []
    sweep_kinds: Counter[str] = Counter()
    fuzz_kinds: Counter[str] = Counter()
    typed_kinds: Counter[str] = Counter()
    calls = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        async with bench(Path(directory), "sweep.db") as fuzz:
            swept = await sweep(fuzz, failures, sweep_kinds)
            calls += fuzz.sandbox.count()
        done = 0
        while done < texts:
            async with bench(Path(directory), f"round-{done}.db") as fuzz:
                for _ in range(min(FRESH_EVERY, texts - done)):
                    command, raw, text = generate(rng)
                    await _checked(fuzz.text(text), failures, fuzz_kinds)
                    await _checked(fuzz.typed(command, raw), failures, typed_kinds)
                    done += 1
                calls += fuzz.sandbox.count()
    elapsed = time.perf_counter() - started
    broken = len(failures)

    def outcomes(kinds: Counter[str]) -> str:
        return ", ".join(f"{kind} {n}" for kind, n in kinds.most_common())

    print(f"commands              {len(COMMANDS)}, {sum(len(c.params) for c in COMMANDS)} params")
    print(f"declared sweep        {swept} runs ({outcomes(sweep_kinds)})")
    print(f"fuzzed texts          {done} through Dispatcher.run_text, seed {seed}")
    print(f"  replies             {outcomes(fuzz_kinds)}")
    print(f"typed values          {sum(typed_kinds.values())} through Dispatcher.run")
    print(f"  replies             {outcomes(typed_kinds)}")
    print(f"API calls made        {calls}")
    print(f"elapsed               {elapsed:.1f} s")
    print(f"internal errors       {broken}   (internal, traceback or ERROR log; bound {BOUND})")
    for failure in dict.fromkeys(failures[:20]):
        print(f"  {failure[:300]}")
    ok = broken <= BOUND and done >= texts
    print("result                " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=12_000, help="generated command texts")
    parser.add_argument("--seed", type=int, default=9, help="random seed (the run repeats)")
    args = parser.parse_args()
    return asyncio.run(measure(args.texts, args.seed))


if __name__ == "__main__":
    sys.exit(main())
