"""bot.routing: a router's own filter never turns away an update one of its handlers takes, and turns away the
ones none of them takes."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Bot, Dispatcher, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Chat, Contact, Message, User

from bot.routing import MessageRoute, PressRoute, skip_routers
from handlers import feature_routers
from handlers.shared.menu import MENU_TEXTS

BOT = Bot("42:TEST")
SENDER = User(id=7, is_bot=False, first_name="Ann")


def dispatcher() -> Dispatcher:
    dispatcher = Dispatcher()
    dispatcher.include_routers(*feature_routers())
    skip_routers(dispatcher)
    return dispatcher


def route(router: Router, kind: type) -> object | None:
    observer = router.message if kind is MessageRoute else router.callback_query
    return next((f.callback for f in observer._handler.filters or () if isinstance(f.callback, kind)), None)


def message(text: str | None = None, **fields: object) -> Message:
    return Message(
        message_id=1, date=datetime(2026, 1, 1, tzinfo=UTC), chat=Chat(id=7, type="private"), from_user=SENDER,
        text=text, **fields,
    )  # fmt: skip


def every_state(routers: list[Router]) -> set[str | None]:
    states: set[str | None] = {None, "Unknown:state"}
    for router in routers:
        for handler in router.message.handlers:
            for each in handler.filters or ():
                if isinstance(each.callback, State):
                    states.add(each.callback.state)
    return states | {state for router in routers if (r := route(router, MessageRoute)) for state in r.states}  # type: ignore[attr-defined]


def every_text(routers: list[Router]) -> list[str]:
    commands = {
        str(command)
        for router in routers
        for handler in router.message.handlers
        for each in handler.filters or ()
        if isinstance(each.callback, Command)
        for command in each.callback.commands
        if isinstance(command, str)
    }
    texts = [f"/{command}" for command in commands] + [f"/{command.upper()} words" for command in commands]
    return [*texts, *MENU_TEXTS, "/unknown", "Гамлет", "hello /feed"]


async def test_a_router_filter_lets_through_whatever_its_handlers_take() -> None:
    routers = list(dispatcher().chain_tail)
    messages = [message(text) for text in every_text(routers)]
    messages.append(message(contact=Contact(phone_number="+10000000000", first_name="Ann", user_id=7)))
    checked = 0
    for router in routers:
        message_route = route(router, MessageRoute)
        if message_route is None:
            continue
        for state in every_state(routers):
            for each in messages:
                takes = await message_route(each, raw_state=state)  # type: ignore[operator]
                for handler in router.message.handlers:
                    try:
                        matched, _ = await handler.check(each, raw_state=state, bot=BOT, event_from_user=SENDER)
                    except TypeError:  # a filter that needs more than this test hands it (the chat's relay)
                        continue
                    checked += matched
                    assert takes or not matched, (router.name, handler.callback.__name__, each.text, state)
    assert checked > 50


async def test_a_press_skips_the_routers_of_other_prefixes() -> None:
    routers = list(dispatcher().chain_tail)
    prefixes = {
        each.callback.callback_data.__prefix__: router.name
        for router in routers
        for handler in router.callback_query.handlers
        for each in handler.filters or ()
        if isinstance(each.callback, CallbackQueryFilter)
    }
    for router in routers:
        press_route = route(router, PressRoute)
        if router.name == "handlers.common.fallback":
            assert press_route is None  # it answers any press, the forged ones too
            continue
        if not router.callback_query.handlers:
            continue
        for prefix in [*prefixes, "forged"]:
            query = CallbackQuery(id="1", from_user=SENDER, chat_instance="c", data=f"{prefix}:1:2")
            takes = await press_route(query)  # type: ignore[misc]
            ours = any(
                isinstance(each.callback, CallbackQueryFilter) and each.callback.callback_data.__prefix__ == prefix
                for handler in router.callback_query.handlers
                for each in handler.filters or ()
            )
            assert takes == ours, (router.name, prefix)


def test_a_router_with_a_handler_for_anything_gets_no_filter() -> None:
    fallback = next(r for r in dispatcher().chain_tail if r.name == "handlers.common.fallback")
    assert route(fallback, MessageRoute) is None
    admin = next(r for r in dispatcher().chain_tail if r.name == "handlers.admin.router")
    assert route(admin, MessageRoute) is None  # /ticket_<id> is a pattern: not read here
