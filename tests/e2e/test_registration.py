"""Registration, profile, help and cancel, as people use them, on every storage stack."""

from __future__ import annotations

from tests.e2e.conftest import Harness


async def test_register_then_start_again(harness_all: Harness) -> None:
    anna = harness_all.person(5001, "Anna")
    welcome = await harness_all.register(anna)
    assert "Anna" in welcome.content
    await anna.start()
    again = await anna.wait_new()
    assert "Anna" in again.content
    assert any("Profile" in button for row in anna.reply_keyboard for button in row)
