"""Registration rules: own contact only, one account per phone and per Telegram id, E.164, masking."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_sessionmaker
from db.repo import Repo
from services import accounts
from services.errors import DomainError

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def share(sender: int, phone: str = "79161234567", contact_user: int | None = None) -> accounts.ContactShare:
    return accounts.ContactShare(
        sender_id=sender,
        contact_user_id=sender if contact_user is None else contact_user,
        phone=phone,
        first_name="Anna",
        last_name="Petrova",
        username="anna",
        language="ru",
    )


async def test_register_and_profile(repo: Repo) -> None:
    user = await accounts.register(repo, share(1), NOW)
    assert user.phone_e164 == "+79161234567"
    assert user.full_name == "Anna Petrova"
    card = await accounts.profile(repo, user)
    assert card.masked_phone == "+7 *** *** 45 67"
    assert (card.listed, card.sold, card.bought) == (0, 0, 0)
    assert card.member_since == NOW


async def test_register_is_idempotent_for_the_same_sender(repo: Repo) -> None:
    first = await accounts.register(repo, share(1), NOW)
    again = await accounts.register(repo, share(1, phone="+7 916 123-45-67"), NOW)
    assert again.id == first.id
    assert await repo.users.count() == 1


@pytest.mark.parametrize(
    ("the_share", "code"),
    [
        (share(1, contact_user=2), "reg-not-own-contact"),
        (accounts.ContactShare(1, None, "79161234567", "A", None, None, "en"), "reg-not-own-contact"),
        (share(1, phone="12"), "reg-phone-invalid"),
    ],
)
async def test_refusals_change_nothing(repo: Repo, the_share: accounts.ContactShare, code: str) -> None:
    with pytest.raises(DomainError) as error:
        await accounts.register(repo, the_share, NOW)
    assert error.value.code == code
    assert await repo.users.count() == 0


async def test_one_account_per_phone(repo: Repo) -> None:
    await accounts.register(repo, share(1), NOW)
    with pytest.raises(DomainError, match="reg-phone-taken"):
        await accounts.register(repo, share(2), NOW)
    assert await repo.users.count() == 1


async def test_rename_rules(repo: Repo) -> None:
    user = await accounts.register(repo, share(1), NOW)
    assert await accounts.rename(repo, user, "  Анна   Петрова ") == "Анна Петрова"
    refusals = [("A", "profile-name-length"), ("x" * 129, "profile-name-length"), ("Ann\x00a", "profile-name-invalid")]
    for bad, code in refusals:
        with pytest.raises(DomainError, match=code):
            await accounts.rename(repo, user, bad)
    assert (await repo.users.by_id(user.id)).full_name == "Анна Петрова"  # type: ignore[union-attr]


@given(st.sampled_from(["RU", "DE", "US", "GB", "KZ", "GE"]), st.integers(min_value=0, max_value=10**6))
def test_masked_phone_hides_all_but_country_and_last_four(region: str, salt: int) -> None:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    e164 = e164[:-4] + f"{salt % 10000:04d}"
    masked = accounts.mask_phone(accounts.normalise_phone(e164.lstrip("+")))
    national = str(example.national_number)
    assert masked.startswith(f"+{example.country_code} ")
    assert masked.replace(" ", "").endswith(e164[-4:])
    assert sum(ch.isdigit() for ch in masked) == len(str(example.country_code)) + 4
    assert masked.count("*") == len(national) - 4


async def test_the_same_contact_twice_at_once_makes_one_account(engine: AsyncEngine) -> None:
    """A double press: two updates race; the loser gets the winner's account, not "phone taken"."""
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as first, sessionmaker() as second:
        winner = await accounts.register(Repo(first), share(7), NOW)  # inserted, not committed yet
        loser = asyncio.create_task(accounts.register(Repo(second), share(7), NOW))
        await asyncio.sleep(0.2)  # the second insert waits on the first one's lock (PostgreSQL) or connection
        await first.commit()
        again = await loser
        assert again.id == winner.id
        await second.commit()
    async with sessionmaker() as session:
        assert await Repo(session).users.count() == 1


@given(st.text(alphabet=st.sampled_from("+0123456789 ()-x"), max_size=20))
def test_any_phone_text_is_refused_or_normalised_to_e164(raw: str) -> None:
    try:
        phone = accounts.normalise_phone(raw)
    except DomainError as error:
        assert error.code == "reg-phone-invalid"
        return
    assert phone.startswith("+") and phone[1:].isdigit() and len(phone) <= 16
    assert accounts.normalise_phone(phone) == phone
    assert accounts.normalise_phone(phone.lstrip("+")) == phone


@given(st.text(max_size=200))
def test_any_name_is_refused_or_cleaned(raw: str) -> None:
    try:
        name = accounts.clean_full_name(raw)
    except DomainError as error:
        assert error.code in {"profile-name-invalid", "profile-name-length"}
        return
    assert 2 <= len(name) <= accounts.NAME_MAX
    assert name == name.strip() and "  " not in name and not accounts.CONTROL_CHARS.search(name)
    assert accounts.clean_full_name(name) == name
