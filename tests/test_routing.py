"""bot.routing: a router's own filter never turns away an update one of its handlers takes, and turns away the
ones none of them takes; RoutedDispatcher's walk calls and answers what aiogram's own does."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Chat, Contact, Message, TelegramObject, Update, User

from bot.routing import MessageRoute, PressRoute, Route, RoutedDispatcher, passes_by, skip_routers
from handlers import feature_routers
from handlers.shared.menu import MENU_TEXTS

BOT = Bot("42:TEST")
R = TypeVar("R", bound=Route)
SENDER = User(id=7, is_bot=False, first_name="Ann")


def dispatcher() -> Dispatcher:
    dispatcher = Dispatcher()
    dispatcher.include_routers(*feature_routers())
    skip_routers(dispatcher)
    return dispatcher


def route(router: Router, kind: type[R]) -> R | None:
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
    return states | {state for router in routers if (r := route(router, MessageRoute)) for state in r.states}


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
    return [*texts, *MENU_TEXTS, "/unknown", "Гамлет", "hello /feed", "/ticket_12", "/ticket_x", "/TICKET_12"]


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
                takes = message_route.admits(each, state)
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
        assert press_route is not None
        for prefix in [*prefixes, "forged"]:
            query = CallbackQuery(id="1", from_user=SENDER, chat_instance="c", data=f"{prefix}:1:2")
            takes = press_route.admits(query, None)
            ours = any(
                isinstance(each.callback, CallbackQueryFilter) and each.callback.callback_data.__prefix__ == prefix
                for handler in router.callback_query.handlers
                for each in handler.filters or ()
            )
            assert takes == ours, (router.name, prefix)


def test_a_router_with_a_handler_for_anything_gets_no_filter() -> None:
    fallback = next(r for r in dispatcher().chain_tail if r.name == "handlers.common.fallback")
    assert route(fallback, MessageRoute) is None
    assert route(fallback, PressRoute) is None


async def test_a_command_pattern_is_matched_as_aiogram_matches_it() -> None:
    admin = next(r for r in dispatcher().chain_tail if r.name == "handlers.admin.router")
    admin_route = route(admin, MessageRoute)
    assert isinstance(admin_route, MessageRoute)
    assert admin_route.admits(message("/ticket_12"), None)
    assert admin_route.admits(message("/ticket_12@bot"), None)
    assert not admin_route.admits(message("/ticket_x"), None)
    assert not admin_route.admits(message("/feed"), None)


def test_what_no_router_takes_passes_by_all_but_the_fallback_and_the_unread_ones() -> None:
    routers = dispatcher().sub_routers
    query = CallbackQuery(id="1", from_user=SENDER, chat_instance="c", data="forged:1:2")
    entered = [r.name for r in routers if not passes_by(r, "callback_query", query, None)]
    assert entered == ["handlers.common.fallback"]  # it tells the presser the button is stale
    entered = [r.name for r in routers if not passes_by(r, "message", message("/unknown"), "Unknown:state")]
    # talk's replies take any text (whether it replies to a relayed message is not read here); the fallback answers
    # that it does not know the command
    assert entered == ["handlers.talk.router", "handlers.common.fallback"]


class Item(CallbackData, prefix="item"):
    id: int


class Other(CallbackData, prefix="other"):
    id: int


class Form(StatesGroup):
    name = State()


def walked_routers(log: list[str]) -> list[Router]:
    """Routers of every kind RoutedDispatcher tells apart; each handler, middleware and root filter logs its call."""

    def handler(name: str) -> Callable[[TelegramObject], Awaitable[str]]:
        async def record(event: TelegramObject) -> str:
            log.append(name)
            return name

        return record

    async def watching(call: Callable[..., Awaitable[Any]], event: TelegramObject, data: dict[str, Any]) -> Any:
        log.append("watched: middleware")
        return await call(event, data)

    async def picky_filter(message: Message) -> bool:
        log.append("picky: filter")
        return message.text == "picky"

    presses = Router(name="presses")  # a route: Item's prefix
    presses.callback_query.register(handler("presses.item"), Item.filter(F.id == 1))
    commands = Router(name="commands")  # a route: /go, the state Form.name
    commands.message.register(handler("commands.go"), Command("go"))
    commands.message.register(handler("commands.name"), Form.name)
    watched = Router(name="watched")  # an outer middleware: entered whatever comes
    watched.callback_query.outer_middleware(watching)
    watched.callback_query.register(handler("watched.other"), Other.filter())
    watched.message.register(handler("watched.name"), Form.name)  # comes after commands' own
    parent, child = Router(name="parent"), Router(name="child")  # routers under it: entered
    child.message.register(handler("child.stop"), Command("stop"))
    child.callback_query.register(handler("child.item"), Item.filter())
    parent.include_router(child)
    picky = Router(name="picky")  # a root filter not read here: entered, the filter called
    picky.message.filter(picky_filter)
    picky.message.register(handler("picky.any"))
    loose = Router(name="loose")  # a handler filter not read here: no route
    loose.message.register(handler("loose.x"), F.text.startswith("x"))
    fallback = Router(name="fallback")
    fallback.message.register(handler("fallback.message"))
    fallback.callback_query.register(handler("fallback.press"))
    return [presses, commands, watched, parent, picky, loose, fallback]


MESSAGES = ["/go", "/GO now", "/stop", "hello", "picky", "xray", "/other"]
PRESSES = [Item(id=1).pack(), Item(id=2).pack(), Other(id=1).pack(), "forged:1", "item", "other"]


async def walk(kind: type[Dispatcher], *, routes: bool) -> list[tuple[str, object, list[str]]]:
    """What each update of MESSAGES (in no state and in Form.name) and PRESSES was answered, and what was called."""
    log: list[str] = []
    walker = kind()
    walker.include_routers(*walked_routers(log))
    if routes:
        skip_routers(walker)
    ids = itertools.count(1)
    seen = []
    for state in (None, Form.name):
        await walker.fsm.get_context(BOT, chat_id=7, user_id=7).set_state(state)
        for text in MESSAGES:
            answer = await walker.feed_update(BOT, Update(update_id=next(ids), message=message(text)))
            seen.append((f"{text} in {state and state.state}", answer, log.copy()))
            log.clear()
    for data in PRESSES:
        query = CallbackQuery(id="1", from_user=SENDER, chat_instance="c", data=data, message=message("card"))
        answer = await walker.feed_update(BOT, Update(update_id=next(ids), callback_query=query))
        seen.append((data, answer, log.copy()))
        log.clear()
    return seen


@pytest.mark.parametrize("routes", [True, False])
async def test_the_routed_walk_calls_and_answers_what_aiograms_does(routes: bool) -> None:
    seen = await walk(RoutedDispatcher, routes=routes)
    assert seen == await walk(Dispatcher, routes=routes)
    assert seen == await walk(Dispatcher, routes=not routes)  # the routes never change an answer either
    answers = {update: answer for update, answer, _ in seen}
    assert answers["/go in Form:name"] == "commands.go"  # commands and states in handler order
    assert answers["/GO now in None"] == "fallback.message"  # Command("go") minds the case
    assert answers["hello in Form:name"] == "commands.name"  # the first router of those in the state
    assert answers["/stop in None"] == "child.stop"
    assert answers["forged:1"] == answers["item"] == "fallback.press"
    assert answers[Item(id=2).pack()] == "child.item"
    assert UNHANDLED not in answers.values()
