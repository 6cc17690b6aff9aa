"""The bot's routers, one package per feature, built fresh for each dispatcher in the order it tries them. The
router modules are imported here, not by their packages: importing a feature's callbacks or keyboards never pulls
in its router."""

from __future__ import annotations

from aiogram import Router

from handlers import errors
from handlers.admin import claims_router as admin_claims
from handlers.admin import money_router as admin_money
from handlers.admin import router as admin
from handlers.alerts import router as alerts
from handlers.buy import router as buy
from handlers.common import fallback
from handlers.common import router as common
from handlers.events import router as events
from handlers.feed import router as feed
from handlers.my_tickets import router as my_tickets
from handlers.payments import router as payments
from handlers.profile import router as profile
from handlers.purchases import router as purchases
from handlers.sell import router as sell
from handlers.start import router as start
from handlers.talk import router as talk
from handlers.trust import router as trust


def feature_routers() -> list[Router]:
    # errors first: it sees what every router below raises. payments next: a payment is recorded whatever step its
    # payer is in; then common: /cancel and /help win over any wizard step; admin before the features so that its
    # commands are never taken for wizard input; fallback last.
    return [
        errors.create_router(),
        payments.create_router(),
        common.create_router(),
        admin.create_router(),
        admin_claims.create_claims_router(),
        start.create_router(),
        profile.create_router(),
        sell.create_router(),
        my_tickets.create_router(),
        admin_money.create_money_router(),
        feed.create_router(),
        buy.create_router(),
        events.create_router(),
        alerts.create_router(),
        purchases.create_router(),
        trust.create_router(),
        talk.create_router(),
        fallback.create_fallback_router(),
    ]
