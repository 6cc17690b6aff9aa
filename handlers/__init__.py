"""Routers, one per feature, in the order the dispatcher tries them."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    admin,
    admin_money,
    buy,
    common,
    fallback,
    feed,
    my_tickets,
    payments,
    profile,
    purchases,
    registration,
    sell,
)


def feature_routers() -> list[Router]:
    # payments first: a payment is recorded whatever step its payer is in; then common: /cancel and /help win over
    # any wizard step; admin before the features so that its commands are never taken for wizard input; fallback last.
    return [
        payments.router,
        common.router,
        admin.router,
        registration.router,
        profile.router,
        sell.router,
        my_tickets.router,
        admin_money.router,
        feed.router,
        buy.router,
        purchases.router,
        fallback.router,
    ]
