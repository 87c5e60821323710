"""Typed settings from the environment or `.env`, with secrets kept out of logs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.shards import Shards, parse_shard_ids
from bot.store.engine import redact_url

SETUP_HELP = (
    "DISCORD_TOKEN is not set. Create a bot at https://discord.com/developers/applications "
    "(your app → Bot → Reset Token), then put DISCORD_TOKEN=<token> in .env next to the Makefile "
    "(copy .env.example) or in the environment."
)

DEFAULT_MODEL = "gpt-4o-mini"


class Settings(BaseSettings):
    """Everything the operator can set; see `.env.example` for each field."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = None
    discord_api_base: AnyHttpUrl | None = None
    database_path: Path = Path("data/bookclub.db")
    # sqlite:///path or postgresql://user:password@host/db; when set, it wins over DATABASE_PATH. A secret: the
    # URL may carry the password.
    database_url: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    openai_base_url: AnyHttpUrl | None = None
    openai_model: str = Field(default=DEFAULT_MODEL, min_length=1)
    openlibrary_base_url: AnyHttpUrl = AnyHttpUrl("https://openlibrary.org")
    dev_guild_id: int | None = Field(default=None, gt=0)
    message_content_intent: bool = False
    # Feeds on loopback or private networks are refused unless the operator opts in (tests serve feeds locally).
    feed_allow_private_addresses: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # Unset: one process, unsharded. Set: an AutoShardedBot for SHARD_IDS (default all) of SHARD_COUNT shards.
    shard_count: int | None = Field(default=None, ge=1)
    # Read as `0,1` or `0-3`, not as JSON.
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url", mode="after")
    @classmethod
    def _known_engine(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("sqlite:///", "postgresql://", "postgres://")
        ):
            # Never echoes the value: it may carry a password.
            raise ValueError("must start with sqlite:/// (a file) or postgresql:// (a server)")
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_list(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_shard_ids(value) if value.strip() else None
        return value

    @field_validator("shard_ids")
    @classmethod
    def _shards_of_the_count(cls, value: tuple[int, ...] | None, info: ValidationInfo) -> tuple[int, ...] | None:
        if value is None or "shard_count" not in info.data:
            return value  # unset, or SHARD_COUNT is itself wrong and says so
        count = info.data["shard_count"]
        if count is None:
            raise ValueError("needs SHARD_COUNT, the total number of shards across every process")
        if outside := [shard for shard in value if shard >= count]:
            raise ValueError(f"shard {outside[0]} does not exist with SHARD_COUNT={count} (shards are 0 to "
                             f"{count - 1})")
        return value

    @field_validator("discord_token", "openai_api_key", "dev_guild_id", "discord_api_base", "openai_base_url",
                     "database_url", "shard_count", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def database(self) -> Path | str:
        """What the store opens: DATABASE_URL when set, else the SQLite file at DATABASE_PATH."""
        return self.database_url.get_secret_value() if self.database_url is not None else self.database_path

    @property
    def database_name(self) -> str:
        """The database as messages name it: the file, or the URL without its password."""
        database = self.database
        if isinstance(database, Path):
            return str(database)
        return redact_url(database)

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite file the bot keeps its data in, or None on a PostgreSQL server."""
        database = self.database
        if isinstance(database, Path):
            return database
        return Path(database.removeprefix("sqlite:///")) if database.startswith("sqlite:///") else None

    @property
    def api_base(self) -> str | None:
        """The Discord REST base without a trailing slash, when pointed elsewhere."""
        return str(self.discord_api_base).rstrip("/") if self.discord_api_base else None

    @property
    def openlibrary_base(self) -> str:
        return str(self.openlibrary_base_url).rstrip("/")

    @property
    def shards(self) -> Shards | None:
        """The shards this process runs, or None for one unsharded process."""
        if self.shard_count is None:
            return None
        return Shards(self.shard_count, self.shard_ids) if self.shard_ids else Shards.all_of(self.shard_count)

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]


def describe_errors(error: ValidationError) -> list[str]:
    """One line per bad field, naming the environment variable and never echoing its value."""
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "settings"
        lines.append(f"{field.upper()}: {item['msg']}")
    return lines
