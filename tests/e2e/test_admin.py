"""The admin's commands through the real bot: the /admin figures and command list, /outdated pages, a ticket's card,
blocking it with a reason (the seller is told, the feed drops it), bans; and anyone else trying them gets exactly
the unknown-command answer."""

from __future__ import annotations

from datetime import timedelta

from db.models import TicketStatus
from db.repo import Repo
from handlers.admin.callbacks import AdminCD
from sandbox.users import SimulatedUser
from tests.e2e.conftest import ADMIN_ID, Harness
from tests.e2e.market import list_tickets
from tests.factories import make_ticket

EXPIRED = TicketStatus.EXPIRED


def command_names(h: Harness, user_id: int, language: str = "en") -> list[str]:
    return [command["command"] for command in h.emu.commands_for(user_id, language)]


async def reply_to(h: Harness, person: SimulatedUser, text: str) -> str:
    h.clock.move(timedelta(seconds=1))  # the throttle's budget refills on the injected clock
    await person.send(text)
    return (await person.wait_new()).content


async def test_an_admin_moderates_a_ticket_and_bans_its_seller(harness: Harness) -> None:
    h = harness
    boss = await h.admin()
    seller = h.person(7601, "Sveta", username="sveta_sells")
    await h.register(seller)
    await h.emu.wait_idle()  # the account is committed after the welcome goes out
    (ticket,) = await list_tickets(h, seller, event_name="Сплин")

    menu = await reply_to(h, boss, "/admin")
    assert "Users: 2" in menu and "On sale: 1" in menu and "/disputes" in menu and "/payouts" in menu
    assert {"admin", "outdated", "ticket", "ban", "unban", "disputes", "feed"} <= set(command_names(h, ADMIN_ID))
    assert command_names(h, seller.id) == [
        "start",
        "feed",
        "sell",
        "my",
        "purchases",
        "chats",
        "alerts",
        "profile",
        "help",
        "cancel",
    ]
    assert command_names(h, seller.id, "ru") == command_names(h, seller.id)  # the same commands, in Russian
    assert h.emu.commands_for(seller.id, "ru")[0]["description"] == "Главное меню"

    await boss.send(f"/ticket {ticket.id}")
    card = await boss.wait_text(f"Ticket #{ticket.id}")
    assert "on sale" in card.content and "Sveta" in card.content and "@sveta_sells" in card.content
    assert "+7 *** ***" in card.content and seller.phone not in card.content  # masked
    await boss.click(card, "Block")
    await boss.wait_text("Why block")
    await boss.send("Fake <b>barcode</b>")
    await boss.wait_text("is blocked")
    blocked_card = await boss.wait_text(f"Ticket #{ticket.id}")
    assert "Blocked: Fake <b>barcode</b>" in blocked_card.content  # shown as typed, not as markup
    assert f"admin:{ADMIN_ID}" in blocked_card.content and "ticket_block" in blocked_card.content
    told = await seller.wait_text("took your listing off sale")
    assert "Сплин" in told.content and "Fake <b>barcode</b>" in told.content
    assert "Сплин" not in await reply_to(h, boss, "/feed")
    await boss.click(blocked_card, "Unblock")  # an old card: its button still asks for a reason first
    await boss.wait_text("Why unblock")
    await boss.send("/cancel")
    await boss.wait_text("Cancelled")

    assert "Banned" in await reply_to(h, boss, "/ban @sveta_sells selling fakes")
    assert "blocked" in await reply_to(h, seller, "/profile")  # refused everything
    assert "already banned" in await reply_to(h, boss, f"/ban {seller.id} again")
    assert "Unbanned" in await reply_to(h, boss, f"/unban {seller.phone} appeal")
    await boss.send(f"/ticket {ticket.id}")
    final = await boss.wait_text(f"Ticket #{ticket.id}")
    assert "user_ban" in final.content and "selling fakes" in final.content and "user_unban" in final.content
    assert "Admins can't be banned" in await reply_to(h, boss, f"/ban {ADMIN_ID} test")
    assert "No account" in await reply_to(h, boss, "/ban @nobody_at_all spam")
    assert "Usage" in await reply_to(h, boss, "/ban @sveta_sells")


async def test_outdated_tickets_page_by_page(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    boss = await h.admin()
    seller = h.person(7611, "Sveta")
    await h.register(seller)
    await h.emu.wait_idle()
    assert h.app is not None
    now = h.clock.now()
    async with h.app.sessionmaker() as session, session.begin():
        repo = Repo(session)
        account = await repo.users.by_telegram_id(seller.id)
        assert account is not None
        expired = [
            await make_ticket(
                repo, account, now, event_name=f"Show {n:02d}", event_at=now - timedelta(days=n), status=EXPIRED
            )
            for n in range(1, 13)
        ]
    await boss.send("/outdated")
    first = await boss.wait_text("Expired tickets")
    assert "page 1" in first.content and "Show 01" in first.content and "Show 10" in first.content
    assert "Show 11" not in first.content and f"/ticket_{expired[0].id}" in first.content
    await boss.click(first, "Earlier events")
    second = await boss.wait_message(lambda m: m.message_id == first.message_id and "page 2" in m.content)
    assert "Show 11" in second.content and "Show 12" in second.content and "Show 10" not in second.content
    assert await reply_to(h, boss, "/outdated 2") == second.content
    await boss.click(second, "Later events")
    again = await boss.wait_message(lambda m: m.message_id == first.message_id and "page 1" in m.content)
    assert again.content == first.content
    assert "no such page" in await reply_to(h, boss, "/outdated 3")
    assert "is a number" in await reply_to(h, boss, "/outdated two")
    await boss.send(f"/ticket_{expired[11].id}")
    assert "Show 12" in (await boss.wait_text(f"Ticket #{expired[11].id}")).content
    assert "No ticket" in await reply_to(h, boss, "/ticket 999999")
    assert "Which ticket" in await reply_to(h, boss, "/ticket")


async def test_anyone_else_gets_the_unknown_command_answer(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    anna, stranger = h.person(7621, "Anna"), h.person(7622, "Stas")
    await h.register(anna)
    await h.emu.wait_idle()
    commands = ["/admin", "/outdated", "/outdated 2", "/ticket 1", "/ticket_1", "/ban 7621 spam", "/unban 7621",
                "/disputes", "/payouts", "/refunds"]  # fmt: skip
    unknown = await reply_to(h, anna, "/nonsense")
    for command in commands:
        assert await reply_to(h, anna, command) == unknown, command
    await stranger.start()
    await stranger.wait_new()
    unregistered = await reply_to(h, stranger, "/nonsense")
    for command in commands[:3]:
        assert await reply_to(h, stranger, command) == unregistered, command
    stale = await anna.click_raw("zzz:1")
    for data in (AdminCD(action="stats").pack(), AdminCD(action="block", ticket=1).pack(), "adm:out:2:1:1:o"):
        forged = await anna.click_raw(data)
        assert forged is not None and stale is not None and forged.text == stale.text, data
    await anna.expect_nothing()
    assert "admin" not in command_names(h, anna.id)
