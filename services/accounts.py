"""Accounts: registration by the user's own phone contact, profile, masking of phones."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from sqlalchemy.exc import IntegrityError

from db.models import User
from db.repo import Repo
from services.errors import DomainError

NAME_MAX = 128
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def normalise_phone(raw: str) -> str:
    """E.164 from what Telegram sends (often without the '+')."""
    digits = raw.strip()
    if not digits.startswith("+"):
        digits = "+" + digits
    try:
        number = phonenumbers.parse(digits, None)
    except phonenumbers.NumberParseException as error:
        raise DomainError("reg-phone-invalid") from error
    if not phonenumbers.is_possible_number(number):
        raise DomainError("reg-phone-invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """+7 *** *** 12 34: the country code and the last four digits only."""
    number = phonenumbers.parse(e164, None)
    national = str(number.national_number)
    tail = national[-4:]
    hidden = max(len(national) - 4, 0)
    stars = " ".join("*" * min(3, hidden - start) for start in range(0, hidden, 3))
    return " ".join(part for part in (f"+{number.country_code}", stars, tail[:2], tail[2:]) if part)


def clean_full_name(text: str) -> str:
    name = " ".join(text.split())
    if CONTROL_CHARS.search(name):
        raise DomainError("profile-name-invalid")
    if not 2 <= len(name) <= NAME_MAX:
        raise DomainError("profile-name-length")
    return name


@dataclass(frozen=True)
class ContactShare:
    sender_id: int
    contact_user_id: int | None
    phone: str
    first_name: str
    last_name: str | None
    username: str | None
    language: str


async def register(repo: Repo, share: ContactShare, now: datetime) -> User:
    """Create the account from the sender's own contact. Idempotent for the same sender and phone."""
    if share.contact_user_id != share.sender_id:
        raise DomainError("reg-not-own-contact")
    phone = normalise_phone(share.phone)
    existing = await repo.users.by_telegram_id(share.sender_id)
    if existing is not None:
        return _same_phone(existing, phone)
    if await repo.users.by_phone(phone) is not None:
        raise DomainError("reg-phone-taken")
    full_name = " ".join(part for part in (share.first_name, share.last_name) if part).strip() or "—"
    account = User(
        telegram_id=share.sender_id,
        phone_e164=phone,
        full_name=full_name[:NAME_MAX],
        first_name=(share.first_name or full_name)[:64],
        username=share.username,
        language=share.language,
        created_at=now,
    )
    try:
        return await repo.users.add(account)
    except IntegrityError as error:  # the same phone or id registered a moment ago by a concurrent update
        existing = await repo.users.by_telegram_id(share.sender_id)
        if existing is not None:  # the same person twice (a double press, a redelivered update)
            return _same_phone(existing, phone)
        raise DomainError("reg-phone-taken") from error


def _same_phone(existing: User, phone: str) -> User:
    if existing.phone_e164 != phone:
        raise DomainError("reg-already-registered-other-phone")
    return existing


@dataclass(frozen=True)
class Profile:
    full_name: str
    masked_phone: str
    listed: int
    sold: int
    bought: int
    member_since: datetime


async def profile(repo: Repo, user: User) -> Profile:
    listed, sold, bought = await repo.users.stats(user.id)
    return Profile(user.full_name, mask_phone(user.phone_e164), listed, sold, bought, user.created_at)


async def rename(repo: Repo, user: User, text: str) -> str:
    name = clean_full_name(text)
    await repo.users.set_full_name(user.id, name)
    user.full_name = name
    return name


async def by_telegram_id(repo: Repo, telegram_id: int) -> User | None:
    return await repo.users.by_telegram_id(telegram_id)


async def by_id(repo: Repo, user_id: int) -> User | None:
    return await repo.users.by_id(user_id)
