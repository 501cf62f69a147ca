"""Settings from the environment: LOG_LEVEL, PORT and DISCORD_GUILD_IDS are checked."""

from __future__ import annotations

import pytest

from bot.cli import main
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


@pytest.mark.parametrize(
    "raw", ["²", "٣٠٠٠", "３０００", "0", "65536", "99999999999999999999", "-1", "30_00", "3e3"]
)
def test_a_port_is_ascii_digits_from_1_to_65535(raw: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"PORT": raw})
    assert str(raised.value) == f"PORT must be a port number from 1 to 65535, not {raw!r}"


@pytest.mark.parametrize(("raw", "port"), [("8080", 8080), (" 65535 ", 65535), ("", 3000)])
def test_a_port_in_range_is_used(raw: str, port: int) -> None:
    assert Settings.from_env({"PORT": raw}).port == port


def test_a_unicode_digit_port_stops_the_bot_with_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", "²")

    status = main(["slack"])

    err = capsys.readouterr().err
    assert status == 2
    assert err == "mlc-bot: PORT must be a port number from 1 to 65535, not '²'\n"


@pytest.mark.parametrize("raw", ["²", "12,٣", "0", "1" * 25, "123,abc", "-5"])
def test_discord_guild_ids_are_ascii_digit_snowflakes(raw: str) -> None:
    with pytest.raises(ConfigError, match="DISCORD_GUILD_IDS must be comma-separated numeric"):
        Settings.from_env({"DISCORD_GUILD_IDS": raw})


def test_discord_guild_ids_are_read_as_numbers() -> None:
    settings = Settings.from_env({"DISCORD_GUILD_IDS": " 222 , 111,, 9223372036854775807"})
    assert sorted(settings.discord_guild_ids) == [111, 222, 9223372036854775807]
