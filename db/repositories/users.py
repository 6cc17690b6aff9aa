"""People: looked up by Telegram id, id, phone or username; their profile fields and bans."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import rowcount
from db.models import Order, OrderStatus, Ticket, TicketStatus, User
from db.repositories.orders import bare_update


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_telegram_id(self, telegram_id: int) -> User | None:
        return (await self.session.execute(select(User).where(User.telegram_id == telegram_id))).scalar_one_or_none()

    async def by_id(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def current(self, user_id: int) -> User | None:
        """The account as it is now in the database."""
        return await self.session.get(User, user_id, populate_existing=True)

    async def by_ids(self, user_ids: Sequence[int]) -> dict[int, User]:
        """Accounts by id (to tell them what a sweep did)."""
        if not user_ids:
            return {}
        query = select(User).where(User.id.in_(user_ids)).execution_options(populate_existing=True)
        return {user.id: user for user in (await self.session.execute(query)).scalars()}

    async def by_phone(self, phone_e164: str) -> User | None:
        return (await self.session.execute(select(User).where(User.phone_e164 == phone_e164))).scalar_one_or_none()

    async def by_username(self, username: str) -> User | None:
        query = select(User).where(func.lower(User.username) == username.lower())
        return (await self.session.execute(query)).scalar_one_or_none()

    async def add(self, user: User) -> User:
        """Raises IntegrityError (and leaves the surrounding transaction usable) on a taken phone or id."""
        async with self.session.begin_nested():
            self.session.add(user)
        return user

    async def set_full_name(self, user_id: int, full_name: str) -> None:
        await self.session.execute(update(User).where(User.id == user_id).values(full_name=full_name))

    async def set_profile_fields(self, user_id: int, *, username: str | None, language: str) -> None:
        await self.session.execute(
            update(User).where(User.id == user_id).values(username=username, language=language, blocked_bot=False)
        )

    async def set_banned(self, user_id: int, banned: bool) -> bool:
        """True when the flag changed (a second ban of the same user changes nothing)."""
        statement = bare_update(User).where(User.id == user_id, User.is_banned.is_(not banned)).values(is_banned=banned)
        return rowcount(await self.session.execute(statement)) == 1

    async def mark_blocked_bot(self, telegram_id: int) -> None:
        await self.session.execute(update(User).where(User.telegram_id == telegram_id).values(blocked_bot=True))

    async def count(self) -> int:
        return int((await self.session.execute(select(func.count(User.id)))).scalar_one())

    async def stats(self, user_id: int) -> tuple[int, int, int]:
        """(tickets listed, tickets sold, tickets bought) for the profile."""
        listed = select(func.count(Ticket.id)).where(Ticket.seller_id == user_id).scalar_subquery()
        sold = (
            select(func.count(Ticket.id))
            .where(Ticket.seller_id == user_id, Ticket.status == TicketStatus.SOLD)
            .scalar_subquery()
        )
        bought = (
            select(func.count(Order.id))
            .where(Order.buyer_id == user_id, Order.status == OrderStatus.PAID)
            .scalar_subquery()
        )
        row = (await self.session.execute(select(listed, sold, bought))).one()
        return int(row[0]), int(row[1]), int(row[2])
