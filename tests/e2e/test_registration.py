"""Registration, profile, help and cancel, as people use them: the main flows on every storage stack, the refusals
on the embedded default."""

from __future__ import annotations

import asyncio
import html
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey
from PIL import Image
from sqlalchemy import func, select

from bot.i18n import translate
from db.models import FsmRecord, User
from db.repo import Repo
from sandbox.users import SimulatedUser
from services import accounts
from tests.conftest import Backend
from tests.e2e.conftest import Harness, _harness


def webp() -> bytes:
    """A small real photo (WebP, as phones send nowadays)."""
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), "teal").save(buffer, "WEBP")
    return buffer.getvalue()


def menu(language: str) -> list[list[str]]:
    feed, sell, my, profile, help_ = (
        translate(key, language) for key in ("menu-feed", "menu-sell", "menu-my", "menu-profile", "menu-help")
    )
    return [[feed, sell], [my, profile], [help_]]


def plain(key: str, language: str = "en") -> str:
    """A catalogue text as the person reads it: HTML tags rendered away."""
    return html.unescape(re.sub(r"<[^>]+>", "", translate(key, language)))


async def settled(h: Harness) -> None:
    """Every update delivered so far is handled and its transaction over (answers go out before the commit)."""
    assert h.app is not None
    await h.emu.wait_idle()
    while tasks := set(h.app.dispatcher._handle_update_tasks):
        await asyncio.gather(*tasks, return_exceptions=True)


async def account(h: Harness, telegram_id: int) -> User | None:
    await settled(h)
    assert h.app is not None
    async with h.app.sessionmaker() as session:
        return await Repo(session).users.by_telegram_id(telegram_id)


async def account_count(h: Harness) -> int:
    await settled(h)
    assert h.app is not None
    async with h.app.sessionmaker() as session:
        return await Repo(session).users.count()


async def fsm_state(h: Harness, person: SimulatedUser) -> str | None:
    await settled(h)
    assert h.app is not None
    key = StorageKey(bot_id=h.app.bot.id, chat_id=person.id, user_id=person.id)
    return await h.app.dispatcher.storage.get_state(key)


async def ban(h: Harness, telegram_id: int) -> None:
    assert h.app is not None
    async with h.app.sessionmaker() as session, session.begin():
        repo = Repo(session)
        user = await repo.users.by_telegram_id(telegram_id)
        assert user is not None
        await repo.users.set_banned(user.id, True)


# ------------------------------------------------------------------------------------------------ main flows


async def test_register_by_own_contact_then_start_again(harness_all: Harness) -> None:
    h = harness_all
    anna = h.person(5001, "Anna", last_name="Petrova")
    await anna.start()
    greeting = await anna.wait_new()
    assert "resell" in greeting.content and "phone" in greeting.content
    assert greeting.keyboard == [[translate("reg-share-contact", "en")]]
    assert greeting.reply_markup["keyboard"][0][0]["request_contact"] is True
    assert await fsm_state(h, anna) == "Registration:contact"

    await anna.press(translate("reg-share-contact", "en"))  # Telegram sends the number without "+"
    await anna.send("/cancel")  # at once: it must see the registration done (one person's updates run in order)
    welcome = await anna.wait_new()
    assert (await anna.wait_new()).content == translate("cancel-nothing", "en")
    assert welcome.content == translate("reg-done", "en", name="Anna")
    assert anna.reply_keyboard == menu("en")
    user = await account(h, 5001)
    assert user is not None
    assert (user.phone_e164, user.full_name, user.first_name, user.language) == (
        "+79160005001", "Anna Petrova", "Anna", "en",
    )  # fmt: skip
    assert await fsm_state(h, anna) is None

    await anna.start()
    again = await anna.wait_new()
    assert again.content == translate("reg-welcome-back", "en", name="Anna")
    assert anna.reply_keyboard == menu("en")
    await anna.share_contact()  # a second share changes nothing either
    assert (await anna.wait_new()).content == translate("reg-already-registered", "en")
    await anna.expect_nothing()
    assert await account_count(h) == 1

    # the command menu was set at start-up, in both languages
    assert {"start", "profile", "help", "cancel"} <= {c["command"] for c in h.emu.commands_for(5001, "en")}
    for language, catalogue in (("ru", "ru"), ("de", "en"), (None, "en")):
        described = {c["command"]: c["description"] for c in h.emu.commands_for(5001, language)}
        assert described["profile"] == translate("command-profile", catalogue)


