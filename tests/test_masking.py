"""Contacts typed into a chat are masked whatever their spelling; ordinary talk about a ticket is left alone."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from services.masking import MASK, mask_contacts

SEPARATORS = st.sampled_from(["", " ", "-", ".", "  ", " - "])
WORDS = st.sampled_from(["hi", "call me", "пишите", "row 5", "ok?", "тел", "number:", "", "\n"])


@st.composite
def phones(draw: st.DrawFn) -> tuple[str, str]:
    """A Russian mobile number as people type it, and its ten national digits."""
    digits = "9" + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9)))
    prefix = draw(st.sampled_from(["+7", "8", "7", "+7 ", "8 ", ""]))
    groups = draw(st.sampled_from([(3, 3, 2, 2), (3, 7), (1,) * 10, (10,), (3, 3, 4), (2, 2, 2, 2, 2)]))
    parts, at = [], 0
    for size in groups:
        parts.append(digits[at : at + size])
        at += size
    if draw(st.booleans()) and len(parts) > 1:
        parts[0] = f"({parts[0]})"
    return prefix + draw(SEPARATORS).join(parts), digits


def digits_of(text: str) -> str:
    return re.sub(r"\D", "", text)


@given(phones(), WORDS, WORDS)
def test_phone_numbers_are_masked(phone: tuple[str, str], before: str, after: str) -> None:
    typed, national = phone
    result = mask_contacts(f"{before} {typed} {after}")
    assert result.masked
    assert national not in digits_of(result.text)


LINKS = st.sampled_from(
    [
        "https://t.me/seller",
        "t.me/seller",
        "T.ME/seller",
        "telegram.me/joinchat/abc",
        "tg://resolve?domain=seller",
        "http://example.com/x?y=1",
        "www.avito.ru/item",
        "avito.ru",
        "my-shop.online/tickets",
        "example dot com",
        "avito . ru/item",
        "пример точка рф",
        "example (dot) com",
        "пример.рф",
        "seller@mail.ru",
        "seller at gmail dot com",
        "seller (at) yandex (dot) ru",
        "@seller_name",
        "@ seller_name",
    ]
)


@given(LINKS, WORDS, WORDS)
def test_links_usernames_and_emails_are_masked(link: str, before: str, after: str) -> None:
    result = mask_contacts(f"{before} {link} {after}")
    assert result.masked
    assert MASK in result.text
    core = re.sub(r"^\W+|https?://|www\.", "", link).split("/")[0].split(".")[0].split()[0]
    assert core.casefold() not in result.text.casefold().replace(before.casefold(), "").replace(after.casefold(), "")


def test_ordinary_talk_is_left_alone() -> None:
    for text in [
        "Is the seat next to the aisle? Row 5, seat 12.",
        "The show is on 12.12.2026 19:00, doors at 18:00",
        "I can pay 1800 RUB. Me too, actually.",
        "т.е. вход с 18:00, партер, ряд 7",
        "Hello. World",
    ]:
        assert mask_contacts(text).text == text
        assert not mask_contacts(text).masked
