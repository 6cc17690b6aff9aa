"""Every text key used in the code exists in English and Russian, with the same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES, LOCALES_DIR, read_catalog

ROOT = Path(__file__).resolve().parents[1]
KEY_CALL = re.compile(r"""\b(?:_|__|gettext|lazy_gettext|texts_for|translate)\(\s*["']([a-z0-9][a-z0-9._-]*)["']""")


def catalogs() -> dict[str, dict[str, str]]:
    return {lang: {_key(m.id): _text(m.string) for m in read_catalog(LOCALES_DIR / lang) if m.id} for lang in LANGUAGES}


def _key(msgid: str | tuple[str, ...]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]  # a plural entry by its singular id


def _text(msgstr: str | tuple[str, ...]) -> str:
    return msgstr if isinstance(msgstr, str) else "\n".join(msgstr)  # every plural form, for the checks below


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
