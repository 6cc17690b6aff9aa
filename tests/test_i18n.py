"""Every text key used in the code exists in English and Russian, with the same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES, LOCALES_DIR, read_catalog

ROOT = Path(__file__).resolve().parents[1]
KEY_CALL = re.compile(
    r"""\b(?:_|__|gettext|ngettext|lazy_gettext|texts_for|translate)\(\s*["']([a-z0-9][a-z0-9._-]*)["']"""
)
PLURAL_FORMS = {"en": 2, "ru": 3}  # one / other; one / few / many (1 билет, 2 билета, 5 билетов)


PLURAL_FORMS = {"en": 2, "ru": 3}  # one / other; one / few / many (1 билет, 2 билета, 5 билетов)


def _forms(string: str | tuple[str, ...]) -> tuple[str, ...]:
    return string if isinstance(string, tuple) else (string,)


def catalogs() -> dict[str, dict[str, str]]:
    """Every key's text; a plural key's forms joined by newlines."""
    return {
        lang: {
            (m.id[0] if isinstance(m.id, tuple) else m.id): "\n".join(_forms(m.string))
            for m in read_catalog(LOCALES_DIR / lang)
            if m.id
        }
        for lang in LANGUAGES
    }


def test_plural_keys_have_every_form() -> None:
    for lang in LANGUAGES:
        plurals = [m for m in read_catalog(LOCALES_DIR / lang) if isinstance(m.id, tuple)]
        assert plurals, lang
        for message in plurals:
            forms = _forms(message.string)
            assert len(forms) == PLURAL_FORMS[lang] and all(form.strip() for form in forms), (lang, message.id)


def keys_in_code() -> set[str]:
    keys: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            keys |= set(KEY_CALL.findall(path.read_text(encoding="utf-8")))
    return keys


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_languages_have_the_same_keys() -> None:
    found = catalogs()
    assert set(found["en"]) == set(found["ru"])


def test_every_key_used_in_code_is_translated() -> None:
    found = catalogs()
    missing = {lang: sorted(keys_in_code() - set(texts)) for lang, texts in found.items()}
    assert missing == {"en": [], "ru": []}


@pytest.mark.parametrize("key", sorted(catalogs()["en"]))
def test_translation_is_complete(key: str) -> None:
    found = catalogs()
    assert found["en"][key].strip() and found["ru"][key].strip(), f"{key} has an empty text"
    assert placeholders(found["en"][key]) == placeholders(found["ru"][key]), key
