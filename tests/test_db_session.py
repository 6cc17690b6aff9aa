"""The update's session (bot.middlewares.db.DbSessionMiddleware): committed once and only after a write, rolled back
when the handler raises, and closed on the way out whatever happened: its connection back in the pool (SQLite has
one), its objects let go."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.types import TelegramObject
from sqlalchemy import event, inspect, select

from bot.middlewares.db import DbSessionMiddleware
from db.engine import create_engine, create_sessionmaker
from db.models import User
from db.repo import Repo
from tests.conftest import Backend
from tests.factories import make_user

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("handler_does", ["reads", "writes", "speaks after writing", "raises after writing"])
async def test_the_session_is_closed_after_every_update(backend: Backend, handler_does: str) -> None:
    engine = create_engine(backend.database_url)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        known = (await make_user(Repo(session), NOW)).id
        await session.commit()
    commits: list[object] = []
    event.listen(engine.sync_engine, "commit", commits.append)
    held: dict[str, Any] = {}

    async def handler(_event: TelegramObject, data: dict[str, Any]) -> None:
        repo: Repo = data["repo"]
        held["session"] = repo.session  # kept alive here: its objects are let go by the close, not by the collector
        user = held["user"] = await repo.session.get(User, known)  # the transaction begins: the connection is taken
        assert user is not None
        if handler_does != "reads":
            user.first_name = "Changed"
            await repo.session.flush()
        if handler_does == "speaks after writing":
            await repo.session.commit()  # as CommitBeforeSpeaking does: the update ends with no transaction
        if handler_does == "raises after writing":
            raise RuntimeError("handler failed")

    middleware = DbSessionMiddleware(sessionmaker)
    try:
        if handler_does == "raises after writing":
            with pytest.raises(RuntimeError):
                await middleware(handler, TelegramObject(), {})
        else:
            await middleware(handler, TelegramObject(), {})
        assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert inspect(held["user"]).detached and not held["session"].in_transaction()
        written = handler_does in ("writes", "speaks after writing")
        assert len(commits) == written
        async with sessionmaker() as session:
            name = await session.scalar(select(User.first_name).where(User.id == known))
        assert name == ("Changed" if written else "Anna")
    finally:
        await engine.dispose()
