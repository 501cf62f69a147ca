"""Settings from the environment: LOG_LEVEL is checked, normalised and known to be given."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, Settings


@pytest.mark.parametrize("raw", ["verbose", "trace", "10", "WARN ING", "info,debug"])
def test_a_bad_log_level_is_a_config_error_naming_the_choices(raw: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"LOG_LEVEL": raw})
    assert str(raised.value) == (
        f"LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not {raw!r}"
    )


@pytest.mark.parametrize(
    ("raw", "level"),
    [("debug", "DEBUG"), (" Warning ", "WARNING"), ("ERROR", "ERROR"), ("critical", "CRITICAL")],
)
def test_a_log_level_is_upper_cased_and_marked_as_given(raw: str, level: str) -> None:
    settings = Settings.from_env({"LOG_LEVEL": raw})
    assert settings.log_level == level and settings.log_level_given


@pytest.mark.parametrize("env", [{}, {"LOG_LEVEL": ""}, {"LOG_LEVEL": "   "}])
def test_no_log_level_means_info_not_given(env: dict[str, str]) -> None:
    settings = Settings.from_env(env)
    assert settings.log_level == "INFO" and not settings.log_level_given


def test_settings_built_in_code_are_checked_too() -> None:
    assert Settings(log_level="debug").log_level == "DEBUG"
    with pytest.raises(ConfigError, match="not 'loud'"):
        Settings(log_level="loud")
