"""gettext through aiogram's i18n, with message keys as msgids and one catalogue per feature:
`bot/locales/<lang>/<feature>.po`. The `.po` files are the source; they are compiled in memory at start-up."""

from __future__ import annotations

import gettext
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = ("en", "ru")


def language_for(language_code: str | None) -> str:
    """Russian for `ru`, English otherwise."""
    return "ru" if (language_code or "").lower().startswith("ru") else "en"


def read_catalog(language_dir: Path) -> Catalog:
    merged = Catalog(locale=language_dir.name)
    for po_file in sorted(language_dir.glob("*.po")):
        with po_file.open("rb") as fp:
            for message in read_po(fp, locale=language_dir.name):
                if message.id:
                    if message.id in merged:
                        raise RuntimeError(f"{po_file}: key {message.id!r} is defined twice")
                    merged[message.id] = message
    return merged


class CatalogI18n(I18n):
    @contextmanager
    def context(self) -> Iterator[I18n]:
        """aiogram's `gettext` looks the current instance up on `I18n` itself, and every subclass of its context
        mixin gets a context variable of its own: set the base class's."""
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for language_dir in sorted(self.path.iterdir()):
            if language_dir.is_dir():
                buffer = BytesIO()
                write_mo(buffer, read_catalog(language_dir))
                buffer.seek(0)
                translations[language_dir.name] = gettext.GNUTranslations(buffer)
        return translations

    def texts_for(self, key: str) -> frozenset[str]:
        """The text of a key in every language: reply buttons match whatever language drew them."""
        return frozenset(self.gettext(key, locale=language) for language in self.locales)


i18n = CatalogI18n(path=LOCALES_DIR, default_locale="en")


def texts_for(key: str) -> frozenset[str]:
    return i18n.texts_for(key)


def translate(key: str, language: str, **params: Any) -> str:
    """For code outside an update (scheduler, notifier): a text in the recipient's language."""
    text = i18n.gettext(key, locale=language)
    return text.format(**params) if params else text


class LocaleMiddleware(I18nMiddleware):
    """The sender's language for the update. aiogram's own `__call__`, with the two context variables set and reset
    in place (its two generator-based context managers and an awaited `get_locale` were ~7 us of every update)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data["i18n"], data["i18n_middleware"] = self.i18n, self
        current = I18n.set_current(self.i18n)  # what `I18n.context` and `use_locale` do
        locale = self.i18n.ctx_locale.set(_sender_language(data))
        try:
            return await handler(event, data)
        finally:
            self.i18n.ctx_locale.reset(locale)
            I18n.reset_current(current)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        return _sender_language(data)


def _sender_language(data: dict[str, Any]) -> str:
    from_user: User | None = data.get("event_from_user")
    return language_for(from_user.language_code if from_user else None)
