"""The Bot API's error responses: an HTTP status equal to ``error_code`` and Telegram's own description text."""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "bad", "forbidden"]


class ApiError(Exception):
    """An error response: HTTP status = error_code, body {"ok": false, "error_code", "description"[, "parameters"]}."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def forbidden(description: str) -> ApiError:
    return ApiError(403, f"Forbidden: {description}")
