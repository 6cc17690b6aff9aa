"""The database session of the update being handled, for code that can't take it as an argument
(the FSM storage), so that state changes commit or roll back together with the handler's writes."""

from __future__ import annotations

from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncSession

current_session: ContextVar[AsyncSession | None] = ContextVar("current_session", default=None)
