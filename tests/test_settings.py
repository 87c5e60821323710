"""The shard settings as an operator writes them: a range of shards for this process, or a one-line refusal."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.domain.shards import Shards
from bot.settings import Settings, describe_errors
from tests.test_main import run_bot


def settings(**env: str) -> Settings:
    return Settings(_env_file=None, **env)  # pyright: ignore[reportCallIssue]


def errors(**env: str) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        settings(**env)
    return describe_errors(raised.value)


def test_without_shard_settings_the_bot_is_one_unsharded_process() -> None:
    assert settings().shards is None
    assert settings(shard_count="", shard_ids="").shards is None


def test_a_shard_count_alone_runs_every_shard_in_this_process() -> None:
    shards = settings(shard_count="4").shards
    assert shards == Shards(4, (0, 1, 2, 3))
    assert str(shards) == "shards 0,1,2,3 of 4"


def test_shard_ids_take_lists_and_ranges() -> None:
    assert settings(shard_count="8", shard_ids="0-2, 5").shards == Shards(8, (0, 1, 2, 5))
    assert settings(shard_count="2", shard_ids="1").shards == Shards(2, (1,))


@pytest.mark.parametrize(("env", "says"), [
    ({"shard_ids": "0,1"}, "needs SHARD_COUNT"),
    ({"shard_count": "2", "shard_ids": "0,2"}, "shard 2 does not exist with SHARD_COUNT=2"),
    ({"shard_count": "4", "shard_ids": "1,0-2"}, "shard 1 is listed twice"),
    ({"shard_count": "4", "shard_ids": "one"}, "'one' is not a shard number"),
    ({"shard_count": "4", "shard_ids": "3-1"}, "runs backwards"),
    ({"shard_count": "4", "shard_ids": "-1"}, "is not a shard number"),
])
def test_bad_shard_ids_are_refused_naming_the_variable(env: dict[str, str], says: str) -> None:
    (line,) = errors(**env)
    assert line.startswith("SHARD_IDS: ") and says in line


def test_a_shard_count_below_one_is_refused() -> None:
    (line,) = errors(shard_count="0")
    assert line.startswith("SHARD_COUNT: ")


def test_the_bot_refuses_to_start_on_bad_shard_ids_in_one_line(tmp_path: Path) -> None:
    result = run_bot(env={"DISCORD_TOKEN": "token", "SHARD_COUNT": "2", "SHARD_IDS": "0,2"}, cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Invalid setting SHARD_IDS: ") and "SHARD_COUNT=2" in line
