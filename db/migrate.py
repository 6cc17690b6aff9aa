"""Upgrade the schema to Alembic's head, from the bot's start-up or `python -m bot migrate`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parents[1]


# Schema that migrations create by hand and the models do not describe (migration 0006): SQLite's FTS5 search
# table with its shadow tables, PostgreSQL's trigram index.
_HAND_MADE_TABLE = "tickets_fts"
_HAND_MADE_INDEX = "ix_tickets_name_trgm"


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic's filter: autogenerate and the drift test leave the hand-made search index alone."""
    if type_ == "table":
        return not (name or "").startswith(_HAND_MADE_TABLE)
    return not (type_ == "index" and name == _HAND_MADE_INDEX)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["configure_logger"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> list[str]:
    config = alembic_config(connection)
    before = MigrationContext.configure(connection).get_current_heads()
    command.upgrade(config, "head")
    after = MigrationContext.configure(connection).get_current_heads()
    script = ScriptDirectory.from_config(config)
    applied = script.iterate_revisions(after, before or "base")
    return [f"{revision.revision} {revision.doc}" for revision in reversed(list(applied)) if revision.revision]


async def upgrade_to_head(engine: AsyncEngine) -> list[str]:
    """Returns the migrations applied, oldest first ("0004 feed index covers search"); empty when none were due."""
    async with engine.begin() as connection:
        return await connection.run_sync(_upgrade)
