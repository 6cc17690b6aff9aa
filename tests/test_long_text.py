"""Telegram's 4,096-character limit: lists are cut to fit with a count of the rest, never sent too long."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import i18n
from db.models import EventType, Payout, Ticket, User
from db.repositories.payouts import PayoutLine
from handlers.admin import money_router as admin_money
from handlers.shared.long_text import MESSAGE_LIMIT, fit_blocks, units

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def more(count: int) -> str:
    return f"…and {count} more"


@given(st.text(max_size=300), st.lists(st.text(max_size=900), max_size=40), st.integers(200, MESSAGE_LIMIT))
def test_what_fits_is_kept_in_order_and_the_rest_counted(head: str, blocks: list[str], limit: int) -> None:
    text, kept = fit_blocks(head, blocks, more, limit=limit)
    assert text.startswith("\n\n".join([head, *blocks[:kept]]))
    if kept < len(blocks):
        assert text.endswith(more(len(blocks) - kept))
        assert units(text) <= limit or kept == 0  # only a head too long for the limit on its own goes over
    else:
        assert text == "\n\n".join([head, *blocks])


def test_emoji_count_twice() -> None:
    assert units("⭐️") == 2 and units("🎫") == 2 and units("Ж") == 1


def test_twenty_long_payouts_fit_one_message_with_a_button_each_shown() -> None:
    lines = []
    for n in range(1, 21):
        seller = User(id=n, telegram_id=1000 + n, phone_e164=f"+7916000{n:04d}", full_name="Ж" * 128, first_name="Ж")
        ticket = Ticket(
            id=n, event_name="🎫" * 120, event_type=EventType.CONCERT, city_id=524901, city_name="Moscow",
            city_tz="Europe/Moscow", venue="V" * 120, event_at=NOW, price=2000, currency="RUB",
        )  # fmt: skip
        lines.append(PayoutLine(Payout(id=n, amount=120_000, currency="RUB"), seller, ticket))
    with i18n.context(), i18n.use_locale("en"):
        text, markup = admin_money._payouts_view(lines, "en")
    shown = sum(len(row) for row in markup.inline_keyboard)
    assert units(text) <= MESSAGE_LIMIT and 0 < shown < 20
    assert text.endswith(f"{20 - shown} more")
