"""Routers, one per feature, in the order the dispatcher tries them."""

from __future__ import annotations

from aiogram import Router

from handlers import common, fallback, profile, registration


def feature_routers() -> list[Router]:
    # common first: /cancel and /help must win over any wizard step; fallback last.
    return [common.router, registration.router, profile.router, fallback.router]