async def test_profile_rename_survives_a_restart(harness_all: Harness) -> None:
    h = harness_all
    boris = h.person(5002, "Boris", last_name="Ivanov")
    await h.register(boris)
    await boris.send("/profile")
    card = await boris.wait_new()
    assert "Boris Ivanov" in card.content
    assert "+7 *** *** 50 02" in card.content and "9160005002" not in card.content
    assert "Tickets listed: 0 · sold: 0 · bought: 0" in card.content
    assert f"Member since {h.clock.now():%B} {h.clock.now().day}, {h.clock.now().year}" in card.content

    await boris.press(translate("menu-profile", "en"))
    card = await boris.wait_new()
    assert "Boris Ivanov" in card.content
    await boris.click(card, translate("profile-edit-name", "en"))
    assert (await boris.wait_new()).content == translate("profile-ask-name", "en")

    await h.restart()
    await boris.send("B")
    assert (await boris.wait_new()).content == translate("profile-name-length", "en")
    await boris.send("  Boris   <b>Godunov</b>  ")
    assert (await boris.wait_new()).content == translate("profile-name-saved", "en")
    card = await boris.wait_new()
    assert "Name: Boris <b>Godunov</b>\n" in card.content  # shown as typed, not as markup
    user = await account(h, 5002)
    assert user is not None and user.full_name == "Boris <b>Godunov</b>"
    assert await fsm_state(h, boris) is None


async def test_cancel_leaves_the_name_step(harness_all: Harness) -> None:
    h = harness_all
    vera = h.person(5003, "Vera")
    await h.register(vera)
    await vera.send("/cancel")
    assert (await vera.wait_new()).content == translate("cancel-nothing", "en")
    await vera.send("/profile")
    await vera.click(await vera.wait_new(), translate("profile-edit-name", "en"))
    await vera.wait_new()
    await vera.send("/cancel")
    cancelled = await vera.wait_new()
    assert cancelled.content == translate("cancel-done", "en")
    assert vera.reply_keyboard == menu("en")
    assert await fsm_state(h, vera) is None
    await vera.send("Vera Something")
    assert (await vera.wait_new()).content == translate("fallback-unknown", "en")
    user = await account(h, 5003)
    assert user is not None and user.full_name == "Vera"


async def test_russian_for_ru_and_english_otherwise(harness_all: Harness) -> None:
    h = harness_all
    olga = h.person(5004, "Ольга", language="ru")
    await olga.start()
    greeting = await olga.wait_new()
    assert greeting.content.startswith("Привет!")
    assert greeting.keyboard == [[translate("reg-share-contact", "ru")]]
    await olga.send("+79161112233")
    assert (await olga.wait_new()).content == translate("reg-need-contact", "ru")
    await olga.press(translate("reg-share-contact", "ru"))
    assert (await olga.wait_new()).content == translate("reg-done", "ru", name="Ольга")
    assert olga.reply_keyboard == menu("ru")
    await olga.send("/help")
    assert (await olga.wait_new()).content.startswith("Спрос на стробоскоп")

    hans = h.person(5005, "Hans", language="de")
    await hans.start()
    assert (await hans.wait_new()).content.startswith("Hi!")
    hans.language_code = None  # some clients send no language at all
    await hans.send("/help")
    assert (await hans.wait_new()).content.startswith("Stroboscope resells")


# ------------------------------------------------------------------------------------------------ refusals


