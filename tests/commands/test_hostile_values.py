"""Every declared parameter of every command, driven with hostile values: never an internal error.

Out-of-range, huge and negative numbers, Unicode digits, control characters, NUL, bidi marks,
very long values, empty values, quotes and ``--`` options go in as command text (through
``Dispatcher.run_text``, as Slack and the console send it) and as typed values (through
``Dispatcher.run``, as Discord sends them), against a real sandbox and a real digest database.
No reply may be an internal error or show a traceback, and nothing may be logged at ERROR.

The commands and parameters come from ``default_catalog()``: a new one is covered as soon as
it is declared. ``benchmarks/fuzz_commands.py`` runs the same checks on 10,000+ texts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.reply import Failure
from commands.spec import Command

from .hostile import (
    COMMANDS,
    CORE_TEXT,
    CORE_TYPED,
    HOSTILE_TEXT_VALUES,
    HOSTILE_VALUES,
    Bench,
    as_text,
    base_raw,
    bench,
)


@pytest.fixture
async def fuzz(tmp_path: Path) -> AsyncIterator[Bench]:
    async with bench(tmp_path) as fuzz_bench:
        yield fuzz_bench


def test_every_command_has_an_example_that_binds_and_parameters_to_fuzz() -> None:
    # The fuzzing starts from each command's first example: it must parse.
    assert len(COMMANDS) >= 30
    params = [(c.name, p.name) for c in COMMANDS for p in c.params]
    assert len(params) >= 50
    for command in COMMANDS:
        base_raw(command)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
async def test_each_parameter_refuses_each_kind_of_hostile_value_with_a_friendly_reply(
    fuzz: Bench, command: Command
) -> None:
    base = base_raw(command)
    assert (await fuzz.typed(command, base)).failure is not Failure.USAGE  # the base binds
    for param in command.params:
        for value in CORE_TEXT + CORE_TYPED:
            raw = {**base, param.name: value}
            await fuzz.typed(command, raw)
            await fuzz.text(as_text(command, raw))
        await fuzz.text(as_text(command, {**base, param.name: CORE_TEXT[4]}, quote=False))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_generated_hostile_values_never_reach_an_internal_error(
    fuzz: Bench, command: Command, data: st.DataObject
) -> None:
    # One sandbox and database per command, shared by its examples: commands may change
    # them, which is fine here.
    names = [p.name for p in command.params]
    hostile = (
        data.draw(st.dictionaries(st.sampled_from(names), HOSTILE_VALUES, max_size=3))
        if names
        else {}
    )
    raw = {**base_raw(command), **hostile}
    await fuzz.typed(command, raw)

    extra = data.draw(st.lists(HOSTILE_TEXT_VALUES, max_size=2))
    text = " ".join([as_text(command, raw, quote=data.draw(st.booleans())), *extra])
    await fuzz.text(text)
