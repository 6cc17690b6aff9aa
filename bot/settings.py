"""Every setting of the bot, read from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,64}$")
ASYNC_DRIVERS = frozenset({"sqlite+aiosqlite", "postgresql+asyncpg"})


class DatabaseSettings(BaseSettings):
    """What migrations need: only the database."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True)

    database_url: str = "sqlite+aiosqlite:///data/stroboscope.db"

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            url = None
        if url is None or url.drivername not in ASYNC_DRIVERS:
            raise ValueError("use sqlite+aiosqlite:///path/to/file.db or postgresql+asyncpg://user:password@host/db")
        return value


class Settings(DatabaseSettings):
    bot_token: SecretStr
    telegram_api_url: str | None = None
    redis_url: str | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)

    # Secrets for the barcode: Fernet key (encryption at rest) and HMAC key (fingerprints).
    # When unset, they are generated once into DATA_DIR/secret_keys.json (mode 0600).
    encryption_key: SecretStr | None = None
    fingerprint_key: SecretStr | None = None

    data_dir: Path = Path("data")
    storage_dir: Path | None = None  # default: DATA_DIR/photos
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str = "us-east-1"

    max_markup_percent: int = Field(20, ge=0, le=1000)
    reservation_minutes: int = Field(15, ge=1, le=24 * 60)
    # The anonymous chat: at most CHAT_FLOOD_MESSAGES relayed per person in CHAT_FLOOD_SECONDS; messages kept
    # CHAT_RETENTION_DAYS for disputes, then deleted.
    chat_flood_messages: int = Field(5, ge=1, le=100)
    chat_flood_seconds: int = Field(30, ge=1, le=3600)
    chat_retention_days: int = Field(90, ge=1, le=3650)
    escrow_hours: int = Field(12, ge=0, le=24 * 30)
    offer_minutes: int = Field(10, ge=1, le=24 * 60)  # a waiter's exclusive claim window on a hot event's ticket
    payment_provider_token: SecretStr | None = None
    currency: str = "RUB"
    stars_per_unit: float = Field(0.6, gt=0)
    service_fee_percent: int = Field(0, ge=0, le=100)

    new_account_days: int = Field(7, ge=0)
    new_account_daily_listings: int = Field(3, ge=1)
    max_photo_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    phash_max_distance: int = Field(6, ge=0, le=7)  # the banded near-duplicate search holds up to 7

    throttle_rate: float = Field(3.0, gt=0)  # messages and button presses a second a user may keep up
    throttle_burst: int = Field(10, ge=1)  # ... and how many may come at once
    sweep_interval_seconds: int = Field(60, ge=1)
    polling_timeout: int = Field(30, ge=0, le=50)
    # Updates handled at once (payments never wait for a place); on PostgreSQL each holds a connection, and the pool
    # is this plus DATABASE_POOL_SPARE for the sweeps, the outbox, the reconciler and the health check.
    updates_concurrency: int = Field(32, ge=1)
    database_pool_spare: int = Field(8, ge=1)
    shutdown_timeout: float = Field(20.0, ge=0)  # seconds running updates get to finish on a stop
    outbox_max_attempts: int = Field(8, ge=1)  # failed tries of a delivery before it is dead (an admin may retry)
    outbox_lease_seconds: int = Field(90, ge=5)  # a claimed delivery comes back after this if its worker died
    outbox_poll_seconds: float = Field(5.0, gt=0)  # how often the worker looks for other instances' rows
    reconcile_interval_seconds: int = Field(300, ge=10)  # Telegram's Stars record read at start-up and this often
    log_level: str = "INFO"

    # Webhook mode (`python -m bot webhook`): Telegram POSTs to WEBHOOK_BASE_URL + WEBHOOK_PATH, with WEBHOOK_SECRET.
    webhook_base_url: str | None = None
    webhook_path: str = "/telegram"
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1:8080"

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not TOKEN_RE.match(value.get_secret_value()):
            raise ValueError("BOT_TOKEN must look like 123456789:AA... (get one from @BotFather)")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("it must be an http:// or https:// address, e.g. http://127.0.0.1:8081")
        return value.rstrip("/") if value else value

    @field_validator("webhook_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("it must be the public address Telegram reaches, e.g. https://bot.example.org")
        return value.rstrip("/") if value else value

    @field_validator("webhook_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not re.match(r"^/[A-Za-z0-9/_.-]*$", value):
            raise ValueError("it must be a URL path such as /telegram")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.match(r"^[A-Za-z0-9_-]{1,256}$", value.get_secret_value()):
            raise ValueError("use 1-256 characters A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or int(port) > 65535:
            raise ValueError("it must be host:port, e.g. 127.0.0.1:8080")
        return value

    @property
    def webhook_address(self) -> tuple[str, int]:
        host, _, port = self.webhook_listen.rpartition(":")
        return host.strip("[]"), int(port)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in re.split(r"[,\s]+", value.strip()) if part]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @property
    def uses_stars(self) -> bool:
        return self.payment_provider_token is None

    @cached_property
    def photo_dir(self) -> Path:
        return self.storage_dir or self.data_dir / "photos"
