"""Settings from the environment: every value checked, every problem reported at once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import REQUIREMENTS, ConfigError, Required, Settings
from bot.envfile import load_env_file
from bot.secrets import redact
from bot.storage.urls import async_database_url


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
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "PORT": "²",
        "MLC_API_TOKEN": "mlc_test_token",
        "SLACK_BOT_TOKEN": "xoxb-1-2-test",
        "SLACK_SIGNING_SECRET": "test-signing-secret",
    }.items():
        monkeypatch.setenv(name, value)

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


# -- everything at once -----------------------------------------------------------------------


def test_every_malformed_value_is_one_problem_of_one_error_naming_its_variable() -> None:
    env = {
        "PORT": "x",
        "LOG_LEVEL": "loud",
        "MLC_API_TIMEOUT": "-1",
        "DISCORD_GUILD_IDS": "abc",
        "MLC_BOT_TZ": "Nowhere/Special",
        "DATABASE_URL": "mysql://u:p@h/db",
        "MLC_API_URL": "www.mylivechat.com",
        "SLACK_API_URL": "slack",
        "SLACK_APP_ID": "app",
    }
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)

    assert sorted(p.variable or "" for p in raised.value.problems) == sorted(env)
    assert str(raised.value).count("\n") == len(env) - 1


def test_missing_and_malformed_settings_come_in_the_same_error() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"PORT": "x"}, require=REQUIREMENTS["slack"])

    assert [p.variable for p in raised.value.problems] == [
        "PORT",
        "MLC_API_TOKEN",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
    ]


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, ["MLC_API_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]),
        ({"SLACK_APP_TOKEN": "xapp-1"}, ["MLC_API_TOKEN", "SLACK_BOT_TOKEN"]),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, ["MLC_API_TOKEN"]),
        ({"MLC_API_TOKEN": "mlc_1", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "x"}, []),
    ],
)
def test_slack_needs_a_signing_secret_only_over_http(
    env: dict[str, str], missing: list[str]
) -> None:
    settings = Settings.from_env(env)
    if not missing:
        settings.require(*REQUIREMENTS["slack"])
        return
    with pytest.raises(ConfigError) as raised:
        settings.require(*REQUIREMENTS["slack"])
    assert [p.variable for p in raised.value.problems] == missing


@pytest.mark.parametrize(
    ("env", "ok"),
    [({}, False), ({"SLACK_BOT_TOKEN": "xoxb-1"}, True), ({"DISCORD_TOKEN": "d"}, True)],
)
def test_the_scheduler_needs_one_platform_or_the_other(env: dict[str, str], ok: bool) -> None:
    settings = Settings.from_env({"MLC_API_TOKEN": "mlc_1", **env})
    if ok:
        settings.require(*REQUIREMENTS["scheduler"])
        return
    with pytest.raises(ConfigError, match=r"^neither SLACK_BOT_TOKEN nor DISCORD_TOKEN is set"):
        settings.require(*REQUIREMENTS["scheduler"])


def test_a_blank_value_counts_as_missing() -> None:
    with pytest.raises(ConfigError, match=r"^MLC_API_TOKEN is not set: the MyLiveChat site token"):
        Settings.from_env({"MLC_API_TOKEN": "   "}, require=[Required(("MLC_API_TOKEN",))])


# -- DATABASE_URL -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///mlc-bot.db",
        "sqlite:////var/lib/bot.db",
        "postgresql://bot:pw@db:5432/bot",
        "postgres://bot@db/bot",
        "postgresql+asyncpg://bot@db/bot",
        "sqlite+aiosqlite:///x.db",
        "POSTGRESQL://bot@db/bot",
    ],
)
def test_sqlite_and_postgresql_urls_are_accepted(url: str) -> None:
    assert Settings.from_env({"DATABASE_URL": url}).database_url == url
    async_database_url(url)  # and the storage layer takes them


@pytest.mark.parametrize(
    "scheme",
    ["mysql", "mysql+pymysql", "mssql", "oracle", "postgresql+psycopg2", "sqlite+pysqlite"],
)
def test_an_unsupported_database_is_named_with_the_supported_ones(scheme: str) -> None:
    url = f"{scheme}://bot:hunter2-pw@db/bot"
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"DATABASE_URL": url})
    message = str(raised.value)
    assert message.startswith(f"DATABASE_URL names {scheme}://, which mlc-bot does not support")
    assert "sqlite:///" in message and "postgresql://" in message
    assert "hunter2-pw" not in message
    with pytest.raises(ValueError, match="does not support"):
        async_database_url(url)


@pytest.mark.parametrize(
    "url", ["garbage", "hunter2-pw@db/bot", "://x", "postgresql:/db", "pg sql://x/y"]
)
def test_a_url_that_is_not_a_database_url_says_what_one_looks_like(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"DATABASE_URL": url})
    assert str(raised.value) == (
        "DATABASE_URL must look like sqlite:///mlc-bot.db or"
        " postgresql://user:password@host:5432/dbname"
    )


def test_a_database_port_that_is_not_a_number_is_refused_without_the_password() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"DATABASE_URL": "postgresql://bot:hunter2-pw@db:pg/bot"})
    assert "port that is not a number" in str(raised.value)
    assert "hunter2-pw" not in str(raised.value)


def test_the_database_password_is_redacted_from_then_on() -> None:
    settings = Settings.from_env({"DATABASE_URL": "postgresql://bot:s3cr3t%2Fpass@db/bot"})
    assert "s3cr3t/pass" not in repr(settings)
    assert redact("could not log in with s3cr3t/pass") == "could not log in with ***"


# -- URLs, zones, ids ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["MLC_API_URL", "SLACK_API_URL"])
@pytest.mark.parametrize("raw", ["example.com/api", "ftp://example.com/", "http://", "http://h:x/"])
def test_api_urls_must_be_http_urls(name: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name} must be an http:// or https:// URL"):
        Settings.from_env({name: raw})


def test_a_url_with_credentials_is_not_repeated() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"MLC_API_URL": "ftp://user:hunter2-pw@example.com/"})
    assert "hunter2-pw" not in str(raised.value) and "'ftp://...'" in str(raised.value)


def test_good_urls_zones_and_app_ids_are_kept() -> None:
    settings = Settings.from_env(
        {
            "MLC_API_URL": "http://127.0.0.1:8765/v1/api.ashx",
            "SLACK_API_URL": "https://slack.example/api/",
            "MLC_BOT_TZ": "America/New_York",
            "SLACK_APP_ID": "A0123ABCDEF",
        }
    )
    assert settings.api_url == "http://127.0.0.1:8765/v1/api.ashx"
    assert settings.slack_api_url == "https://slack.example/api/"
    assert settings.timezone == "America/New_York" and settings.slack_app_id == "A0123ABCDEF"


@pytest.mark.parametrize("raw", ["Mars/Base", "../../etc/passwd", "GMT+2", "Europe/"])
def test_an_unknown_time_zone_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"^MLC_BOT_TZ must be a time zone name"):
        Settings.from_env({"MLC_BOT_TZ": raw})


# -- .env -------------------------------------------------------------------------------------


@pytest.fixture
def dotenv_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHON_DOTENV_DISABLED", raising=False)


def test_dotenv_sets_only_what_the_environment_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dotenv_enabled: None
) -> None:
    monkeypatch.setenv("MLC_TEST_REAL", "from the environment")
    monkeypatch.delenv("MLC_TEST_FILE_ONLY", raising=False)
    path = tmp_path / ".env"
    path.write_text(
        "# comment\nexport MLC_TEST_FILE_ONLY='from the file'\nMLC_TEST_REAL=from the file\n"
    )
    try:
        assert load_env_file(path) is True
        assert os.environ["MLC_TEST_FILE_ONLY"] == "from the file"
        assert os.environ["MLC_TEST_REAL"] == "from the environment"
    finally:
        os.environ.pop("MLC_TEST_FILE_ONLY", None)


def test_no_dotenv_file_is_fine(tmp_path: Path, dotenv_enabled: None) -> None:
    assert load_env_file(tmp_path / ".env") is False


def test_dotenv_can_be_switched_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_DOTENV_DISABLED", "1")
    (tmp_path / ".env").write_text("this is junk\n")
    assert load_env_file(tmp_path / ".env") is False


def test_dotenv_lines_that_are_not_settings_are_named_and_nothing_is_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dotenv_enabled: None
) -> None:
    monkeypatch.delenv("MLC_TEST_FIRST", raising=False)
    path = tmp_path / ".env"
    path.write_text("MLC_TEST_FIRST=1\nnot a setting\nMLC_TEST_SECOND=2\n'unclosed\n")
    with pytest.raises(ConfigError) as raised:
        load_env_file(path)
    assert str(raised.value) == (
        f"{path} lines 2, 4 are not NAME=value: fix, or make a comment with #"
    )
    assert "MLC_TEST_FIRST" not in os.environ


def test_a_dotenv_that_cannot_be_read_says_so(tmp_path: Path, dotenv_enabled: None) -> None:
    (tmp_path / ".env").mkdir()
    with pytest.raises(ConfigError, match=r"\.env cannot be read \(IsADirectoryError\)"):
        load_env_file(tmp_path / ".env")
