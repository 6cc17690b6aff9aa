"""An emulator of the Telegram Bot API over HTTP, for end-to-end tests and the offline playground.

It speaks the real wire protocol (``{base}/bot{token}/{method}``, multipart or urlencoded or JSON bodies, files as
``attach://`` parts, ``{base}/file/bot{token}/{path}`` downloads) with the real response shapes and error texts, so
the bot under test runs unchanged: point aiogram at ``TelegramAPIServer.from_base(emu.base_url)``.

This module puts the parts together: ``state`` (what Telegram holds), ``transport`` (HTTP and the envelope),
``validation``, ``methods/*`` (one module per method family), ``webhooks``, ``faults`` and ``inspection`` (what tests
read). People are simulated by :class:`sandbox.users.SimulatedUser` (``emu.user(...)``).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Callable
from typing import Any, Literal

from aiohttp import web

from .errors import ApiError
from .faults import Faults
from .inspection import Inspection
from .limits import FloodLimits
from .methods import Handler
from .methods.bot import BotMethods
from .methods.callbacks import CallbackMethods
from .methods.commands import CommandMethods
from .methods.media import MediaMethods
from .methods.messages import MessageMethods
from .methods.payments import PaymentMethods
from .methods.updates import UpdateMethods
from .params import ApiCall, UploadedFile
from .state import BotState, StoredMessage
from .transport import ApiServer
from .users import SimulatedUser
from .webhooks import WebhookSender

__all__ = ["ApiCall", "ApiError", "BotApiEmulator", "StoredMessage", "UploadedFile"]


class BotApiEmulator(Inspection):
    """The Telegram Bot API for one or more bots, on 127.0.0.1.

    >>> emu = BotApiEmulator()
    >>> emu.add_bot("123456:TEST")           # doctest: +SKIP
    >>> await emu.start()                     # doctest: +SKIP
    >>> bot = Bot("123456:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url)))
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        bot_username: str = "stroboscope_test_bot",
        bot_first_name: str = "Stroboscope",
        pre_checkout_timeout: float = 10.0,
        callback_query_timeout: float = 15.0,
        refund_service_messages: bool = True,
        currency_limits: dict[str, tuple[int, int]] | None = None,
    ) -> None:
        super().__init__(
            pre_checkout_timeout=pre_checkout_timeout,
            callback_query_timeout=callback_query_timeout,
            refund_service_messages=refund_service_messages,
            currency_limits=currency_limits,
            default_username=bot_username,
            default_first_name=bot_first_name,
        )
        self._handlers: dict[str, tuple[str, Handler]] = {}
        self.server = ApiServer(self, self._handlers)
        self.webhooks = WebhookSender(self, self.server)
        self.faults = Faults()
        self.fail_next = self.faults.fail_next  # the test helpers that inject failures are the Faults' own
        self.on_call = self.faults.on_call
        self.flood = FloodLimits()
        self.server.guards += [self.faults.check, self.flood.check]
        for family in (
            BotMethods(self),
            UpdateMethods(self, self.webhooks),
            CommandMethods(self),
            MessageMethods(self),
            MediaMethods(self),
            CallbackMethods(self),
            PaymentMethods(self),
        ):
            self._handlers.update(family.handlers())
        if token:
            self.add_bot(token, username=bot_username, first_name=bot_first_name)

    # ------------------------------------------------------------------------------------------------ lifecycle

    @property
    def app(self) -> web.Application:
        return self.server.app

    @property
    def _extra_routes(self) -> list[Callable[[web.Application], None]]:
        return self.server.extra_routes

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> None:
        await self.server.start(port, host)

    async def stop(self) -> None:
        self._closing = True
        for bot in self.bots.values():
            bot.signal.notify()
            if bot.webhook_task:
                bot.webhook_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await bot.webhook_task
        for query in self._queries.values():
            if not query.future.done():
                query.future.cancel()
        await self.webhooks.close()
        await self.server.stop()

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
        if exc[0] is None:
            self.flood.assert_kept()

    @property
    def port(self) -> int:
        if self.server.port is None:
            raise RuntimeError("the emulator is not started")
        return self.server.port

    @property
    def base_url(self) -> str:
        return f"http://{self.server.host}:{self.port}"

    @property
    def webhook_targets(self) -> list[str] | None:
        """URLs that webhook POSTs go to in turn instead of the bot's own (a load balancer in front of instances)."""
        return self.webhooks.targets

    @webhook_targets.setter
    def webhook_targets(self, urls: list[str] | None) -> None:
        self.webhooks.targets = list(urls) if urls else None

    # ------------------------------------------------------------------------------------------------ people

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        phone: str | None = None,
        *,
        bot: str | int | None = None,
        is_premium: bool = False,
    ) -> SimulatedUser:
        """A person in a private chat with the bot (the same object for the same id)."""
        state = self._bot(bot)
        key = (state.id, user_id)
        existing = self._users.get(key)
        if isinstance(existing, SimulatedUser):  # the state holds people as a protocol; they are all SimulatedUsers
            return existing
        person = SimulatedUser(
            self,
            state,
            user_id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            phone=phone,
            is_premium=is_premium,
        )
        self._users[key] = person
        return person

    def users(self, bot: str | int | None = None) -> list[SimulatedUser]:
        state = self._bot(bot)
        return [u for (bot_id, _), u in self._users.items() if bot_id == state.id and isinstance(u, SimulatedUser)]

    # ------------------------------------------------------------------------------------------------ test helpers

    def flood_limits(self, mode: Literal["off", "strict", "enforce"]) -> None:
        """Count Telegram's flood limits: ``strict`` fails the test at teardown, ``enforce`` answers 429."""
        self.flood.mode = mode

    def redeliver(self, update: dict[str, Any], bot: str | int | None = None) -> dict[str, Any]:
        """Deliver the same update content again (as Telegram may), under a new update_id."""
        state = self._bot(bot)
        kinds = [k for k in update if k != "update_id"]
        if len(kinds) != 1:
            raise ValueError("not an update")
        kind = kinds[0]
        posted = self._post_update(state, kind, copy.deepcopy(update[kind]))
        if posted is None:
            raise RuntimeError(f"{kind} updates are filtered out by the bot's allowed_updates")
        return posted

    def post_update(self, kind: str, payload: dict[str, Any], bot: str | int | None = None) -> dict[str, Any] | None:
        """Post any raw update (e.g. my_chat_member) to the bot."""
        return self._post_update(self._bot(bot), kind, payload)

    async def call(self, method: str, bot: str | int | BotState | None = None, **params: Any) -> Any:
        """Run a Bot API method in-process as the bot would (handy in tests; recorded like any call).

        Raises ApiError on an error response.
        """
        body, _ = await self.server.run(self._bot(bot), method, params)
        if not body["ok"]:
            raise ApiError(body["error_code"], body["description"], body.get("parameters"))
        return body["result"]
