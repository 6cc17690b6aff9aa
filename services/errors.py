"""The one domain error: a refusal the user is told about, carried as a message key (`code`) and its parameters.

Services raise it; the handlers' errors router renders it in the user's language. Codes are the gettext message ids
of the refusal texts, so a code without a text in every catalogue fails the i18n test."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal: `code` names the text, `params` fill it in. Raising it changes nothing (callers roll back)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, **{self.params!r})"
