"""Middlewares: database session, current user, access, throttling (i18n is in bot/i18n.py)."""