async def test_only_ones_own_contact_registers(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    gleb = h.person(5101, "Gleb")
    await gleb.start()
    await gleb.wait_new()
    for phone, owner in (("+79165550000", None), ("+79165550001", 5999), ("79160005101", None)):
        await gleb.share_contact(phone=phone, user_id=owner)
        refusal = await gleb.wait_new()
        assert refusal.content == translate("reg-not-own-contact", "en")
        assert refusal.keyboard == [[translate("reg-share-contact", "en")]]
    await gleb.send("my number is +7 916 000 51 01")
    assert (await gleb.wait_new()).content == translate("reg-need-contact", "en")
    await gleb.expect_nothing()
    assert await account_count(h) == 0
    assert await fsm_state(h, gleb) == "Registration:contact"
    await h.register(gleb)  # the button still works afterwards
    assert await account_count(h) == 1


async def test_a_phone_bound_to_another_account_is_refused(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    dina = h.person(5102, "Dina", phone="+79167770011")
    await h.register(dina)
    twin = h.person(5103, "Dina2", phone="+7 (916) 777-00-11")
    await twin.start()
    await twin.wait_new()
    await twin.press(translate("reg-share-contact", "en"))
    assert (await twin.wait_new()).content == translate("reg-phone-taken", "en")
    await twin.expect_nothing()
    assert await account(h, 5103) is None
    assert await account_count(h) == 1


async def test_nothing_works_before_registration(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    eva = h.person(5104, "Eva")
    register_first = translate("access-register-first", "en")
    for text in ("/profile", translate("menu-sell", "en"), translate("menu-profile", "en"), "hello", "/nonsense"):
        await eva.send(text)
        answer = await eva.wait_new()
        assert answer.content == register_first, text
        assert answer.keyboard == [[translate("reg-share-contact", "en")]]
    forged = await eva.click_raw("prof:rename")
    assert forged is not None and forged.text == register_first and forged.show_alert
    await eva.send("/help")
    assert (await eva.wait_new()).content == plain("help-text")
    await eva.send("/cancel")
    assert (await eva.wait_new()).content == translate("cancel-nothing", "en")
    await eva.expect_nothing()
    assert await account_count(h) == 0
    assert await fsm_state(h, eva) is None


async def test_a_banned_user_is_refused_everything(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    fedor = h.person(5105, "Fedor")
    await h.register(fedor)
    await fedor.send("/profile")
    card = await fedor.wait_new()
    await ban(h, 5105)
    banned = translate("access-banned", "en")
    for text in ("/start", "/profile", "/help", translate("menu-profile", "en"), "hi"):
        await fedor.send(text)
        answer = await fedor.wait_new()
        assert answer.content == banned, text
    assert fedor.reply_keyboard == []
    await fedor.share_contact()
    assert (await fedor.wait_new()).content == banned
    answer = await fedor.click(card, translate("profile-edit-name", "en"))
    assert answer is not None and answer.text == banned
    await fedor.expect_nothing()
    assert await fsm_state(h, fedor) is None
    user = await account(h, 5105)
    assert user is not None and user.is_banned and user.full_name == "Fedor"


@pytest.fixture
async def harness_tight(sqlite_backend: Backend, tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot with a small throttling budget: 4 at once, then one every 10 s."""
    async for harness in _harness(sqlite_backend, tmp_path, throttle_burst=4, throttle_rate=0.1)():
        yield harness


async def test_a_burst_beyond_the_budget_is_dropped_with_one_warning(harness_tight: Harness) -> None:
    h = harness_tight
    gosha = h.person(5106, "Gosha")
    for _ in range(12):
        await gosha.send("/help")
    await h.emu.wait_idle()
    texts = [m.content for m in gosha.messages]
    assert texts.count(plain("help-text")) == 4
    assert texts.count(translate("throttle-slow-down", "en")) == 1
    assert len(texts) == 5
    gosha.mark_read()
    h.clock.move(timedelta(seconds=10))  # the budget refills with time
    await gosha.send("/help")
    assert (await gosha.wait_new()).content == plain("help-text")


async def test_fsm_rows_are_cleaned_up(harness_sqlite: Harness) -> None:
    """A finished registration leaves no FSM row behind on the embedded default."""
    h = harness_sqlite
    ivan = h.person(5107, "Ivan")
    await h.register(ivan)
    assert h.app is not None
    async with h.app.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(FsmRecord))).scalar_one() == 0


async def test_the_name_step_takes_only_a_typed_name(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    lev = h.person(5108, "Lev")
    await h.register(lev)
    await lev.send("/profile")
    card = await lev.wait_new()
    await lev.click(card, translate("profile-edit-name", "en"))
    await lev.wait_new()
    await lev.send_photo(webp())
    assert (await lev.wait_new()).content == translate("profile-name-send-text", "en")
    for navigation in (translate("menu-help", "en"), "/nonsense"):
        await lev.send(navigation)  # a menu button or a command is never taken for the name
        assert (await lev.wait_new()).content != translate("profile-name-saved", "en")
    await lev.press(translate("menu-profile", "en"))  # the profile itself leaves the step
    assert "Name: Lev\n" in (await lev.wait_new()).content
    assert await fsm_state(h, lev) is None
    await lev.send("Lev Tolstoy")
    assert (await lev.wait_new()).content == translate("fallback-unknown", "en")
    await lev.expect_nothing()
    user = await account(h, 5108)
    assert user is not None and user.full_name == "Lev"


async def test_a_redelivered_contact_makes_no_second_account(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    mila = h.person(5109, "Mila")
    await h.register(mila)
    update = next(u for _, u in reversed(h.emu.updates) if "contact" in u.get("message", {}))
    h.emu.redeliver(update)
    assert (await mila.wait_new()).content == translate("reg-already-registered", "en")
    await mila.expect_nothing()
    assert await account_count(h) == 1


async def test_a_left_over_contact_step_lets_a_registered_person_go(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    nina = h.person(5110, "Nina")
    await nina.start()
    await nina.wait_new()
    assert h.app is not None
    async with h.app.sessionmaker() as session, session.begin():  # registered meanwhile, the step left behind
        share = accounts.ContactShare(5110, 5110, "79160005110", "Nina", None, None, "en")
        await accounts.register(Repo(session), share, h.clock.now())
    await nina.send("hello")
    answer = await nina.wait_new()
    assert answer.content == translate("fallback-unknown", "en") and nina.reply_keyboard == menu("en")
    assert await fsm_state(h, nina) is None
